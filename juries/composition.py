"""The fiche's jury composition rule, as a pure function over the members (no database).

Fiche RNCP 16204, every open pathway: « 50% professionnels, 50% formateurs — Président : un professionnel —
Les professionnels composant ce jury seront des salariés et des employeurs, à parts égales ».
The proportions come from `JuryCompositionRule` (data), not from this code.

The rule applies to the session's titular members, and again to the members who actually deliberate on each
candidate: the titular ones, less those who do not deliberate on that candidate (a link with them), each replaced
by a substitute (suppléant) of the same category when there is one (`deliberating_panel`).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from certif.text import counted
from juries.models import PROFESSIONAL_CATEGORIES, MemberCategory


def composition_violations(members: Iterable, rule) -> list[str]:
    """Every way the members break the rule, in French; [] when the composition is valid.

    `members`: objects with `category` and `is_president`; `rule`: a JuryCompositionRule.
    """
    members = list(members)
    violations = []
    professionals = [m for m in members if m.category in PROFESSIONAL_CATEGORIES]
    trainers = [m for m in members if m.category == MemberCategory.TRAINER]
    employees = sum(1 for m in professionals if m.category == MemberCategory.EMPLOYEE)
    employers = len(professionals) - employees
    presidents = [m for m in members if m.is_president]

    if len(members) < rule.minimum_members:
        violations.append(
            f"Un jury compte au moins {rule.minimum_members} membres ({counted(len(members), 'membre', 'membres')})."
        )
    pro_share, trainer_share = rule.professionals_percent, rule.trainers_percent
    if len(professionals) * trainer_share != len(trainers) * pro_share:
        counts = f"{counted(len(professionals), 'professionnel', 'professionnels')}, {counted(len(trainers), 'formateur', 'formateurs')}"
        if pro_share == trainer_share:
            violations.append(f"Il faut autant de professionnels que de formateurs ({counts}).")
        else:
            violations.append(f"Il faut {pro_share} % de professionnels et {trainer_share} % de formateurs ({counts}).")
    if rule.professionals_split_equally and employees != employers:
        violations.append(
            "Il faut autant de salariés que d'employeurs parmi les professionnels "
            f"({counted(employees, 'salarié', 'salariés')}, {counted(employers, 'employeur', 'employeurs')})."
        )
    if not presidents:
        violations.append("Le jury n'a pas de président.")
    elif len(presidents) > 1:
        violations.append(f"Le jury ne peut avoir qu'un président ({len(presidents)} désignés).")
    if rule.president_is_professional and any(m.category not in PROFESSIONAL_CATEGORIES for m in presidents):
        violations.append("Le président doit être un professionnel.")
    return violations


# — The members who deliberate on one candidate —


@dataclass(frozen=True)
class Seat:
    """One member of the panel that deliberates on a candidate; `replaces`: the titular member a substitute sits for
    (and presides for, when that member is the president)."""

    member: object
    replaces: object | None = None

    @property
    def category(self) -> str:
        return self.member.category

    @property
    def is_president(self) -> bool:
        return (self.replaces or self.member).is_president


@dataclass
class Panel:
    seats: list[Seat]
    stood_aside: list  # the titular members who do not deliberate on this candidate
    unreplaced: list  # those of them no substitute of their category replaces
    violations: list[str]

    @property
    def replacements(self) -> list[Seat]:
        return [seat for seat in self.seats if seat.replaces is not None]

    @property
    def is_valid(self) -> bool:
        return not self.violations


def deliberating_panel(members: Iterable, recused_ids: set, rule) -> Panel:
    """Who deliberates on one candidate, and every way that panel breaks the fiche's rule.

    The titular members (`is_substitute` false) sit, except those recused (`recused_ids`); each recused titular
    member is replaced by the first substitute of the same category (in the order of their designation, `pk`) who
    is neither recused nor already sitting for someone else. The panel must then satisfy the rule by itself.
    """
    members = sorted(members, key=lambda member: member.pk)
    available = [m for m in members if m.is_substitute and m.pk not in recused_ids]
    seats, stood_aside, unreplaced = [], [], []
    for member in (m for m in members if not m.is_substitute):
        if member.pk not in recused_ids:
            seats.append(Seat(member=member))
            continue
        stood_aside.append(member)
        substitute = next((s for s in available if s.category == member.category), None)
        if substitute is None:
            unreplaced.append(member)
        else:
            available.remove(substitute)
            seats.append(Seat(member=substitute, replaces=member))
    return Panel(
        seats=seats,
        stood_aside=stood_aside,
        unreplaced=unreplaced,
        violations=composition_violations(seats, rule) if rule is not None else [],
    )


def panel_problem(candidate_name: str, panel: Panel) -> str:
    """The French sentence naming the candidate whose deliberating panel breaks the rule ("" when it holds)."""
    if panel.is_valid:
        return ""
    missing = " ; ".join(
        f"{member.name} ({MemberCategory(member.category).label.lower()}) ne délibère pas sur ce candidat et aucun "
        "suppléant de sa catégorie ne le remplace"
        for member in panel.unreplaced
    )
    return (
        f"{candidate_name} : le jury qui délibère sur ce candidat ne respecte pas la fiche"
        + (f" ({missing})" if missing else "")
        + ". "
        + " ".join(panel.violations)
        + (" Ajoutez un suppléant de la même catégorie." if panel.unreplaced else "")
    )
