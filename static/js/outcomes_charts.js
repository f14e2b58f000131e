// Draws each outcomes chart from its JSON endpoint (canvas[data-chart-url]); the numbers are also in the table below it.
(function () {
  "use strict";
  var PALETTE = ["#0d6efd", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#6c757d"];

  function colour(index, alpha) {
    var hex = PALETTE[index % PALETTE.length];
    var r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
    return "rgba(" + r + "," + g + "," + b + "," + alpha + ")";
  }

  // The first line is "All conditions": drawn dark and thicker so it never shares a condition's colour.
  function lineColour(index, alpha) {
    return index === 0 ? "rgba(33,37,41," + alpha + ")" : colour(index - 1, alpha);
  }

  function lineDatasets(spec) {
    var datasets = [];
    spec.datasets.forEach(function (set, index) {
      // The spread band: a lower and an upper line filled between them, drawn behind the mean.
      if (set.band_low && set.band_high) {
        datasets.push({ label: set.label + " −1 SD", data: set.band_low, borderWidth: 0, pointRadius: 0,
          fill: false, spanGaps: true, backgroundColor: lineColour(index, 0.12), isBand: true });
        datasets.push({ label: set.label + " +1 SD", data: set.band_high, borderWidth: 0, pointRadius: 0,
          fill: "-1", spanGaps: true, backgroundColor: lineColour(index, 0.12), isBand: true });
      }
      // A Kaplan–Meier curve (spec.stepped): {x, y} points on a linear time axis, a step after each event.
      datasets.push({ label: set.label, data: set.data, borderColor: lineColour(index, 1), backgroundColor: lineColour(index, 1),
        spanGaps: true, tension: spec.stepped ? 0 : 0.2, stepped: spec.stepped ? "after" : false, pointRadius: spec.stepped ? 0 : 3,
        fill: false, hidden: !!set.hidden, borderWidth: index === 0 ? 3 : 2 });
    });
    return datasets;
  }

  function barDatasets(spec) {
    return spec.datasets.map(function (set, index) {
      return { label: set.label, data: set.data, backgroundColor: colour(index, 0.8) };
    });
  }

  function draw(canvas, spec) {
    var isLine = spec.type === "line";
    var scales = {
      y: { beginAtZero: true, title: { display: !!spec.y_title, text: spec.y_title || "" } },
      x: { title: { display: !!spec.x_title, text: spec.x_title || "" } }
    };
    if (spec.y_max) { scales.y.max = spec.y_max; }
    if (spec.stepped) { scales.x.type = "linear"; scales.x.beginAtZero = true; }
    if (spec.horizontal) {
      scales = { x: { beginAtZero: true, title: { display: true, text: spec.y_title || "" } }, y: {} };
    }
    new window.Chart(canvas, {
      type: isLine ? "line" : "bar",
      data: { labels: spec.labels, datasets: isLine ? lineDatasets(spec) : barDatasets(spec) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: scales,
        plugins: {
          legend: { labels: { filter: function (item, data) { return !data.datasets[item.datasetIndex].isBand; } } }
        }
      }
    });
  }

  function load(canvas) {
    fetch(canvas.dataset.chartUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (spec) { draw(canvas, spec); })
      .catch(function () {
        var note = document.createElement("p");
        note.className = "text-body-secondary small";
        note.textContent = "The chart could not be loaded; the table below has the same numbers.";
        canvas.parentNode.replaceWith(note);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart-url]").forEach(load);
  });
})();
