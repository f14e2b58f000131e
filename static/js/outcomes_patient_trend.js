// A patient's pain NRS (left axis) and instrument scores (right axis) across all their courses.
(function () {
  "use strict";
  var PALETTE = ["#0d6efd", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997"];

  function fillTable(table, rows) {
    var body = table.querySelector("tbody");
    body.textContent = "";
    if (!rows.length) {
      var empty = body.insertRow();
      var cell = empty.insertCell();
      cell.colSpan = 5;
      cell.textContent = "No scores recorded yet.";
      return;
    }
    rows.forEach(function (row) {
      var tr = body.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = row.date;
      tr.appendChild(th);
      [row.course, row.measure, String(row.score), row.source].forEach(function (value, index) {
        var td = tr.insertCell();
        td.textContent = value;
        if (index === 2) { td.className = "text-end"; }
      });
    });
  }

  function draw(canvas, data) {
    var hasInstrument = data.datasets.some(function (set) { return set.axis === "instrument"; });
    var datasets = data.datasets.map(function (set, index) {
      return {
        label: set.label + (set.axis === "instrument" ? (set.higher_is_better ? " (higher is better)" : " (higher is worse)") : ""),
        data: set.points,
        yAxisID: set.axis === "instrument" ? "instrument" : "pain",
        borderColor: PALETTE[index % PALETTE.length],
        backgroundColor: PALETTE[index % PALETTE.length],
        borderDash: set.axis === "instrument" ? [6, 4] : [],
        tension: 0.2
      };
    });
    var scales = { pain: { position: "left", min: 0, max: 10, title: { display: true, text: "Pain NRS (0–10)" } } };
    if (hasInstrument) {
      scales.instrument = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "Instrument score" } };
    }
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, scales: scales }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-patient-trend-url]").forEach(function (canvas) {
      var table = document.getElementById(canvas.dataset.tableTarget);
      fetch(canvas.dataset.patientTrendUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(function (data) {
          if (table) { fillTable(table, data.rows); }
          if (window.Chart && data.datasets.length) { draw(canvas, data); }
        })
        .catch(function () {
          if (table) { table.querySelector("tbody").textContent = "The scores could not be loaded."; }
        });
    });
  });
})();
