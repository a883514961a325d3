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

  function refresh(row) {
    var levels = Array.prototype.map.call(row.querySelectorAll("select.level"), function (select) {
      return select.value;
    });
    var result = blockOutcome(levels);
    var badge = row.querySelector("[data-outcome]");
    badge.textContent = config.labels[result.outcome];
    badge.className = "badge " + config.badges[result.outcome];
    row.querySelector("[data-explanation]").textContent = result.explanation;
  }

  function onLevel(event) {
    if (event.target.matches("select.level")) refresh(event.target.closest("tr"));
  }
  table.addEventListener("change", onLevel);
  table.addEventListener("input", onLevel);

  // "Keep the other person's value" in a conflicting cell.
  table.addEventListener("click", function (event) {
    var button = event.target.closest("button.take-other");
    if (!button) return;
    var cell = button.closest("td");
    cell.querySelector("select.level").value = button.dataset.level;
    var comment = cell.querySelector("input[name$='-comment']");
    if (comment) comment.value = button.dataset.comment;
    refresh(cell.closest("tr"));
    cell.querySelector("select.level").focus();
  });
})();
