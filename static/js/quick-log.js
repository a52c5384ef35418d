// Quick logging on the customer page, in place: the forms work without this script (POST, redirect
// back); with it, a form is sent in the background (Accept: application/json), the latest interactions
// and follow-ups are swapped in, the form is cleared and closed, and the outcome is announced.
(function () {
  "use strict";
  document.querySelectorAll("[data-quick-log]").forEach(function (box) {
    var status = box.querySelector(".quick-log-status");
    var latest = box.parentElement.querySelector(".interaction-latest");
    box.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button");
        if (button) button.disabled = true;
        form.querySelectorAll(".is-invalid").forEach(function (field) {
          field.classList.remove("is-invalid");
          field.removeAttribute("aria-invalid");
        });
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (response) { return response.json(); })
          .then(function (answer) {
            status.textContent = answer.message;
            status.className = "quick-log-status small mb-1 " + (answer.ok ? "text-success" : "text-danger");
            if (answer.ok) {
              if (latest && answer.html) latest.innerHTML = answer.html;
              form.reset();
              form.closest("details").open = false;
              return;
            }
            // The form's own fields are "log-<channel>-<name>" (the CSRF token comes first and has none).
            var prefix = form.querySelector("[name^='log-']").name.split("-").slice(0, 2).join("-");
            Object.keys(answer.errors || {}).forEach(function (name) {
              var field = form.querySelector('[name="' + prefix + "-" + name + '"]');
              if (field) {
                field.classList.add("is-invalid");
                field.setAttribute("aria-invalid", "true");
              }
            });
            var first = form.querySelector(".is-invalid");
            if (first) first.focus();
          })
          .catch(function () { form.submit(); })
          .finally(function () { if (button) button.disabled = false; });
      });
    });
  });
})();
