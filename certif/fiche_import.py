"""Install or update certifications from the fiches of France Compétences' export (`certif.rncp_export`).

`fiche_import_preview` says, fiche by fiche, what an import would do: a creation, or the field-by-field differences
with the certification installed here, and what staff must still enter (a threshold the fiche's words do not give,
the jury rule). `fiche_import_apply` does it, in one transaction, applying only what changed and never what a
signature or an evaluation froze: a competence change on a frozen grid makes a new grid version (as the block page
does), a rule change on a frozen block, a change of what signed documents print, or a period overlapping another
registration is refused in the preview, with its reason, and left out.
"""

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef

from certif.audit import AuditAction, record_audit
from certif.models import (
    AccessPathway,
    Block,
    Certification,
    Competence,
    Grid,
    JuryCompositionRule,
    RatingScale,
    Registration,
    RomeCode,
    ScaleLevel,
    signed_sessions_between,
)
from certif.rncp_export import ParsedBlock, ParsedFiche, ParsedJuryRule, ParsedThreshold
from certif.rules import ThresholdKind

NO_DIFFERENCE = "aucune différence"
CREATION = "création"
UPDATE = "modification"

DEFAULT_SIGNATORY = "Directeur général"
DEFAULT_VALIDITY = "illimitée"
DEFAULT_SCALE = [("A", True), ("B", True), ("C", True), ("D", False)]

ThresholdInput = tuple[str, Decimal | int | float | str, int | str]


def _same_text(a: str, b: str) -> bool:
    # The export writes ' where the shipped fiche (and the typing of staff) writes ’: the same text for a reader.
    return " ".join(a.replace("’", "'").split()) == " ".join(b.replace("’", "'").split())


