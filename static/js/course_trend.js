// Course page: draws the pain-trend chart from the course's JSON endpoint (data-url on the canvas).
// The same numbers are in the table under the chart, so nothing is lost without JavaScript.
(function () {
  "use strict";
  const canvas = document.getElementById("pain-trend");
  if (!canvas || typeof Chart === "undefined") return;
  // Sized here rather than in a style attribute: the Content-Security-Policy forbids inline styles.
  canvas.parentElement.style.height = "280px";

  function draw(data) {
    const labels = ["Baseline"].concat(data.points.map((p) => `${p.label} (${p.date})`));
    const scores = [data.baseline].concat(data.points.map((p) => p.nrs));
    const flat = (value) => labels.map(() => value);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          {
            label: "Pain NRS",
            data: scores,
            borderColor: "#0d6efd",
            backgroundColor: "#0d6efd",
            pointStyle: ["circle"].concat(data.points.map((p) => (p.kind === "session" ? "circle" : "rectRot"))),
            pointRadius: 5,
            tension: 0.2,
          },
          {
            label: `Baseline (${data.baseline})`,
            data: flat(data.baseline),
            borderColor: "#6c757d",
            borderDash: [6, 4],
            pointRadius: 0,
          },
          {
            label: `MCID line (baseline − ${data.mcid})`,
            data: flat(data.mcid_line),
            borderColor: "#198754",
            borderDash: [2, 3],
            pointRadius: 0,
          },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          y: { min: 0, max: 10, title: { display: true, text: "Pain NRS (0–10, lower is better)" } },
        },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  fetch(canvas.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then(draw)
    .catch(() => {
      canvas.replaceWith(Object.assign(document.createElement("p"), {
        className: "text-body-secondary",
        textContent: "The chart could not be loaded; the numbers are in the table below.",
      }));
    });
})();
