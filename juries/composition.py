"""The fiche's jury composition rule, as a pure function over the members (no database).

Fiche RNCP 16204, every open pathway: « 50% professionnels, 50% formateurs — Président : un professionnel —
Les professionnels composant ce jury seront des salariés et des employeurs, à parts égales ».
The proportions come from `JuryCompositionRule` (data), not from this code.
"""

from collections.abc import Iterable

from juries.models import PROFESSIONAL_CATEGORIES, MemberCategory


def _n(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count in (0, 1) else plural}"


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
            f"Un jury compte au moins {rule.minimum_members} membres ({_n(len(members), 'membre', 'membres')})."
        )
    pro_share, trainer_share = rule.professionals_percent, rule.trainers_percent
    if len(professionals) * trainer_share != len(trainers) * pro_share:
        counts = f"{_n(len(professionals), 'professionnel', 'professionnels')}, {_n(len(trainers), 'formateur', 'formateurs')}"
        if pro_share == trainer_share:
            violations.append(f"Il faut autant de professionnels que de formateurs ({counts}).")
        else:
            violations.append(f"Il faut {pro_share} % de professionnels et {trainer_share} % de formateurs ({counts}).")
    if rule.professionals_split_equally and employees != employers:
        violations.append(
            "Il faut autant de salariés que d'employeurs parmi les professionnels "
            f"({_n(employees, 'salarié', 'salariés')}, {_n(employers, 'employeur', 'employeurs')})."
        )
    if not presidents:
        violations.append("Le jury n'a pas de président.")
    elif len(presidents) > 1:
        violations.append(f"Le jury ne peut avoir qu'un président ({len(presidents)} désignés).")
    if rule.president_is_professional and any(m.category not in PROFESSIONAL_CATEGORIES for m in presidents):
        violations.append("Le président doit être un professionnel.")
    return violations
