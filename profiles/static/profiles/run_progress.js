// Polls the run's progress JSON and updates the bar; without JS the page's meta refresh does the same.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  var bar = box.querySelector(".progress-bar");
  var label = document.getElementById("run-status");
  function tick() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        bar.style.width = state.percent + "%";
        bar.setAttribute("aria-valuenow", state.percent);
        bar.textContent = state.percent + "%";
        label.textContent = state.status_label;
        if (state.finished) { window.location.reload(); } else { window.setTimeout(tick, 1500); }
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  window.setTimeout(tick, 1000);
})();
