// After a failed submit the page opens with its error summary focused, so keyboard and screen reader
// users start at the list of problems (each a link to its input) instead of at the top of the page.
(function () {
  "use strict";
  const summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
