// Session page body chart (templates/courses/_body_chart.html). Tapping a site adds an injection row with
// that site and the side tapped, through the page's own "Add injection" button (session_formsets.js), and
// the chart follows the rows: whatever adds, changes or removes a row, the chart shows what stands.
(function () {
  "use strict";

  const chart = document.querySelector("[data-body-chart]");
  const form = chart && chart.closest("form");
  const formset = form && form.querySelector("[data-formset='injections']");
  if (!formset) return;

  // A tall region (the lumbar spine) still fits a tablet's screen with room for its rows.
  const MAX_HEIGHT = 420;
  const toggle = chart.querySelector("[data-chart-toggle]");
  const showing = chart.querySelector("[data-chart-showing]");
  const status = chart.querySelector("[data-chart-status]");
  let region = chart.dataset.region || "";
  let lastRegion = region;
  const boxes = {}; // view -> region -> "x y width height"
  const regionLabels = {};

  function button(className, data, label, icon) {
    const node = document.createElement("button");
    node.type = "button";
    node.className = className;
    node.title = label;
    Object.assign(node.dataset, data);
    if (icon) {
      const glyph = document.createElement("i");
      glyph.className = `bi ${icon}`;
      glyph.setAttribute("aria-hidden", "true");
      node.appendChild(glyph);
    }
    const name = document.createElement("span");
    name.className = "visually-hidden";
    name.textContent = label;
    node.appendChild(name);
    return node;
  }

  // The sites and the regions' zoom buttons, from the catalogue (courses.sites.body_chart).
  JSON.parse(document.getElementById("body-chart-sites").textContent).forEach((view) => {
    const canvas = chart.querySelector(`[data-chart-view="${view.name}"] [data-chart-canvas]`);
    boxes[view.name] = {};
    view.markers.forEach((marker) => {
      const node = button(
        `body-chart__site${marker.previous ? " is-previous" : ""}`,
        { chartSite: marker.site, laterality: marker.laterality, x: marker.x, y: marker.y },
        marker.label
      );
      node.setAttribute("aria-pressed", "false");
      canvas.appendChild(node);
    });
    view.regions.forEach((zone) => {
      boxes[view.name][zone.code] = zone.box;
      regionLabels[zone.code] = zone.label;
      canvas.appendChild(
        button(
          "body-chart__zoom",
          { chartZoom: zone.code, x: zone.x, y: zone.y },
          `Zoom to ${zone.label} (${view.label.toLowerCase()})`,
          "bi-zoom-in"
        )
      );
    });
  });

  function box(text) {
    const [x, y, w, h] = text.split(" ").map(Number);
    return { x, y, w, h };
  }

  function regionLabel(code) {
    return regionLabels[code] || "";
  }

  function draw() {
    chart.classList.toggle("is-whole", !region);
    chart.querySelectorAll("[data-chart-view]").forEach((view) => {
      const text = region ? boxes[view.dataset.chartView][region] : chart.dataset.fullBox;
      view.hidden = !text;
      if (!text) return;
      const frame = box(text);
      const canvas = view.querySelector("[data-chart-canvas]");
      canvas.querySelector("svg").setAttribute("viewBox", text);
      canvas.style.aspectRatio = `${frame.w} / ${frame.h}`;
      canvas.style.maxWidth = `${Math.round((MAX_HEIGHT * frame.w) / frame.h)}px`;
      const place = (node) => {
        const left = (Number(node.dataset.x) - frame.x) / frame.w;
        const top = (Number(node.dataset.y) - frame.y) / frame.h;
        node.style.left = `${left * 100}%`;
        node.style.top = `${top * 100}%`;
        // A site on the very edge of the frame would be cut in half: it shows in its own region's frame.
        return left >= 0.03 && left <= 0.97 && top >= 0.03 && top <= 0.97;
      };
      // Zoomed: the sites in the frame. Whole body: one zoom button per region, no sites.
      view.querySelectorAll("[data-chart-site]").forEach((marker) => {
        marker.hidden = !region || !place(marker);
      });
      view.querySelectorAll("[data-chart-zoom]").forEach((zoom) => {
        zoom.hidden = Boolean(region) || !place(zoom);
      });
    });
    showing.textContent = region ? `· ${regionLabel(region)}` : "· whole body";
    if (toggle) {
      toggle.hidden = !lastRegion;
      toggle.setAttribute("aria-pressed", region ? "false" : "true");
    }
  }

  function liveRows() {
    return Array.from(formset.querySelectorAll("[data-formset-row]")).filter((row) => !row.hidden);
  }
  const siteOf = (row) => row.querySelector("[data-role=site]");
  const sideOf = (row) => row.querySelector("select[name$='-laterality']");

  function chosen() {
    const keys = new Set();
    const add = (site, side) => {
      if (!site) return;
      // A bilateral row is both sides.
      (side === "bilateral" ? ["left", "right"] : [side]).forEach((one) => keys.add(`${site}|${one}`));
    };
    liveRows().forEach((row) => {
      if (siteOf(row) && sideOf(row)) add(siteOf(row).value, sideOf(row).value);
    });
    form.querySelectorAll("[data-saved-injection][data-site]").forEach((cell) => {
      const voidBox = cell.closest("tr") && cell.closest("tr").querySelector("input[type=checkbox]");
      if (!(voidBox && voidBox.checked)) add(cell.dataset.site, cell.dataset.laterality);
    });
    return keys;
  }

  function sync() {
    const keys = chosen();
    chart.querySelectorAll("[data-chart-site]").forEach((marker) => {
      const key = `${marker.dataset.chartSite}|${marker.dataset.laterality}`;
      marker.setAttribute("aria-pressed", keys.has(key) ? "true" : "false");
    });
  }

  function say(text) {
    status.textContent = text;
  }

  function setValue(select, value) {
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function choose(marker) {
    const site = marker.dataset.chartSite;
    const side = marker.dataset.laterality;
    const name = marker.textContent.trim();
    const rows = liveRows();
    const own = rows
      .slice()
      .reverse()
      .find((row) => siteOf(row) && siteOf(row).value === site && sideOf(row).value === side);
    if (own) {
      own.querySelector("[data-formset-remove]").click();
      say(`Removed ${name}.`);
    } else if (marker.getAttribute("aria-pressed") === "true") {
      say(`${name} is already in this treatment: change or void its row below.`);
    } else {
      let row = rows.find((candidate) => siteOf(candidate) && !siteOf(candidate).value);
      if (!row) {
        // The add button moves focus to the new row; the practitioner stays on the chart.
        const { scrollX, scrollY } = window;
        formset.querySelector("[data-formset-add]").click();
        row = liveRows().pop();
        window.scrollTo(scrollX, scrollY);
      }
      setValue(siteOf(row), site);
      setValue(sideOf(row), side);
      marker.focus({ preventScroll: true });
      say(`Added ${name}: injection row ${liveRows().indexOf(row) + 1}.`);
    }
    sync();
  }

  chart.addEventListener("click", (event) => {
    const marker = event.target.closest("[data-chart-site]");
    if (marker) {
      choose(marker);
      return;
    }
    const zoom = event.target.closest("[data-chart-zoom]");
    if (zoom) {
      region = lastRegion = zoom.dataset.chartZoom;
      draw();
      const first = chart.querySelector("[data-chart-site]:not([hidden])");
      if (first) first.focus();
      say(`Showing ${regionLabel(region)}.`);
      return;
    }
    if (event.target.closest("[data-chart-toggle]")) {
      region = region ? "" : lastRegion;
      draw();
      say(region ? `Showing ${regionLabel(region)}.` : "Showing the whole body: choose a region.");
    }
  });

  form.addEventListener("change", sync);
  new MutationObserver(sync).observe(formset, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["hidden"],
  });

  chart.hidden = false;
  draw();
  sync();
})();
