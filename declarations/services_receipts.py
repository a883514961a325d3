"""What the Caisse des Dépôts answers for a flux: its processing report (« accusé de traitement »), recorded
holder by holder; and the corrections a rectified or withdrawn certificate calls for.

The report is the XML the certifiers' portal returns for each flux deposited, as other certifiers read it:

    <rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">
      <nomFichier>RNCP16204-….xml</nomFichier> <idFlux>RNCP16204-…</idFlux> <idTraitement>67598</idTraitement>
      <PassagesKO><passage><idTechnique>MPES-2026-0002</idTechnique><messageErreur>…</messageErreur></passage></PassagesKO>
      <PassagesOK><idTechnique>MPES-2026-0001</idTechnique></PassagesOK>
    </rapport>

or, when the whole file was refused, `<erreurs><erreur><type/><message/><ligne/><colonne/></erreur></erreurs>`
(without idFlux). `idTechnique` is the certificate number (see `services._passage`).
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from lxml import etree

from candidates.models import CertificationAward, Withdrawal
from certif.audit import AuditAction, record_audit
from declarations.models import (
    CorrectionKind,
    HolderDeclaration,
    HolderDeclarationCorrection,
    HolderDeclarationLine,
    HolderDeclarationOutcome,
    HolderDeclarationReceipt,
)
from juries.models import Rectification

REPORT_NS = "urn:cdc:cpf:pc5:rapport:schema"
MAX_REPORT_BYTES = 5 * 1024 * 1024
# The CDC answers a passage it already holds as an error; it does hold the holder, as declared.
ALREADY_HELD = "existe déjà en base"

NOT_A_REPORT = (
    "Ce fichier n'est pas un accusé de traitement de la Caisse des Dépôts : un fichier XML dont l'élément racine "
    "est « rapport » est attendu."
)


@dataclass
class ParsedReport:
    flux_id: str = ""
    file_name: str = ""
    processing_id: str = ""
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    file_errors: list[str] = field(default_factory=list)

    @property
    def numbers(self) -> set[str]:
        return set(self.accepted) | set(self.rejected)


def _child_text(element, name: str) -> str:
    found = element.find(name)
    if found is None:
        found = element.find(f"{{{REPORT_NS}}}{name}")
    return " ".join((found.text or "").split()) if found is not None else ""


def _children(element, name: str):
    return [*element.iterfind(name), *element.iterfind(f"{{{REPORT_NS}}}{name}")]


def _parse(report: bytes) -> ParsedReport:
    """The report read safely (no network, no entities, no DTD, bounded size), or a French refusal."""
    if not report:
        raise ValidationError("Le fichier déposé est vide.")
    if len(report) > MAX_REPORT_BYTES:
        raise ValidationError(
            f"Le fichier déposé dépasse {MAX_REPORT_BYTES // (1024 * 1024)} Mo : ce n'est pas un accusé de traitement."
        )
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(report, parser)
    except etree.XMLSyntaxError:
        raise ValidationError(NOT_A_REPORT) from None
    if root.getroottree().docinfo.doctype:
        raise ValidationError("Un accusé de traitement ne contient pas de déclaration DOCTYPE : fichier refusé.")
    if not isinstance(root.tag, str) or etree.QName(root).localname != "rapport":
        raise ValidationError(NOT_A_REPORT)
    parsed = ParsedReport(
        flux_id=_child_text(root, "idFlux"),
        file_name=_child_text(root, "nomFichier"),
        processing_id=_child_text(root, "idTraitement")[:100],
    )
    for ok in _children(root, "PassagesOK"):
        parsed.accepted += [
            number for element in _children(ok, "idTechnique") if (number := (element.text or "").strip())
        ]
    for ko in _children(root, "PassagesKO"):
        for passage in _children(ko, "passage"):
            number = _child_text(passage, "idTechnique")
            if not number:
                raise ValidationError("Un titulaire rejeté de l'accusé de traitement n'a pas d'idTechnique.")
            message = _child_text(passage, "messageErreur") or "Rejeté, sans motif indiqué"
            code = _child_text(passage, "codeErreur")
            parsed.rejected[number] = f"{message} (code {code})" if code else message
    for errors in _children(root, "erreurs"):
        for error in _children(errors, "erreur"):
            where = ", ".join(
                f"{label} {value}"
                for label, value in (("ligne", _child_text(error, "ligne")), ("colonne", _child_text(error, "colonne")))
                if value
            )
            kind = _child_text(error, "type")
            parsed.file_errors.append(
                f"Fichier refusé par la Caisse des Dépôts{f' ({kind})' if kind else ''}"
                f"{f', {where}' if where else ''} : {_child_text(error, 'message') or 'sans motif indiqué'}"
            )
    both = set(parsed.accepted) & set(parsed.rejected)
    if both:
        raise ValidationError(
            f"L'accusé de traitement donne à la fois accepté et rejeté pour : {', '.join(sorted(both))}."
        )
    if not parsed.numbers and not parsed.file_errors:
        raise ValidationError("L'accusé de traitement ne nomme aucun titulaire, accepté ou rejeté.")
    return parsed


def _check_it_is_this_flux(declaration: HolderDeclaration, parsed: ParsedReport, lines: dict) -> None:
    named = parsed.flux_id or parsed.file_name.removesuffix(".xml")
    others = HolderDeclaration.objects.filter(certification_id=declaration.certification_id).exclude(pk=declaration.pk)
    if named and named != declaration.flux_id:
        other = others.filter(flux_id=named).first()
        if other is not None:
            raise ValidationError(
                f"Cet accusé de traitement concerne le flux {other.flux_id}, pas le flux {declaration.flux_id} : "
                "déposez-le sur la page de son flux."
            )
        if parsed.flux_id:
            raise ValidationError(
                f"Cet accusé de traitement concerne un flux inconnu (idFlux « {parsed.flux_id} ») : il ne répond à "
                "aucun flux de cette certification."
            )
    if not named and not parsed.numbers:
        raise ValidationError("Cet accusé de traitement ne permet pas de retrouver son flux (ni idFlux, ni titulaire).")
    unknown = sorted(parsed.numbers - set(lines))
    if not unknown:
        return
    elsewhere = set(
        HolderDeclarationLine.objects.filter(declaration__in=others, award__number__in=unknown).values_list(
            "award__number", flat=True
        )
    )
    foreign = [number for number in unknown if number not in elsewhere]
    if foreign:
        raise ValidationError(
            f"Cet accusé de traitement nomme des titulaires inconnus de cette certification : {', '.join(foreign)}. "
            "Il ne répond pas à un flux de l'IRUP pour cette certification : rien n'a été enregistré."
        )
    raise ValidationError(
        f"Cet accusé de traitement nomme des titulaires qui ne figurent pas dans le flux {declaration.flux_id} : "
        f"{', '.join(unknown)}. Déposez-le sur la page du flux qui les a déclarés."
    )


@transaction.atomic(durable=True)
def receipt_record(*, declaration: HolderDeclaration, report: bytes, actor: User) -> HolderDeclarationReceipt:
    """Record the CDC's report for `declaration`: each holder line named becomes accepted or rejected with the
    CDC's reason (a whole-file refusal rejects every line). A bad, foreign or second report changes nothing."""
    declaration = HolderDeclaration.objects.select_for_update(of=("self",)).defer("xml").get(pk=declaration.pk)
    existing = HolderDeclarationReceipt.objects.filter(declaration=declaration).first()
    if existing is not None:
        raise ValidationError(
            f"L'accusé de traitement du flux {declaration.flux_id} est déjà enregistré (le "
            f"{timezone.localtime(existing.recorded_at):%d/%m/%Y}) : il ne se remplace pas."
        )
    parsed = _parse(bytes(report))
    lines = {line.award.number: line for line in declaration.lines.select_related("award")}
    _check_it_is_this_flux(declaration, parsed, lines)

    receipt = HolderDeclarationReceipt.objects.create(
        declaration=declaration,
        recorded_by=actor,
        report=bytes(report),
        sha256=hashlib.sha256(report).hexdigest(),
        processing_id=parsed.processing_id,
        file_errors=parsed.file_errors,
    )
    outcomes = []
    if parsed.file_errors and not parsed.numbers:
        reason = " ; ".join(parsed.file_errors)
        outcomes = [
            HolderDeclarationOutcome(receipt=receipt, line=line, accepted=False, reason=reason)
            for line in lines.values()
        ]
    else:
        for number in parsed.accepted:
            outcomes.append(HolderDeclarationOutcome(receipt=receipt, line=lines[number], accepted=True))
        for number, reason in parsed.rejected.items():
            held = ALREADY_HELD in reason.casefold()
            outcomes.append(HolderDeclarationOutcome(receipt=receipt, line=lines[number], accepted=held, reason=reason))
    HolderDeclarationOutcome.objects.bulk_create(outcomes)
    answered = {outcome.line.award.number for outcome in outcomes}
    record_audit(
        actor=actor,
        action=AuditAction.CDC_RECEIPT_RECORDED,
        target=receipt,
        after={
            "flux_id": declaration.flux_id,
            "sha256": receipt.sha256,
            "accepted": sorted(o.line.award.number for o in outcomes if o.accepted),
            "rejected": sorted(f"{o.line.award.number} : {o.reason}" for o in outcomes if not o.accepted),
            "unanswered": sorted(set(lines) - answered),
        },
    )
    return receipt


