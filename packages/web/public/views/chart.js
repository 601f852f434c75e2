// Cost charts with Chart.js (served from its npm package, loaded on first use as a classic script).

let loading;
/** window.Chart, loading the library once. */
function chartLibrary() {
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/console/vendor/chart.umd.min.js";
    script.onload = () => resolve(window.Chart);
    script.onerror = () => reject(new Error("Could not load the chart library"));
    document.head.append(script);
  });
  return loading;
}

const charts = new Map();

/** Draws (or updates in place) the chart `id` of a /costs report: bars per group, or a line per day. */
async function draw(canvas, id, report) {
  const Chart = await chartLibrary();
  const byDay = report.groupBy === "day";
  const labels = report.items.map((i) => i[report.groupBy] ?? "(none)");
  const data = report.items.map((i) => Number(i.costUsd));
  const title = byDay ? "Cost per day (USD)" : `Cost by ${report.groupBy === "org" ? "team" : report.groupBy} (USD)`;
  const existing = charts.get(id);
  if (existing?.canvas === canvas) {
    existing.data.labels = labels;
    existing.data.datasets[0].data = data;
    existing.options.plugins.title.text = title;
    existing.update("none");
    return;
  }
  existing?.destroy();
  charts.set(
    id,
    new Chart(canvas, {
      type: byDay ? "line" : "bar",
      data: { labels, datasets: [{ label: "USD", data, backgroundColor: "#1976d2", borderColor: "#1976d2" }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false }, title: { display: true, text: title } },
        scales: { y: { beginAtZero: true } },
      },
    }),
  );
}

/** A canvas element, drawn once it is in the page; its label reads the figures for screen readers. */
export function costChart(id, report) {
  const canvas = document.getElementById(`chart-${id}`) ?? Object.assign(document.createElement("canvas"), { id: `chart-${id}` });
  canvas.setAttribute("role", "img");
  canvas.setAttribute(
    "aria-label",
    report.items.map((i) => `${i[report.groupBy] ?? "(none)"}: $${i.costUsd}`).join(", ") || "No costs in this range",
  );
  queueMicrotask(
    () => void draw(canvas, id, report).catch(() => canvas.replaceWith(document.createTextNode("The chart could not be drawn."))),
  );
  return canvas;
}
