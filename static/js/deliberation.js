// Deliberation page: each decision says whether it is saved, still to decide (the proposal, not yet recorded) or
// changed and not saved; the reason box opens when the decision departs from the proposal (or on demand); leaving
// the page with unsaved changes asks first. Without this script the page works as a plain form. No framework.
(function () {
  "use strict";
  var form = document.getElementById("deliberation-form");
  var table = document.getElementById("deliberation");
  if (!form || !table) return;
  var summary = document.getElementById("deliberation-summary");
  var announcer = document.getElementById("deliberation-announcer");
  var showAll = document.getElementById("show-reasons");
  var cells = Array.prototype.slice.call(table.querySelectorAll("td[data-state]"));
  var LABELS = {
    saved: "Enregistré",
    undecided: "À décider — non enregistré",
    changed: "Modifié — non enregistré",
  };

  function plural(count, singular, pluralForm) {
    return count === 0 || count === 1 ? singular : pluralForm;
  }

  function parts(cell) {
    return {
      select: cell.querySelector("select.decision"),
      reason: cell.querySelector("textarea"),
      box: cell.querySelector(".reason"),
      rule: cell.querySelector(".reason-rule"),
      state: cell.querySelector(".decision-state"),
    };
  }

  // The same rule as the page's server side (juries.views._decision_state).
  function stateOf(cell) {
    var p = parts(cell);
    var outcome = p.select.value;
    var reason = p.reason.value.trim();
    if (cell.dataset.savedOutcome) {
      return outcome === cell.dataset.savedOutcome && reason === cell.dataset.savedReason ? "saved" : "changed";
    }
    return outcome === cell.dataset.proposal && !reason ? "undecided" : "changed";
  }

  function departs(cell) {
    return parts(cell).select.value !== cell.dataset.proposal;
  }

  function refreshCell(cell, announce) {
    var p = parts(cell);
    var state = stateOf(cell);
    cell.dataset.state = state;
    p.state.textContent = LABELS[state];
    var required = departs(cell);
    var wasHidden = p.box.hidden;
    p.box.hidden = !(required || p.reason.value.trim() || (showAll && showAll.checked));
    p.reason.required = required;
    p.rule.textContent = required
      ? "(obligatoire : la décision s'écarte de la proposition)"
      : "(obligatoire si la décision s'écarte de la proposition)";
    if (announce && required && wasHidden) {
      announcer.textContent = "Écart à la proposition : un motif est obligatoire, juste après cette décision.";
    }
  }

  function counts() {
    var result = { saved: 0, undecided: 0, changed: 0 };
    cells.forEach(function (cell) { result[cell.dataset.state] += 1; });
    return result;
  }

  function refreshSummary() {
    var c = counts();
    var text = c.saved + " " + plural(c.saved, "décision enregistrée", "décisions enregistrées") + " sur " +
      summary.dataset.total;
    if (c.undecided) text += ", " + c.undecided + " à décider";
    if (c.changed) {
      text += ", " + c.changed + " " + plural(c.changed, "modifiée non enregistrée", "modifiées non enregistrées");
    }
    summary.textContent = text + ".";
  }

  cells.forEach(function (cell) { refreshCell(cell, false); });
  if (summary) refreshSummary();

  function onEdit(event) {
    var cell = event.target.closest("td[data-state]");
    if (!cell) return;
    refreshCell(cell, event.target.matches("select"));
    refreshSummary();
  }
  table.addEventListener("change", onEdit);
  table.addEventListener("input", onEdit);

  if (showAll) {
    document.getElementById("show-reasons-switch").hidden = false;
    showAll.addEventListener("change", function () {
      cells.forEach(function (cell) { refreshCell(cell, false); });
    });
  }

  // A change not saved is never lost without a word: the browser asks before leaving; saving (either button)
  // is not leaving.
  var submitting = false;
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (submitting || !counts().changed) return;
    event.preventDefault();
    event.returnValue = "";
  });

  if (window.mpesCellKeys && window.mpesCellKeys(table, "select.decision")) {
    table.closest("[role=region]").removeAttribute("tabindex");
  }
})();
