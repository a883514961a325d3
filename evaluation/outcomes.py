"""How an outcome is shown wherever a page states one (the grids, the deliberation): a Bootstrap badge per outcome."""

from certif.rules import Outcome

OUTCOME_BADGES = {
    Outcome.VALIDATED: "text-bg-success",
    Outcome.NOT_VALIDATED: "text-bg-danger",
    Outcome.INCOMPLETE: "text-bg-secondary",
}