def report_build(
    *,
    flux_id: str | None,
    accepted: Iterable[str] = (),
    rejected: dict[str, str] | None = None,
    file_name: str | None = None,
    processing_id: str = "1",
) -> bytes:
    """A processing report in the CDC's format, for the given certificate numbers (tests and the demo)."""
    root = etree.Element("rapport", nsmap={"ns2": REPORT_NS})
    etree.SubElement(root, "nomFichier").text = file_name or f"{flux_id or 'flux'}.xml"
    if flux_id:
        etree.SubElement(root, "idFlux").text = flux_id
    etree.SubElement(root, "idTraitement").text = processing_id
    if rejected:
        ko = etree.SubElement(root, "PassagesKO")
        for number, message in rejected.items():
            passage = etree.SubElement(ko, "passage")
            etree.SubElement(passage, "idTechnique").text = number
            etree.SubElement(passage, "messageErreur").text = message
    if accepted:
        ok = etree.SubElement(root, "PassagesOK")
        for number in accepted:
            etree.SubElement(ok, "idTechnique").text = number
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True, pretty_print=True)


# — Corrections: a declared certificate whose data changed —


def _flag(*, award: CertificationAward, kind: str, description: str, actor: User) -> HolderDeclarationCorrection | None:
    last_line = HolderDeclarationLine.objects.filter(award=award).order_by("-pk").first()
    if last_line is None:
        return None  # never declared: its first declaration will carry the data as it is then
    correction = HolderDeclarationCorrection.objects.create(
        award=award, after_line=last_line, kind=kind, description=description
    )
    record_audit(
        actor=actor,
        action=AuditAction.CDC_CORRECTION_FLAGGED,
        target=correction,
        after={"certificate": award.number, "kind": correction.get_kind_display(), "description": description},
    )
    return correction


