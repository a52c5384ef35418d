// Drag and drop on the pipeline board: dropping a card submits that card's own move form,
// so the server path is the same as without JavaScript.
(function () {
  "use strict";
  let dragged = null;
  document.querySelectorAll(".kanban-card").forEach(function (card) {
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      event.dataTransfer.effectAllowed = "move";
    });
  });
  document.querySelectorAll(".kanban-column").forEach(function (column) {
    column.addEventListener("dragover", function (event) {
      if (dragged) { event.preventDefault(); }
    });
    column.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!dragged) { return; }
      const form = dragged.querySelector("form.move-form");
      const stage = column.dataset.stage;
      form.querySelector("select[name=stage]").value = stage;
      if (stage === "lost") {
        const input = form.querySelector("input[name=lost_reason]");
        form.closest("details").open = true;  // the reason field is inside the card's closed "Move" panel
        input.focus();
        if (!input.value) { return; }  // the user types the reason, then presses Move
      }
      form.submit();
    });
  });
})();
