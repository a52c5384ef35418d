// Draws the dashboard charts from the JSON the page embeds; the tables next to them work without JS.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : [];
  }
  function bar(canvasId, rows, color, horizontal) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r[0]; }),
        datasets: [{ data: rows.map(function (r) { return r[1]; }), backgroundColor: color }]
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        responsive: true,
        animation: false
      }
    });
  }
  bar("chart-segments", data("data-segments"), "#0d6efd", true);
  bar("chart-clv", data("data-clv"), "#198754", false);
  bar("chart-churn", data("data-churn"), "#dc3545", false);
})();