def corrections_flag_rectified(*, rectification: Rectification, actor: User) -> list[HolderDeclarationCorrection]:
    """On juries.signals.decision_rectified: the candidate's declared certificates of that certification."""
    decision = rectification.decision
    presentation = decision.presentation
    awards = CertificationAward.objects.filter(
        candidate_id=presentation.enrolment.candidate_id,
        certification_id=presentation.session.certification_id,
        declaration_lines__isnull=False,
    ).distinct()
    description = (
        f"Décision du jury rectifiée le {timezone.localtime(rectification.signed_at):%d/%m/%Y} "
        f"(bloc {decision.block.number}, {rectification.get_outcome_display().lower()}) : {rectification.reason}"
    )
    flagged = [
        _flag(award=award, kind=CorrectionKind.RECTIFIED, description=description, actor=actor) for award in awards
    ]
    return [correction for correction in flagged if correction is not None]


def corrections_flag_withdrawn(
    *, withdrawal: Withdrawal, award: CertificationAward | None, actor: User
) -> list[HolderDeclarationCorrection]:
    """On candidates.signals.results_withdrawn: a declared certificate withdrawn is declared again, ended."""
    if award is None:
        return []
    description = (
        f"Certificat retiré le {withdrawal.decided_on:%d/%m/%Y} ({withdrawal.reference}) : {withdrawal.reason}"
    )
    correction = _flag(award=award, kind=CorrectionKind.WITHDRAWN, description=description, actor=actor)
    return [correction] if correction else []
