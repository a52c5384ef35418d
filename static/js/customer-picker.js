// The customer field as a combobox (WAI-ARIA 1.2 "list autocomplete"): typing asks the server for the
// matching customers the user may see and lists them; arrows move, Enter or a click chooses, Escape
// closes. Choosing fills the text box with "Name · phone · external id" and the hidden id. Without this
// script the same field is a search-then-choose step on submit, so the form never depends on it.
(function () {
  "use strict";
  if (window.crmCustomerPicker) { return; }
  window.crmCustomerPicker = true;

  const DELAY_MS = 200;

  function enhance(input) {
    const hidden = input.form && input.form.querySelector("input[name='" + input.dataset.pickerId + "']");
    if (!hidden) { return; }
    const picker = input.closest(".customer-picker");
    const text = {  // translated in the widget's template
      one: picker.dataset.foundOne,
      many: picker.dataset.foundMany,
      none: picker.dataset.foundNone,
    };
    const listbox = document.createElement("ul");
    listbox.id = input.id + "_listbox";
    listbox.className = "customer-picker-listbox list-group shadow-sm";
    listbox.setAttribute("role", "listbox");
    const label = input.labels && input.labels[0];
    if (label) {  // the label's own text, without the "required" asterisk
      listbox.setAttribute("aria-label", label.firstChild ? label.firstChild.textContent.trim() : "");
    }
    listbox.hidden = true;
    const status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", listbox);
    listbox.insertAdjacentElement("afterend", status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    let results = [];
    let active = -1;
    let timer = null;
    let request = null;

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const options = listbox.querySelectorAll("[role=option]");
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("active", i === index);
      });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      const choice = results[index];
      if (!choice) { return; }
      input.value = choice.label;
      hidden.value = choice.id;
      close();
      status.textContent = choice.label;
      // The no-JavaScript step's radio list, if shown, no longer applies.
      const matches = picker.querySelector(".customer-picker-matches");
      if (matches) { matches.remove(); }
    }

    function show(found) {
      results = found;
      listbox.replaceChildren();
      found.forEach(function (choice, i) {
        const option = document.createElement("li");
        option.id = listbox.id + "_" + i;
        option.className = "list-group-item list-group-item-action";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        const name = document.createElement("span");
        name.textContent = choice.name;
        option.appendChild(name);
        if (choice.hint || choice.company) {
          const hint = document.createElement("span");
          hint.className = "customer-picker-hint";
          hint.textContent = " · " + [choice.hint, choice.company].filter(Boolean).join(" · ");
          option.appendChild(hint);
        }
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep the focus in the text box
          choose(i);
        });
        listbox.appendChild(option);
      });
      listbox.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      active = -1;
      status.textContent = found.length === 0 ? text.none
        : found.length === 1 ? text.one : text.many.replace("{n}", String(found.length));
    }

    function search() {
      const query = input.value.trim();
      if (!query) { show([]); status.textContent = ""; return; }
      if (request) { request.abort(); }
      request = new AbortController();
      const url = input.dataset.customerPicker + "?q=" + encodeURIComponent(query);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: request.signal })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (input.value.trim() === query) { show(data.results || []); } })
        .catch(function () { /* aborted by a newer keystroke, or offline: the no-JS step still works */ });
    }

    input.addEventListener("input", function () {
      hidden.value = "";  // the text no longer names the chosen customer
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      const open = !listbox.hidden && results.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { search(); return; }
        highlight(active + 1 >= results.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(active <= 0 ? results.length - 1 : active - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();  // choose, do not submit the form yet
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("input[data-customer-picker]").forEach(enhance);
})();
