// A form refused by the server comes back with its error summary at the top (.error-summary): focus moves there,
// so that a screen reader reads it and the keyboard starts from it. Each link of the summary then focuses its field
// and shows its label above it (the browser alone would put the field at the very top of the window).
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) {
      return;
    }
    event.preventDefault();
    var label = document.querySelector("label[for='" + field.id + "']") || field;
    label.scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  });
})();
