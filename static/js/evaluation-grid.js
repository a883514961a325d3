// Evaluation grid: live proposal per candidate row. Mirrors certif/rules.py `block_outcome` (same words);
// the server computes the same proposal on every page load and save. No framework, no network.
(function () {
  "use strict";
  var table = document.getElementById("evaluation-grid");
  if (!table) return;
  var config = JSON.parse(table.dataset.config);
  var validating = new Set(config.validating);

  function plural(count, singular, pluralForm) {
    return count === 0 || count === 1 ? singular : pluralForm;
  }

  // Same rule and same text as block_outcome(levels, threshold, validating_levels, floor_label).
  function blockOutcome(levels) {
    var defined = levels.length;
    var missing = levels.filter(function (level) { return !level; }).length;
    var validated = levels.filter(function (level) { return level && validating.has(level); }).length;
    var required = config.required;
    if (defined < config.outOf) {
      return {
        outcome: "incomplete",
        explanation: "Grille incomplète : " + defined + " " +
          plural(defined, "compétence définie", "compétences définies") + " sur " + config.outOf,
      };
    }
    if (missing) {
      return {
        outcome: "incomplete",
        explanation: missing + " " + plural(missing, "compétence sans niveau", "compétences sans niveau") +
          " sur " + defined + " ; toutes les compétences doivent être évaluées",
      };
    }
    return {
      outcome: validated >= required ? "validated" : "not_validated",
      explanation: validated + " " + plural(validated, "compétence", "compétences") + " au niveau " +
        config.floorLabel + " ou mieux sur " + defined + " ; " + required + " " +
        plural(required, "requise", "requises"),
    };
  }

  var counter = document.getElementById("grid-counter");
  var announcer = document.getElementById("grid-announcer");
  var announceTimer = null;

  // Polite and grouped: one message a moment after the last change, only for rows whose proposal changed.
  function announce(text) {
    clearTimeout(announceTimer);
    announceTimer = setTimeout(function () { announcer.textContent = text; }, 600);
  }

  function cellUnsaved(cell) {
    var select = cell.querySelector("select.level");
    var comment = cell.querySelector("input[name$='-comment']");
    return select.value !== (cell.dataset.storedLevel || "") ||
      (comment ? comment.value.trim() : "") !== (cell.dataset.storedComment || "");
  }

  function refreshCounter() {
    if (!counter) return;
    var selects = table.querySelectorAll("select.level");
    var filled = Array.prototype.filter.call(selects, function (select) { return select.value; }).length;
    var unsaved = 0;
    Array.prototype.forEach.call(table.querySelectorAll("td[data-stored-level]"), function (cell) {
      var changed = cellUnsaved(cell);
      if (changed) unsaved += 1;
      if (!cell.classList.contains("table-warning")) cell.classList.toggle("table-info", changed);
      var mark = cell.querySelector(".unsaved-mark");
      if (mark) mark.hidden = !changed;
    });
    counter.textContent = filled + " " + plural(filled, "cellule renseignée", "cellules renseignées") + " sur " +
      counter.dataset.total +
      (unsaved ? ", dont " + unsaved + " " + plural(unsaved, "non enregistrée", "non enregistrées") : "");
  }

  function refresh(row) {
    var levels = Array.prototype.map.call(row.querySelectorAll("select.level"), function (select) {
      return select.value;
    });
    var result = blockOutcome(levels);
    var badge = row.querySelector("[data-outcome]");
    var label = config.labels[result.outcome];
    if (badge.textContent !== label) {
      announce("Proposition pour " + row.querySelector("th").textContent.trim() + " : " + label + ".");
    }
    badge.textContent = label;
    badge.className = "badge " + config.badges[result.outcome];
    row.querySelector("[data-explanation]").textContent = result.explanation;
  }

  function onChange(event) {
    if (event.target.matches("select.level")) refresh(event.target.closest("tr"));
    if (event.target.matches("select.level, input[name$='-comment']")) refreshCounter();
  }
  table.addEventListener("change", onChange);
  table.addEventListener("input", onChange);

  // "Keep the other person's value" in a conflicting cell.
  table.addEventListener("click", function (event) {
    var button = event.target.closest("button.take-other");
    if (!button) return;
    var cell = button.closest("td");
    cell.querySelector("select.level").value = button.dataset.level;
    var comment = cell.querySelector("input[name$='-comment']");
    if (comment) comment.value = button.dataset.comment;
    refresh(cell.closest("tr"));
    refreshCounter();
    cell.querySelector("select.level").focus();
  });

  // As on the deliberation page: leaving with cells typed but not saved asks first; saving is not leaving.
  var form = table.closest("form");
  var submitting = false;
  if (form) form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (submitting) return;
    var cells = table.querySelectorAll("td[data-stored-level]");
    if (!Array.prototype.some.call(cells, cellUnsaved)) return;
    event.preventDefault();
    event.returnValue = "";
  });

  // One Tab stop into an editable grid, arrows inside: the selects then make the region reachable by keyboard,
  // so the region itself leaves the Tab order.
  if (window.mpesCellKeys && window.mpesCellKeys(table, "select.level")) {
    table.closest("[role=region]").removeAttribute("tabindex");
  }
})();