def _same_list(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and all(_same_text(x, y) for x, y in zip(a, b, strict=True))


def threshold_text(threshold: ParsedThreshold | None) -> str:
    if threshold is None:
        return "—"
    value = int(threshold.value) if threshold.value == int(threshold.value) else threshold.value
    if threshold.kind == ThresholdKind.PROPORTION:
        return f"{value} % des {threshold.out_of} compétences"
    return f"{value} compétences sur {threshold.out_of}"


def _shown(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value)
    return str(value)


def threshold_from_input(*, code: str, value: ThresholdInput, competences: int) -> ParsedThreshold:
    """A threshold staff entered for block `code`, checked as the block page would."""
    kind, figure, out_of = value
    try:
        number = Decimal(str(figure).replace(",", "."))
        out_of = int(out_of)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(f"Bloc {code} : le seuil « {figure} » sur « {out_of} » n'est pas un nombre.") from None
    if kind not in ThresholdKind.values:
        raise ValidationError(f"Bloc {code} : forme de seuil « {kind} » inconnue (décompte ou proportion).")
    if out_of < 1:
        raise ValidationError(f"Bloc {code} : le nombre de compétences du bloc doit être au moins 1.")
    if kind == ThresholdKind.COUNT and (number != int(number) or not 1 <= number <= out_of):
        raise ValidationError(
            f"Bloc {code} : un décompte est un nombre entier de compétences entre 1 et {out_of} (saisi : {figure})."
        )
    if kind == ThresholdKind.PROPORTION and not 0 < number <= 100:
        raise ValidationError(f"Bloc {code} : une proportion est comprise entre 0 % (exclu) et 100 % ({figure}).")
    if competences > out_of:
        raise ValidationError(
            f"Bloc {code} : la fiche liste {competences} compétences, le bloc ne peut pas en déclarer {out_of}."
        )
    return ParsedThreshold(kind=kind, value=number, out_of=out_of)


@dataclass
class Change:
    label: str
    before: str
    after: str
    refusal: str = ""  # why this change will not be applied, in French

    @property
    def text(self) -> str:
        line = f"{self.label} : {self.before} → {self.after}"
        return f"{line} — refusé : {self.refusal}" if self.refusal else line


@dataclass
class BlockPreview:
    code: str
    number: int
    title: str
    status: str
    competences: list[str]
    threshold: ParsedThreshold | None
    threshold_missing: str = ""  # why staff must enter the threshold ("" when known)
    changes: list[Change] = field(default_factory=list)

    @property
    def threshold_text(self) -> str:
        return threshold_text(self.threshold)


@dataclass
class FichePreview:
    fiche: ParsedFiche
    certification: Certification | None
    blocks: list[BlockPreview] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    linked: list[tuple[Certification, Change]] = field(default_factory=list)  # the other fiches' links
    jury_rule: ParsedJuryRule | None = None
    jury_rule_missing: str = ""
    notes: list[str] = field(default_factory=list)
    is_example: bool = False  # for a creation: the certification is an illustrative fiche
    problems: list[str] = field(default_factory=list)  # what the models refuse in a creation
    _operations: list[Callable[[User], None]] = field(default_factory=list, repr=False)
    _before: dict = field(default_factory=dict, repr=False)
    _after: dict = field(default_factory=dict, repr=False)

    @property
    def rncp_label(self) -> str:
        return self.fiche.rncp_label

    @property
    def is_creation(self) -> bool:
        return self.certification is None

    @property
    def all_changes(self) -> list[Change]:
        return [*self.changes, *(change for block in self.blocks for change in block.changes)] + [
            change for _, change in self.linked
        ]

    @property
    def has_differences(self) -> bool:
        return self.is_creation or any(not change.refusal for change in self.all_changes)

    @property
    def status(self) -> str:
        if self.is_creation:
            return CREATION
        return UPDATE if self.all_changes else NO_DIFFERENCE

    @property
    def missing(self) -> list[str]:
        """What staff must enter before the fiche installs, in French."""
        missing = [
            f"Bloc {block.code} : seuil à saisir ({block.threshold_missing})."
            for block in self.blocks
            if block.threshold_missing
        ]
        if self.jury_rule_missing:
            missing.append(f"Règle de composition des jurys à saisir ({self.jury_rule_missing}).")
        return missing + self.problems

    @property
    def refusals(self) -> list[str]:
        return [f"{change.label} : {change.refusal}" for change in self.all_changes if change.refusal]

    def lines(self) -> list[str]:
        fiche = self.fiche
        lines = [f"Fiche {fiche.rncp_label} — {fiche.title} : {self.status}"]
        if self.is_creation:
            lines.append(f"  Niveau {fiche.level_eqf} (nomenclature de 1969 : {fiche.level_1969})")
            lines.append(f"  Certificateur : {fiche.certifier_name} ({fiche.certifier_acronym or '—'})")
            if fiche.effect_date and fiche.end_date:
                lines.append(
                    f"  Enregistrement : {fiche.act}, du {fiche.effect_date:%d/%m/%Y} au {fiche.end_date:%d/%m/%Y}"
                )
            if fiche.last_delivery_date:
                lines.append(f"  Date limite de délivrance : {fiche.last_delivery_date:%d/%m/%Y}")
            for block in self.blocks:
                lines.append(
                    f"  Bloc {block.number} ({block.code}) : {block.title} — {len(block.competences)} compétences, "
                    f"seuil : {block.threshold_text}"
                )
            open_pathways = [pathway.label for pathway in fiche.pathways if pathway.is_open]
            lines.append(f"  Voies d'accès ouvertes : {', '.join(open_pathways) or '—'}")
            if fiche.previous_rncp_codes:
                lines.append(f"  Fiches précédentes : {', '.join(fiche.previous_rncp_codes)}")
        for change in self.changes:
            lines.append(f"  - {change.text}")
        for block in self.blocks:
            for change in block.changes:
                lines.append(f"  - {change.text}")
        for certification, change in self.linked:
            lines.append(f"  - fiche {certification.rncp_label}, {change.text}")
        for note in self.notes:
            lines.append(f"  Note : {note}")
        for missing in self.missing:
            lines.append(f"  À saisir : {missing}")
        return lines


@dataclass
class ImportPreview:
    fiches: list[FichePreview]

    @property
    def missing(self) -> list[str]:
        return [f"{fiche.rncp_label} — {item}" for fiche in self.fiches for item in fiche.missing]

    @property
    def can_apply(self) -> bool:
        return not self.missing

    @property
    def has_differences(self) -> bool:
        return any(fiche.has_differences for fiche in self.fiches)

    def lines(self) -> list[str]:
        return [line for fiche in self.fiches for line in fiche.lines()]


# — Planning: what an import would do, with the operations that do it —


def _signed_sessions(certification: Certification) -> list:
    return list(
        signed_sessions_between(
            certification_id=certification.pk, first_day=datetime.date.min, last_day=datetime.date.max
        )
    )


def _threshold_for(block: ParsedBlock, thresholds: Mapping[str, ThresholdInput]) -> tuple[ParsedThreshold | None, str]:
    entered = thresholds.get(block.code)
    if entered is not None:
        return threshold_from_input(code=block.code, value=entered, competences=len(block.competences)), ""
    return block.threshold, block.threshold_problem


def _merged(installed: list[str], given: list[str]) -> list[str]:
    """The links France Compétences gives, added to those recorded here (a link is never dropped by an import)."""
    return list(dict.fromkeys([*installed, *given]))


def _links(fiche: ParsedFiche, others: list[Certification]) -> tuple[list[str], list[str]]:
    """The fiche's predecessors and successors: what the export says, and what the fiches installed here say of it."""
    previous = list(fiche.previous_rncp_codes)
    following = list(fiche.next_rncp_codes)
    for other in others:
        if fiche.rncp_label in other.next_rncp_codes and other.rncp_label not in previous:
            previous.append(other.rncp_label)
        if fiche.rncp_label in other.previous_rncp_codes and other.rncp_label not in following:
            following.append(other.rncp_label)
    return previous, following


def _plan_links(plan: FichePreview, others: list[Certification], previous: list[str], following: list[str]) -> None:
    """The installed predecessors and successors point back at the fiche, so that both pages link."""
    for other in others:
        for codes, name, label in (
            (previous, "next_rncp_codes", "fiches suivantes"),
            (following, "previous_rncp_codes", "fiches précédentes"),
        ):
            current = getattr(other, name)
            if other.rncp_label in codes and plan.rncp_label not in current:
                after = [*current, plan.rncp_label]
                plan.linked.append((other, Change(label, _shown(current), _shown(after))))

                def link(actor, other=other, name=name):
                    row = Certification.objects.select_for_update(of=("self",)).get(pk=other.pk)
                    current = list(getattr(row, name))
                    if plan.rncp_label in current:
                        return  # the fiche's own update of that certification already links them
                    setattr(row, name, [*current, plan.rncp_label])
                    row.save(update_fields=[name])
                    record_audit(
                        actor=actor,
                        action=AuditAction.REFERENTIAL_FICHE_UPDATED,
                        target=row,
                        before={name: current},
                        after={name: getattr(row, name)},
                    )

                plan._operations.append(link)


def _plan_creation(plan: FichePreview, thresholds: Mapping[str, ThresholdInput], others: list[Certification]) -> None:
    fiche = plan.fiche
    for parsed in fiche.blocks:
        try:
            threshold, problem = _threshold_for(parsed, thresholds)
        except ValidationError as error:
            threshold, problem = None, " ".join(error.messages)
        plan.blocks.append(
            BlockPreview(
                code=parsed.code,
                number=parsed.number,
                title=parsed.title,
                status=CREATION,
                competences=parsed.competences,
                threshold=threshold,
                threshold_missing=problem if threshold is None else "",
            )
        )
    if not fiche.blocks:
        plan.notes.append("la fiche ne décrit aucun bloc de compétences.")
    if not (fiche.effect_date and fiche.end_date):
        plan.notes.append("la fiche ne donne pas de période d'enregistrement : aucun enregistrement n'est créé.")
    previous, following = _links(fiche, others)
    predecessor = next((other for other in others if other.rncp_label in previous), None)
    if predecessor:
        plan.notes.append(
            f"sigle, qualité du signataire, validité des blocs acquis et lieu de certification repris de la fiche "
            f"{predecessor.rncp_label}."
        )
    _plan_links(plan, others, previous, following)
    # What the models would refuse at the installation is said now, beside what staff must enter.
    certification = _new_certification(plan, predecessor, previous, following)
    checks: list[tuple[Certification | Registration, list[str]]] = [(certification, [])]
    if fiche.effect_date and fiche.end_date:
        checks.append((_new_registration(fiche, certification), ["certification"]))
    for instance, exclude in checks:
        try:
            instance.full_clean(exclude=exclude)
        except ValidationError as error:
            plan.problems.append(
                f"Données de la fiche refusées ({instance._meta.verbose_name}) : {' '.join(error.messages)}"
            )

    def create(actor: User) -> None:
        _create(plan, predecessor, previous, following, actor)

    plan._operations.insert(0, create)


def _saved(instance):
    instance.full_clean()
    instance.save()
    return instance


def _save_later(instance) -> Callable[[User], None]:
    def save(_actor: User) -> None:
        _saved(instance)

    return save


def _new_certification(
    plan: FichePreview, predecessor: Certification | None, previous: list[str], following: list[str]
) -> Certification:
    fiche = plan.fiche
    return Certification(
        rncp_code=fiche.rncp_code,
        title=fiche.title,
        acronym=predecessor.acronym if predecessor else "",
        level_1969=fiche.level_1969,
        level_eqf=fiche.level_eqf,
        nsf_code=fiche.nsf_code,
        nsf_label=fiche.nsf_label,
        summary=fiche.summary or (predecessor.summary if predecessor else ""),
        sectors=fiche.sectors,
        example_jobs=fiche.example_jobs,
        certifier_name=fiche.certifier_name,
        certifier_acronym=fiche.certifier_acronym,
        signatory_title=predecessor.signatory_title if predecessor else DEFAULT_SIGNATORY,
        certification_place=predecessor.certification_place if predecessor else "",
        regulation=predecessor.regulation if predecessor else "",
        accessible_new_caledonia=fiche.accessible_new_caledonia,
        accessible_french_polynesia=fiche.accessible_french_polynesia,
        acquired_blocks_validity=predecessor.acquired_blocks_validity if predecessor else DEFAULT_VALIDITY,
        statistics=fiche.statistics,
        website=fiche.website,
        previous_rncp_codes=previous,
        next_rncp_codes=following,
        last_delivery_date=fiche.last_delivery_date,
        is_example=plan.is_example,
    )


def _create(
    plan: FichePreview, predecessor: Certification | None, previous: list[str], following: list[str], actor: User
) -> Certification:
    fiche = plan.fiche
    if Certification.objects.filter(rncp_code=fiche.rncp_code).exists():
        raise ValidationError(f"La fiche {fiche.rncp_label} vient d'être installée par ailleurs : relancez l'import.")
    certification = _saved(_new_certification(plan, predecessor, previous, following))
    for code, label in fiche.rome_codes:
        _saved(RomeCode(certification=certification, code=code, label=label))
    if fiche.effect_date and fiche.end_date:
        _saved(_new_registration(fiche, certification))
    for parsed, preview in zip(fiche.blocks, plan.blocks, strict=True):
        _create_block(certification, parsed, preview)
    scale = RatingScale.objects.create(certification=certification, version=1)
    for position, (code, validates) in enumerate(DEFAULT_SCALE, start=1):
        ScaleLevel.objects.create(scale=scale, position=position, code=code, label=code, validates=validates)
    pathways = [
        _saved(
            AccessPathway(
                certification=certification,
                code=pathway.code,
                label=pathway.label,
                is_open=pathway.is_open,
                position=position,
            )
        )
        for position, pathway in enumerate(fiche.pathways, start=1)
    ]
    rule = plan.jury_rule
    assert rule is not None  # the apply refuses while the rule is missing
    jury_rule = _saved(
        JuryCompositionRule(
            certification=certification,
            professionals_percent=rule.professionals_percent,
            trainers_percent=rule.trainers_percent,
            president_is_professional=rule.president_is_professional,
            professionals_split_equally=rule.professionals_split_equally,
            text=rule.text,
        )
    )
    jury_rule.pathways.set([pathway for pathway in pathways if pathway.code in rule.applies_to])
    plan.certification = certification
    record_audit(
        actor=actor,
        action=AuditAction.REFERENTIAL_FICHE_IMPORTED,
        target=certification,
        after={
            "rncp_code": fiche.rncp_label,
            "title": fiche.title,
            "level_eqf": fiche.level_eqf,
            "registrations": [f"{fiche.act}, du {fiche.effect_date:%d/%m/%Y} au {fiche.end_date:%d/%m/%Y}"]
            if fiche.effect_date and fiche.end_date
            else [],
            "last_delivery_date": fiche.last_delivery_date.isoformat() if fiche.last_delivery_date else None,
            "blocks": [f"{block.code} : {threshold_text(block.threshold)}" for block in plan.blocks],
            "pathways": [pathway.label for pathway in fiche.pathways if pathway.is_open],
            "jury_rule": rule.text,
            "is_example": plan.is_example,
            "previous_rncp_codes": previous,
            "next_rncp_codes": following,
        },
    )
    return certification


def _new_registration(fiche: ParsedFiche, certification: Certification) -> Registration:
    assert fiche.effect_date and fiche.end_date  # called only for a fiche that gives its period
    level = f"niveau {fiche.level_1969}" if fiche.decision_date and fiche.decision_date.year < 2019 else ""
    return Registration(
        certification=certification,
        act=fiche.act,
        publication=fiche.publication,
        publication_date=fiche.last_jo_date,
        decision_date=fiche.decision_date,
        in_force_from=fiche.effect_date,
        in_force_until=fiche.end_date,
        level_note=level or f"niveau {fiche.level_eqf}",
    )


# What France Compétences registers for a certification, compared field by field; what signed documents print
# (title, levels, certifier) does not change under a signed jury.
COMPARED_FIELDS = [
    ("title", "intitulé", True),
    ("level_eqf", "niveau (nomenclature européenne)", True),
    ("level_1969", "niveau (nomenclature de 1969)", True),
    ("nsf_code", "code NSF", False),
    ("nsf_label", "libellé NSF", False),
    ("certifier_name", "autorité responsable", True),
    ("certifier_acronym", "sigle du certificateur", True),
    ("last_delivery_date", "date limite de délivrance", False),
]


def _plan_update(
    plan: FichePreview, certification: Certification, thresholds: Mapping[str, ThresholdInput], others
) -> None:
    fiche = plan.fiche
    signed = _signed_sessions(certification)
    signed_refusal = (
        f"des jurys ont été signés sur la fiche {certification.rncp_label} (le premier le {signed[0].date:%d/%m/%Y}) "
        "et leurs documents l'impriment ; une autre valeur s'installe avec une nouvelle fiche"
        if signed
        else ""
    )
    fields: dict[str, object] = {}
    for name, label, printed in COMPARED_FIELDS:
        installed, given = getattr(certification, name), getattr(fiche, name)
        if name == "last_delivery_date" and given is None:
            continue  # an absent date is no instruction to clear the one recorded here
        same = _same_text(installed, given) if isinstance(installed, str) else installed == given
        if not same:
            refusal = signed_refusal if printed else ""
            plan.changes.append(Change(label, _shown(installed), _shown(given), refusal))
            if not refusal:
                fields[name] = given
    previous, following = _links(fiche, others)
    for name, label, given in (
        ("previous_rncp_codes", "fiches précédentes", previous),
        ("next_rncp_codes", "fiches suivantes", following),
    ):
        installed = getattr(certification, name)
        merged = _merged(installed, given)
        if merged != installed:
            plan.changes.append(Change(label, _shown(installed), _shown(merged)))
            fields[name] = merged
    if fields:
        plan._before.update({name: _jsonable(getattr(certification, name)) for name in fields})
        plan._after.update({name: _jsonable(value) for name, value in fields.items()})

        def update_fields(_actor):
            row = Certification.objects.select_for_update(of=("self",)).get(pk=certification.pk)
            for name, value in fields.items():
                setattr(row, name, value)
            row.full_clean()
            row.save(update_fields=list(fields))

        plan._operations.append(update_fields)
    _plan_rome(plan, certification, fiche)
    _plan_registration(plan, certification, fiche)
    _plan_pathways(plan, certification, fiche, signed_refusal)
    _plan_blocks(plan, certification, fiche, thresholds)
    _plan_links(plan, others, previous, following)


def _jsonable(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _plan_rome(plan: FichePreview, certification: Certification, fiche: ParsedFiche) -> None:
    installed = sorted((rome.code, rome.label) for rome in certification.rome_codes.all())
    given = sorted(fiche.rome_codes)
    if len(installed) == len(given) and all(
        a[0] == b[0] and _same_text(a[1], b[1]) for a, b in zip(installed, given, strict=True)
    ):
        return
    before = [f"{code} {label}" for code, label in installed]
    after = [f"{code} {label}" for code, label in given]
    plan.changes.append(Change("codes ROME", _shown(before), _shown(after)))
    plan._before["rome_codes"], plan._after["rome_codes"] = before, after

    def update_rome(_actor):
        certification.rome_codes.exclude(code__in=[code for code, _ in given]).delete()
        for code, label in given:
            RomeCode.objects.update_or_create(certification=certification, code=code, defaults={"label": label})

    plan._operations.append(update_rome)


def _registration_facts(registration: Registration) -> dict:
    return {
        "act": registration.act,
        "decision_date": _jsonable(registration.decision_date),
        "in_force_from": _jsonable(registration.in_force_from),
        "in_force_until": _jsonable(registration.in_force_until),
        "publication_date": _jsonable(registration.publication_date),
    }


def _plan_registration(plan: FichePreview, certification: Certification, fiche: ParsedFiche) -> None:
    if not (fiche.effect_date and fiche.end_date):
        plan.notes.append("la fiche ne donne pas de période d'enregistrement.")
        return
    installed = next((reg for reg in certification.registrations.all() if reg.in_force_from == fiche.effect_date), None)
    if installed is None:
        registration = _new_registration(fiche, certification)
        period = f"{fiche.act}, du {fiche.effect_date:%d/%m/%Y} au {fiche.end_date:%d/%m/%Y}"
        refusal = _refusal_of(registration)
        plan.changes.append(Change("nouvel enregistrement", "—", period, refusal))
        if not refusal:
            plan._after["nouvel enregistrement"] = _registration_facts(registration)
            plan._operations.append(_save_later(registration))
        return
    wanted: dict[str, object] = {"in_force_until": fiche.end_date}
    if fiche.decision_date:
        wanted["decision_date"] = fiche.decision_date
        wanted["act"] = fiche.act
    if fiche.last_jo_date:
        wanted["publication_date"] = fiche.last_jo_date
        wanted["publication"] = fiche.publication
    labels = {
        "in_force_until": "enregistrement : jusqu'au",
        "decision_date": "enregistrement : date de la décision",
        "act": "enregistrement : acte",
        "publication_date": "enregistrement : date de publication",
        "publication": "enregistrement : publication",
    }
    changed = {
        name: value
        for name, value in wanted.items()
        if not (
            _same_text(getattr(installed, name), value) if isinstance(value, str) else getattr(installed, name) == value
        )
    }
    if not changed:
        return
    before = {name: _jsonable(getattr(installed, name)) for name in changed}
    for name, value in changed.items():
        setattr(installed, name, value)
    refusal = _refusal_of(installed)
    for name, value in changed.items():
        plan.changes.append(Change(labels[name], _shown(_date_or(before[name])), _shown(value), refusal))
    if not refusal:
        plan._before[f"enregistrement du {fiche.effect_date:%d/%m/%Y}"] = before
        plan._after[f"enregistrement du {fiche.effect_date:%d/%m/%Y}"] = {
            name: _jsonable(value) for name, value in changed.items()
        }
        plan._operations.append(_save_later(installed))


def _date_or(value):
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _refusal_of(instance) -> str:
    try:
        instance.full_clean()
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


def _plan_pathways(plan: FichePreview, certification: Certification, fiche: ParsedFiche, signed_refusal: str) -> None:
    installed = {pathway.code: pathway for pathway in certification.pathways.all()}
    position = max((pathway.position for pathway in installed.values()), default=0)
    for parsed in fiche.pathways:
        pathway = installed.get(parsed.code)
        if pathway is None:
            position += 1
            new = AccessPathway(
                certification=certification,
                code=parsed.code,
                label=parsed.label,
                is_open=parsed.is_open,
                position=position,
            )
            plan.changes.append(Change(f"voie d'accès « {parsed.label} »", "—", "ouverte" if new.is_open else "fermée"))
            plan._after[f"voie d'accès « {parsed.label} »"] = {"is_open": parsed.is_open}
            plan._operations.append(_save_later(new))
        elif pathway.is_open != parsed.is_open:
            plan.changes.append(
                Change(f"voie d'accès « {pathway.label} » ouverte", _shown(pathway.is_open), _shown(parsed.is_open))
            )
            plan._before[f"voie d'accès « {parsed.label} »"] = {"is_open": pathway.is_open}
            plan._after[f"voie d'accès « {parsed.label} »"] = {"is_open": parsed.is_open}

            def set_open(_actor, pathway=pathway, is_open=parsed.is_open):
                pathway.is_open = is_open
                pathway.save(update_fields=["is_open"])

            plan._operations.append(set_open)
    rule = plan.jury_rule
    if rule is None:
        return  # missing: the apply refuses
    installed_rule = JuryCompositionRule.objects.filter(certification=certification).first()
    if installed_rule is None:
        plan.changes.append(Change("règle de composition des jurys", "—", rule.text.replace("\n", " / ")))
        plan._operations.append(lambda _actor: _set_rule(certification, None, rule))
        return
    applies_to = list(installed_rule.pathways.order_by("position").values_list("code", flat=True))
    facts = {
        "professionals_percent": (installed_rule.professionals_percent, rule.professionals_percent),
        "trainers_percent": (installed_rule.trainers_percent, rule.trainers_percent),
        "president_is_professional": (installed_rule.president_is_professional, rule.president_is_professional),
        "professionals_split_equally": (
            installed_rule.professionals_split_equally,
            rule.professionals_split_equally,
        ),
        "applies_to": (applies_to, rule.applies_to),
    }
    changed = {name: pair for name, pair in facts.items() if pair[0] != pair[1]}
    text_changed = not _same_text(installed_rule.text, rule.text)
    if not changed and not text_changed:
        return
    refusal = signed_refusal.replace("et leurs documents l'impriment", "selon cette règle") if changed else ""
    labels = {
        "professionals_percent": "jury : part de professionnels (%)",
        "trainers_percent": "jury : part de formateurs (%)",
        "president_is_professional": "jury : le président est un professionnel",
        "professionals_split_equally": "jury : salariés et employeurs à parts égales",
        "applies_to": "jury : voies d'accès où la règle s'applique",
    }
    for name, (before, after) in changed.items():
        plan.changes.append(Change(labels[name], _shown(before), _shown(after), refusal))
    if text_changed:
        plan.changes.append(
            Change(
                "jury : composition telle que la fiche l'écrit",
                installed_rule.text.replace("\n", " / "),
                rule.text.replace("\n", " / "),
                refusal,
            )
        )
    if not refusal:
        plan._before["jury_rule"] = {name: before for name, (before, _) in changed.items()} | {
            "text": installed_rule.text
        }
        plan._after["jury_rule"] = {name: after for name, (_, after) in changed.items()} | {"text": rule.text}
        plan._operations.append(lambda _actor: _set_rule(certification, installed_rule, rule))


def _set_rule(certification: Certification, installed: JuryCompositionRule | None, rule: ParsedJuryRule) -> None:
    target = installed or JuryCompositionRule(certification=certification)
    target.professionals_percent = rule.professionals_percent
    target.trainers_percent = rule.trainers_percent
    target.president_is_professional = rule.president_is_professional
    target.professionals_split_equally = rule.professionals_split_equally
    target.text = rule.text
    _saved(target)
    target.pathways.set(AccessPathway.objects.filter(certification=certification, code__in=rule.applies_to))


def _plan_blocks(
    plan: FichePreview, certification: Certification, fiche: ParsedFiche, thresholds: Mapping[str, ThresholdInput]
) -> None:
    frozen = Grid.objects.filter(block=OuterRef("pk"), frozen_at__isnull=False)
    blocks = (
        Block.objects.filter(certification=certification).with_current_grid().annotate(has_frozen_grid=Exists(frozen))
    )
    installed = {block.number: block for block in blocks}
    for parsed in fiche.blocks:
        block = installed.pop(parsed.number, None)
        try:
            threshold, problem = _threshold_for(parsed, thresholds)
            entry_error = ""
        except ValidationError as error:
            threshold, problem, entry_error = None, "", " ".join(error.messages)
        if block is None:
            preview = BlockPreview(
                code=parsed.code,
                number=parsed.number,
                title=parsed.title,
                status=CREATION,
                competences=parsed.competences,
                threshold=threshold,
                threshold_missing=(entry_error or problem) if threshold is None else "",
            )
            preview.changes.append(Change(f"bloc {parsed.code}", "—", f"{parsed.title} ({threshold_text(threshold)})"))
            plan.blocks.append(preview)
            plan._after[f"bloc {parsed.code}"] = {
                "title": parsed.title,
                "competences": parsed.competences,
                "threshold": threshold_text(threshold),
            }

            def create_block(_actor: User, parsed: ParsedBlock = parsed, preview: BlockPreview = preview) -> None:
                _create_block(certification, parsed, preview)

            plan._operations.append(create_block)
            continue
        preview = BlockPreview(
            code=parsed.code,
            number=parsed.number,
            title=parsed.title,
            status=NO_DIFFERENCE,
            competences=parsed.competences,
            threshold=threshold,
        )
        plan.blocks.append(preview)
        if threshold is None:
            # The fiche's words give no threshold (or staff's entry is refused): the rule installed here stands.
            preview.threshold = ParsedThreshold(
                kind=block.threshold_kind, value=block.threshold_value, out_of=block.declared_competence_count
            )
            if entry_error:
                preview.changes.append(Change(f"bloc {parsed.code} : seuil", "—", "—", entry_error))
        _plan_block_update(plan, preview, block, parsed)
    for block in installed.values():
        plan.notes.append(
            f"le bloc {block.code} installé ici n'est pas dans la fiche de France Compétences : il est conservé."
        )


def _plan_block_update(plan: FichePreview, preview: BlockPreview, block: Block, parsed: ParsedBlock) -> None:
    frozen = block.has_frozen_grid  # type: ignore[attr-defined]  # annotated by _plan_blocks: one query for all blocks
    frozen_refusal = (
        f"le bloc {parsed.code} a servi à une évaluation : sa règle et ses textes ne changent plus (chaque résultat "
        "reste jugé selon eux) ; une autre règle s'installe avec une nouvelle fiche"
        if frozen
        else ""
    )
    key = f"bloc {parsed.code}"
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    block_fields: dict[str, object] = {}
    for name, label, given in (
        ("title", "intitulé", parsed.title),
        ("evaluation_modality", "modalités d'évaluation", parsed.evaluation_modality),
    ):
        if not _same_text(getattr(block, name), given):
            preview.changes.append(Change(f"{key} : {label}", getattr(block, name), given, frozen_refusal))
            if not frozen:
                before[name], after[name] = getattr(block, name), given
                block_fields[name] = given
    threshold = preview.threshold
    assert threshold is not None
    installed_threshold = ParsedThreshold(
        kind=block.threshold_kind, value=block.threshold_value, out_of=block.declared_competence_count
    )
    rule_changed = (threshold.kind, Decimal(threshold.value), threshold.out_of) != (
        installed_threshold.kind,
        Decimal(installed_threshold.value),
        installed_threshold.out_of,
    )
    if rule_changed:
        preview.changes.append(
            Change(f"{key} : seuil", threshold_text(installed_threshold), threshold_text(threshold), frozen_refusal)
        )
        if not frozen:
            before["threshold"], after["threshold"] = threshold_text(installed_threshold), threshold_text(threshold)
            block_fields |= {
                "threshold_kind": threshold.kind,
                "threshold_value": threshold.value,
                "declared_competence_count": threshold.out_of,
            }
        else:
            preview.threshold = installed_threshold
    grid = block.current_grid
    current = [competence.label for competence in grid.competences.all()]
    competences_changed = not _same_list(current, parsed.competences)
    if competences_changed:
        declared = (preview.threshold or installed_threshold).out_of
        refusal = (
            f"la fiche liste {len(parsed.competences)} compétences, le bloc en déclare {declared}"
            if len(parsed.competences) > declared
            else ""
        )
        note = " (nouvelle version de la grille : la version en cours est figée)" if grid.is_frozen else ""
        preview.changes.append(
            Change(f"{key} : compétences{note}", _shown(current), _shown(parsed.competences), refusal)
        )
        if not refusal:
            before["competences"], after["competences"] = current, parsed.competences
            plan._operations.append(lambda _actor: _replace_competences(block, parsed.competences))
        else:
            competences_changed = False
    if block_fields:

        def update_block(_actor):
            row = Block.objects.select_for_update(of=("self",)).get(pk=block.pk)
            for name, value in block_fields.items():
                setattr(row, name, value)
            row.full_clean()
            row.save(update_fields=list(block_fields))

        plan._operations.append(update_block)
    if before or after:
        preview.status = UPDATE
        plan._before[key], plan._after[key] = before, after
    elif preview.changes:
        preview.status = UPDATE


def _replace_competences(block: Block, labels: list[str]) -> None:
    grid = Grid.objects.select_for_update(of=("self",)).filter(block=block).order_by("-version").first()
    assert grid is not None  # every block is created with its first grid
    if grid.is_frozen:
        grid = Grid.objects.create(block=block, version=grid.version + 1)
    else:
        grid.competences.all().delete()
    Competence.objects.bulk_create(
        Competence(grid=grid, position=position, label=label) for position, label in enumerate(labels, start=1)
    )


def _create_block(certification: Certification, parsed: ParsedBlock, preview: BlockPreview) -> None:
    threshold = preview.threshold
    assert threshold is not None  # the apply refuses while a threshold is missing
    block = _saved(
        Block(
            certification=certification,
            number=parsed.number,
            title=parsed.title,
            evaluation_modality=parsed.evaluation_modality,
            threshold_kind=threshold.kind,
            threshold_value=threshold.value,
            declared_competence_count=threshold.out_of,
        )
    )
    grid = Grid.objects.create(block=block, version=1)
    for position, label in enumerate(parsed.competences, start=1):
        _saved(Competence(grid=grid, position=position, label=label))


def _rule_from_input(fiche: ParsedFiche, value) -> ParsedJuryRule:
    """The jury rule staff entered for `fiche` (a ParsedJuryRule or its fields), checked."""
    code = fiche.rncp_label
    if isinstance(value, ParsedJuryRule):
        rule = value
    else:
        try:
            rule = ParsedJuryRule(
                professionals_percent=int(value["professionals_percent"]),
                trainers_percent=int(value["trainers_percent"]),
                president_is_professional=bool(value["president_is_professional"]),
                professionals_split_equally=bool(value["professionals_split_equally"]),
                applies_to=list(value["applies_to"]),
                text=str(value["text"]).strip(),
            )
        except (KeyError, TypeError, ValueError):
            raise ValidationError(f"Fiche {code} : la règle de composition des jurys saisie est incomplète.") from None
    if (
        rule.professionals_percent + rule.trainers_percent != 100
        or min(rule.professionals_percent, rule.trainers_percent) < 0
    ):
        raise ValidationError(f"Fiche {code} : les parts de professionnels et de formateurs doivent faire 100 %.")
    open_codes = [pathway.code for pathway in fiche.pathways if pathway.is_open]
    if not rule.applies_to or set(rule.applies_to) - set(open_codes):
        raise ValidationError(f"Fiche {code} : la règle s'applique à une ou plusieurs des voies d'accès ouvertes.")
    if not rule.text:
        raise ValidationError(f"Fiche {code} : écrivez la composition du jury telle que la fiche l'énonce.")
    return rule


def _plan(fiche: ParsedFiche, thresholds: Mapping[str, ThresholdInput], rules: dict) -> FichePreview:
    others = list(Certification.objects.exclude(rncp_code=fiche.rncp_code))
    certification = (
        Certification.objects.filter(rncp_code=fiche.rncp_code).prefetch_related("rome_codes", "registrations").first()
    )
    plan = FichePreview(fiche=fiche, certification=certification)
    entered = rules.get(fiche.rncp_label) or rules.get(fiche.rncp_code)
    if entered is not None:
        try:
            plan.jury_rule = _rule_from_input(fiche, entered)
        except ValidationError as error:
            plan.jury_rule, plan.jury_rule_missing = None, " ".join(error.messages)
    else:
        plan.jury_rule, plan.jury_rule_missing = fiche.jury_rule, fiche.jury_rule_problem
    if certification is None:
        _plan_creation(plan, thresholds, others)
    else:
        if plan.jury_rule is None and JuryCompositionRule.objects.filter(certification=certification).exists():
            # The installed rule stands while the fiche's words give none.
            plan.notes.append(
                f"règle de composition des jurys non lue ({plan.jury_rule_missing}) : celle installée reste."
            )
            plan.jury_rule_missing = ""
        _plan_update(plan, certification, thresholds, others)
    return plan


def fiche_import_preview(
    *, fiches: list[ParsedFiche], thresholds: Mapping[str, ThresholdInput] | None = None, rules: dict | None = None
) -> ImportPreview:
    """What importing `fiches` would do (nothing is written). `thresholds`: block code → (kind, value, out_of)
    entered by staff; `rules`: fiche code → the jury rule entered by staff (a ParsedJuryRule or its fields)."""
    return ImportPreview(fiches=[_plan(fiche, thresholds or {}, rules or {}) for fiche in fiches])


@transaction.atomic(durable=True)
def fiche_import_apply(
    *,
    fiches: list[ParsedFiche],
    thresholds: Mapping[str, ThresholdInput] | None,
    actor: User,
    rules: dict | None = None,
    is_example: bool = False,
) -> ImportPreview:
    """Install or update the certifications of `fiches`: only what changed, one audit trace per fiche. Refused while
    a threshold or the jury rule is missing; changes the preview refuses (frozen, signed) are left out.

    `is_example`: the fiches created are illustrative (flagged as such on every page), as the demo's successor."""
    preview = fiche_import_preview(fiches=fiches, thresholds=thresholds, rules=rules)
    for plan in preview.fiches:
        plan.is_example = is_example
    if preview.missing:
        raise ValidationError(
            "L'installation attend encore ces saisies : " + " ".join(preview.missing),
        )
    for plan in preview.fiches:
        creating = plan.is_creation
        for operation in plan._operations:
            operation(actor)
        if not creating and (plan._before or plan._after):
            assert plan.certification is not None
            record_audit(
                actor=actor,
                action=AuditAction.REFERENTIAL_FICHE_UPDATED,
                target=plan.certification,
                before=plan._before,
                after=plan._after,
            )
    return preview
