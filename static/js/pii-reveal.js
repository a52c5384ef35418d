// "Reveal" next to a masked personal value (issue 13): without this script the link opens the reveal
// page, which asks for the reason; with it, the reason is asked here, the value is fetched
// (POST, Accept: application/json) and swapped in place of the masked one. Every reveal is audited.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-pii-reveal]") : null;
    if (!link) return;
    event.preventDefault();
    var reason = window.prompt(link.dataset.prompt || "");
    if (reason === null) return;
    reason = reason.trim();
    if (!reason) return;
    var body = new FormData();
    body.append("field", link.dataset.field);
    body.append("reason", reason);
    body.append("csrfmiddlewaretoken", link.dataset.csrf);
    fetch(link.dataset.url, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json", "X-CSRFToken": link.dataset.csrf },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        var box = link.closest(".pii-value");
        if (answer.ok && box) {
          var value = document.createElement("span");
          value.className = "pii-revealed";
          value.textContent = answer.value;
          box.replaceChildren(value);
          return;
        }
        window.alert(answer.message || "");
      })
      .catch(function () { window.location.href = link.href; });
  });
})();
