// Draws the report charts from the JSON the page embeds; the tables next to them work without it.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  const data = JSON.parse(document.getElementById("orders-chart-data").textContent);
  const num = (values) => values.map(Number);
  // A fresh object per chart: Chart.js writes resolved scales into the options it is given, and a
  // shared object would hand the line chart's category x-axis to the horizontal bar chart.
  const options = () => ({ responsive: true, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } });
  new Chart(document.getElementById("chart-month"), {
    type: "line",
    data: { labels: data.months, datasets: [{
      data: num(data.revenue), tension: 0.25, fill: true,
      // The running month is not over: its segment is dashed and its point hollow (its label says so too).
      segment: { borderDash: (ctx) => (ctx.p1DataIndex === data.partialIndex ? [6, 4] : undefined) },
      pointStyle: (ctx) => (ctx.dataIndex === data.partialIndex ? "rectRot" : "circle"),
    }] },
    options: options(),
  });
  new Chart(document.getElementById("chart-category"), {
    type: "bar", data: { labels: data.categories, datasets: [{ data: num(data.categoryRevenue) }] },
    options: { responsive: true, plugins: { legend: { display: false } }, indexAxis: "y", scales: { x: { beginAtZero: true } } },
  });
  new Chart(document.getElementById("chart-sla"), {
    type: "bar",
    data: { labels: data.priorities, datasets: [
      { label: data.onTimeLabel, data: data.onTime, backgroundColor: "#198754" },
      { label: data.breachedLabel, data: data.breached, backgroundColor: "#dc3545" },
    ] },
    options: { responsive: true, scales: { x: { stacked: true }, y: { stacked: true } } },
  });
  new Chart(document.getElementById("chart-pipeline"), {
    type: "bar", data: { labels: data.stages, datasets: [{ data: num(data.pipeline) }] }, options: options(),
  });
})();
