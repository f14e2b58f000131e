// Session-logging page: add and remove formset rows (preparations, components, injections, side effects)
// without a reload, and show each preparation's strengths, what is injected from it and the session's total
// volume as they are typed. The server computes them again and refuses an overdrawn preparation.
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

  // The preparations a row can belong to, in the page's order: saved ones ("s<pk>") and new ones ("n<index>").
  function preparationKeys() {
    const select = form.querySelector("[data-formset='components'] [data-formset-rows] [data-role=preparation]") ||
      form.querySelector("[data-role=preparation]");
    const keys = select ? Array.from(select.options).map((option) => option.value).filter(Boolean) : [];
    return keys.length ? keys : [""];
  }

  function preparationOf(row) {
    const select = row.querySelector("[data-role=preparation]");
    if (select && select.value) return select.value;
    const keys = preparationKeys();
    return keys.length === 1 ? keys[0] : "";
  }

  function strengthsText(mix) {
    if (!mix.total) return "0 mL · dextrose –% · no anaesthetic";
    const agents = Object.keys(mix.agents).sort();
    const parts = [`${mix.total.toFixed(2)} mL`, `dextrose ${(mix.glucose / mix.total).toFixed(2)}%`];
    if (agents.length) agents.forEach((name) => parts.push(`${name} ${(mix.agents[name] / mix.total).toFixed(3)}%`));
    else parts.push("no anaesthetic");
    return parts.join(" · ");
  }

  function optionTitle(key) {
    const select = form.querySelector("[data-role=preparation]");
    const option = select && Array.from(select.options).find((o) => o.value === key);
    return option ? option.textContent : "Preparation";
  }

  // Strengths per preparation (the rule of courses.session_services.preparation_strengths): Σ volume ×
  // stock % / total volume per agent, dextrose counting every component's glucose, anaesthetics kept apart.
  function updateSummary() {
    const mixes = {};
    const mixOf = (key) => (mixes[key] = mixes[key] || { total: 0, glucose: 0, agents: {}, injected: 0 });
    const add = (key, facts, volume) => {
      const mix = mixOf(key);
      mix.total += volume;
      if (!facts) return;
      mix.glucose += volume * (parseFloat(facts.glucose) || 0);
      if (facts.type === "anaesthetic") {
        mix.agents[facts.name] = (mix.agents[facts.name] || 0) + volume * parseFloat(facts.percent);
      }
    };
    savedRows("[data-saved-component]").forEach((cell) => {
      add(cell.dataset.preparation, cell.dataset, number(cell.dataset.volume));
    });
    liveRows("components").forEach((row) => {
      const lot = row.querySelector("[data-role=lot]");
      const volume = row.querySelector("[data-role=component-volume]");
      if (lot && volume && lot.value) add(preparationOf(row), lots[lot.value], number(volume.value));
    });

    let injected = 0;
    savedRows("[data-saved-injection]").forEach((cell) => {
      injected += number(cell.dataset.volume);
      if (cell.dataset.preparation) mixOf(cell.dataset.preparation).injected += number(cell.dataset.volume);
    });
    liveRows("injections").forEach((row) => {
      const volume = row.querySelector("[data-role=injection-volume]");
      if (!volume) return;
      injected += number(volume.value);
      mixOf(preparationOf(row)).injected += number(volume.value);
    });

    const keys = preparationKeys().filter((key) => key === "" || !key.startsWith("n") || liveKey(key));
    const lines = keys.map((key) => {
      const mix = mixOf(key);
      let text = strengthsText(mix);
      if (mix.injected > mix.total + 1e-9) {
        text += ` · ${mix.injected.toFixed(2)} mL injected: more than drawn up`;
      }
      return { key, text };
    });
    lines.forEach(({ key, text }) => {
      const row = form.querySelector(`[data-preparation-row][data-key="${key}"]`);
      if (row) row.querySelector("[data-preparation-output]").textContent = text;
    });
    const summary = form.querySelector("[data-preparation-summary]");
    if (summary) {
      summary.textContent = lines.length === 1
        ? lines[0].text
        : lines.map(({ key, text }) => `${optionTitle(key)}: ${text}`).join(" — ");
    }
    const output = form.querySelector("[data-injection-total]");
    if (output) output.textContent = `Session total ${injected.toFixed(2)} mL`;
  }

  function liveKey(key) {
    const row = form.querySelector(`[data-preparation-row][data-key="${key}"]`);
    return row && !row.hidden;
  }

  // Every preparation select (rows and row templates) offers the same preparations.
  function preparationSelects() {
    const selects = Array.from(form.querySelectorAll("[data-role=preparation]"));
    form.querySelectorAll("template[data-formset-template]").forEach((template) => {
      selects.push(...template.content.querySelectorAll("[data-role=preparation]"));
    });
    return selects;
  }

  function savedCount() {
    return form.querySelectorAll("[data-saved-preparation]").length;
  }

  function titleOf(key, label) {
    const number = savedCount() + parseInt(key.slice(1), 10) + 1;
    return `Preparation ${number}` + (label ? ` · ${label}` : "");
  }

  function addPreparationOption(row) {
    const key = row.dataset.key;
    const title = titleOf(key, "");
    row.querySelector("[data-preparation-title]").textContent = title;
    preparationSelects().forEach((select) => {
      if (Array.from(select.options).some((option) => option.value === key)) return;
      const option = document.createElement("option");
      option.value = key;
      option.textContent = title;
      select.appendChild(option);
    });
  }

  function removePreparationOption(row) {
    preparationSelects().forEach((select) => {
      const option = Array.from(select.options).find((o) => o.value === row.dataset.key);
      if (!option) return;
      const wasChosen = select.value === row.dataset.key;
      option.remove();
      if (wasChosen && select.options.length) select.value = select.options[0].value;
    });
  }

  function renamePreparation(row) {
    const label = row.querySelector("[data-role=preparation-label]").value.trim();
    const title = titleOf(row.dataset.key, label);
    row.querySelector("[data-preparation-title]").textContent = titleOf(row.dataset.key, "");
    preparationSelects().forEach((select) => {
      const option = Array.from(select.options).find((o) => o.value === row.dataset.key);
      if (option) option.textContent = title;
    });
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

  function addRow(container, { focus = true } = {}) {
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
        ["laterality", "volume_ml", "needle_gauge", "preparation"].forEach((name) => {
          const from = previous.querySelector(`[name$='-${name}']`);
          const to = row.querySelector(`[name$='-${name}']`);
          if (from && to && from.value) to.value = from.value;
        });
      }
    }
    container.querySelector("[data-formset-rows]").appendChild(row);
    total.value = String(index + 1);
    if (row.hasAttribute("data-preparation-row")) addPreparationOption(row);
    updateSpinalLevel(row);
    const first = row.querySelector("select, input:not([type=hidden]):not([type=checkbox])");
    if (first && focus) first.focus();
    updateSummary();
  }

  // A patient's check-in report added as a side-effect row: the row is filled for the practitioner to
  // check, and the report leaves the waiting list until the row is removed again.
  function addReportRow(link) {
    const container = form.querySelector("[data-formset='side_effects']");
    const fill = JSON.parse(link.dataset.reportFill);
    addRow(container);
    const row = liveRows("side_effects").pop();
    Object.entries(fill).forEach(([name, value]) => {
      const field = row.querySelector(`[name$='-${name}']`);
      if (field && value !== null) field.value = String(value);
    });
    const item = link.closest("[data-patient-report]");
    const note = row.querySelector("[data-role=report-note]");
    if (note) {
      note.textContent = "From the patient's check-in: " + item.querySelector("[data-report-text]").textContent;
      note.hidden = false;
    }
    item.hidden = true;
  }

  function removeRow(row) {
    // New rows are dropped through the formset's DELETE box, so the row numbering stays intact.
    const deleteBox = row.querySelector("input[name$='-DELETE']");
    if (deleteBox) deleteBox.checked = true;
    row.hidden = true;
    const report = row.querySelector("input[name$='-patient_report']");
    if (report && report.value) {
      const item = document.querySelector(`[data-patient-report='${report.value}']`);
      if (item) item.hidden = false;
    }
    if (row.hasAttribute("data-preparation-row")) removePreparationOption(row);
    updateSummary();
  }

  form.addEventListener("click", (event) => {
    const reportLink = event.target.closest("[data-report-fill]");
    if (reportLink) {
      event.preventDefault();
      addReportRow(reportLink);
      return;
    }
    const add = event.target.closest("[data-formset-add]");
    if (add) {
      addRow(add.closest("[data-formset]"));
      return;
    }
    const remove = event.target.closest("[data-formset-remove]");
    if (remove) removeRow(remove.closest("[data-formset-row]"));
  });

  form.addEventListener("input", (event) => {
    if (event.target.matches("[data-role=preparation-label]")) {
      renamePreparation(event.target.closest("[data-preparation-row]"));
    }
    updateSummary();
  });
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-role=site]")) updateSpinalLevel(event.target.closest("[data-formset-row]"));
    updateSummary();
  });

  // A list the server sent empty starts with one blank row, made from its row template.
  form.querySelectorAll("[data-start-row]").forEach((container) => {
    if (!liveRows(container.dataset.formset).length) addRow(container, { focus: false });
  });
  form.querySelectorAll("[data-formset='injections'] [data-formset-row]").forEach(updateSpinalLevel);
  form.querySelectorAll("[data-preparation-row]").forEach(renamePreparation);
  updateSummary();
})();
