"""How the pages show a block outcome (Bootstrap badge classes): the evaluation grid and the deliberation share it."""

from certif.rules import Outcome

OUTCOME_BADGES = {
    Outcome.VALIDATED: "text-bg-success",
    Outcome.NOT_VALIDATED: "text-bg-danger",
    Outcome.INCOMPLETE: "text-bg-secondary",
}
