// Session-logging page: add and remove formset rows without a reload, and show the preparation's
// final concentrations and the session's total volume as they are typed. The server computes them again.
(function () {
  "use strict";

  const form = document.querySelector("[data-session-log]");
  if (!form) return;

  function readJson(id, fallback) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : fallback;
  }
  const lots = readJson("session-lot-data", {});
  const spineSites = new Set(readJson("session-spine-sites", []).map(String));

  function number(value) {
    const parsed = parseFloat(value);
    return Number.isFinite(parsed) && parsed > 0 ? parsed : 0;
  }

  function liveRows(kind) {
    return Array.from(form.querySelectorAll(`[data-formset="${kind}"] [data-formset-row]`)).filter(
      (row) => !row.hidden
    );
  }

  function savedRows(selector) {
    return Array.from(form.querySelectorAll(selector)).filter((cell) => {
      const voidBox = cell.closest("tr") && cell.closest("tr").querySelector("input[type=checkbox]");
      return !(voidBox && voidBox.checked);
    });
  }

  function updateSummary() {
    let total = 0;
    let dextrose = 0;
    let anaesthetic = 0;
    const add = (lotId, volume) => {
      const lot = lots[lotId];
      total += volume;
      if (!lot) return;
      if (lot.type === "dextrose") dextrose += volume * parseFloat(lot.percent);
      if (lot.type === "anaesthetic") anaesthetic += volume * parseFloat(lot.percent);
    };
    savedRows("[data-saved-component]").forEach((cell) => {
      const data = cell.dataset;
      total += number(data.volume);
      if (data.type === "dextrose") dextrose += number(data.volume) * parseFloat(data.percent);
      if (data.type === "anaesthetic") anaesthetic += number(data.volume) * parseFloat(data.percent);
    });
    liveRows("components").forEach((row) => {
      const lot = row.querySelector("[data-role=lot]");
      const volume = row.querySelector("[data-role=component-volume]");
      if (lot && volume && lot.value) add(lot.value, number(volume.value));
    });
    const summary = form.querySelector("[data-preparation-summary]");
    if (summary) {
      summary.textContent = total
        ? `${total.toFixed(2)} mL · dextrose ${(dextrose / total).toFixed(2)}% · anaesthetic ${(anaesthetic / total).toFixed(3)}%`
        : "0 mL · dextrose –% · anaesthetic –%";
    }

    let injected = 0;
    savedRows("[data-saved-injection]").forEach((cell) => {
      injected += number(cell.dataset.volume);
    });
    liveRows("injections").forEach((row) => {
      const volume = row.querySelector("[data-role=injection-volume]");
      if (volume) injected += number(volume.value);
    });
    const output = form.querySelector("[data-injection-total]");
    if (output) output.textContent = `Session total ${injected.toFixed(2)} mL`;
  }

  function updateSpinalLevel(row) {
    const site = row.querySelector("[data-role=site]");
    const level = row.querySelector("[data-role=spinal-level]");
    if (!site || !level) return;
    const needed = spineSites.has(site.value);
    level.required = needed;
    level.setAttribute("aria-required", needed ? "true" : "false");
    level.placeholder = needed ? "Required, e.g. L4–L5" : "Spine sites only";
  }

  function addRow(container) {
    const total = container.querySelector("input[name$='-TOTAL_FORMS']");
    const template = container.querySelector("template[data-formset-template]");
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const row = holder.firstElementChild;
    // Repeat injections usually share side, needle and volume: start from the previous row's values.
    if (container.hasAttribute("data-copy-last") || container.querySelector("[data-copy-last]")) {
      const previous = liveRows(container.dataset.formset).pop();
      if (previous) {
        ["laterality", "volume_ml", "needle_gauge"].forEach((name) => {
          const from = previous.querySelector(`[name$='-${name}']`);
          const to = row.querySelector(`[name$='-${name}']`);
          if (from && to && from.value) to.value = from.value;
        });
      }
    }
    container.querySelector("[data-formset-rows]").appendChild(row);
    total.value = String(index + 1);
    updateSpinalLevel(row);
    const first = row.querySelector("select, input:not([type=hidden]):not([type=checkbox])");
    if (first) first.focus();
    updateSummary();
  }

  function removeRow(row) {
    // New rows are dropped through the formset's DELETE box, so the row numbering stays intact.
    const deleteBox = row.querySelector("input[name$='-DELETE']");
    if (deleteBox) deleteBox.checked = true;
    row.hidden = true;
    updateSummary();
  }

  form.addEventListener("click", (event) => {
    const add = event.target.closest("[data-formset-add]");
    if (add) {
      addRow(add.closest("[data-formset]"));
      return;
    }
    const remove = event.target.closest("[data-formset-remove]");
    if (remove) removeRow(remove.closest("[data-formset-row]"));
  });

  form.addEventListener("input", updateSummary);
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-role=site]")) updateSpinalLevel(event.target.closest("[data-formset-row]"));
    updateSummary();
  });

  form.querySelectorAll("[data-formset='injections'] [data-formset-row]").forEach(updateSpinalLevel);
  updateSummary();
})();
