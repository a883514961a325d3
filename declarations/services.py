"""Holder declaration to the Caisse des Dépôts (article L.6113-8 du Code du travail): the flux XML of schema
cpf-1.1.2.xsd (namespace urn:cdc:cpf:pc5:schema:1.0.0), its validation, and the two services that record
the certifier's identifiers and each declared flux.

The schema is the in-repo copy `declarations/data/cdc/cpf-1.1.2.xsd`. Every flux is validated against it before
it is recorded or offered; a holder whose file lacks a datum the schema requires is never written to a flux
(and never silently skipped: `missing_data` says what is missing).
"""

import datetime
import hashlib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Prefetch, Subquery
from django.utils import timezone
from lxml import etree

from candidates.models import CertificationAward, Enrolment, EnrolmentStatus
from certif.audit import AuditAction, record_audit
from certif.models import Certification
from certif.validation import forbidden_character
from declarations.models import CdcDeclarantSettings, HolderDeclaration, HolderDeclarationLine

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "cdc" / "cpf-1.1.2.xsd"
CPF_NS = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"cpf": CPF_NS, "xsi": XSI_NS}

CERTIFICATION_TYPE = "RNCP"
NATURE_DEPOSANT = "CERTIFICATEUR"
# MPES is awarded by a jury's decision (admission), never by a score.
OBTENTION = "PAR_ADMISSION"


@dataclass(frozen=True)
class AccessMode:
    modalite: str  # modalitesInscription/modaliteAcces
    vae_route: str | None = None  # modalitesInscription/voieAccessVAE, only with VAE
    label: str = ""


# AccessPathway.code → modaliteAcces (enumeration `modaliteAcces` of the XSD).
PATHWAY_ACCESS_MODES: dict[str, AccessMode] = {
    "formation-initiale": AccessMode("FORMATION_INITIALE_HORS_APPRENTISSAGE", label="Formation initiale"),
    "apprentissage": AccessMode("FORMATION_INITIALE_APPRENTISSAGE", label="Apprentissage"),
    "formation-continue": AccessMode(
        "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION", label="Formation continue"
    ),
    "professionnalisation": AccessMode(
        "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION", label="Contrat de professionnalisation"
    ),
    "candidature-individuelle": AccessMode("CANDIDAT_LIBRE", label="Candidat libre"),
    # The application records no congé VAE: a VAE is declared as the ordinary route.
    "vae": AccessMode("VAE", vae_route="VAE_CLASSIQUE", label="VAE"),
}

FRANCE = "france"
MISSING_BIRTH_COMMUNE_CODE = "code INSEE ou, à défaut, code postal de la commune de naissance (né en France)"


class FluxInvalid(Exception):
    """The flux built does not validate against the XSD: nothing is recorded, nothing is offered."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


# — Reading the holders —


def holder_queryset(certification: Certification):
    """The certification's awards with what a declaration page and a flux need, in a fixed number of queries.

    `certified_enrolment_id`: the enrolment presented to the jury session that awarded the certification
    (None for an award without a session, e.g. history taken over); `declared_count` / `last_declared_at`:
    earlier declarations of this award.
    """
    from juries.models import Presentation

    certified_enrolment = Presentation.objects.filter(
        session_id=OuterRef("jury_session_link__session_id"), enrolment__candidate_id=OuterRef("candidate_id")
    ).values("enrolment_id")[:1]
    return (
        CertificationAward.objects.filter(certification=certification)
        .select_related("candidate", "withdrawal")
        .prefetch_related(
            Prefetch(
                "candidate__enrolments",
                queryset=Enrolment.objects.select_related("cohort__pathway").order_by("-enrolled_on", "-pk"),
            )
        )
        .annotate(
            certified_enrolment_id=Subquery(certified_enrolment),
            declared_count=Count("declaration_lines"),
            last_declared_at=Max("declaration_lines__declaration__created_at"),
        )
        .order_by("candidate__birth_name", "candidate__first_name", "number")
    )


def enrolment_of(award: CertificationAward) -> Enrolment | None:
    """The enrolment the holder was certified through; when unknown, the most recent one not withdrawn."""
    enrolments = list(award.candidate.enrolments.all())  # prefetched, newest first
    certified_id = getattr(award, "certified_enrolment_id", None)
    for enrolment in enrolments:
        if enrolment.pk == certified_id:
            return enrolment
    active = [enrolment for enrolment in enrolments if enrolment.status != EnrolmentStatus.WITHDRAWN]
    return next(iter(active or enrolments), None)


def access_mode_of(award: CertificationAward) -> AccessMode | None:
    enrolment = enrolment_of(award)
    return PATHWAY_ACCESS_MODES.get(enrolment.cohort.pathway.code) if enrolment else None


def _born_abroad(candidate) -> bool:
    return bool(candidate.birth_country.strip()) and _fold(candidate.birth_country) != FRANCE


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text.strip()).encode("ascii", "ignore").decode().casefold()


def _too_long(label: str, value: str, limit: int) -> str | None:
    return f"{label} trop long ({len(value)} caractères ; {limit} au plus)" if len(value) > limit else None


def missing_data(award: CertificationAward) -> list[str]:
    """What the holder's file lacks for the flux (in French), empty when the holder can be declared."""
    candidate = award.candidate
    problems = []
    if not candidate.birth_name.strip():
        problems.append("nom de naissance")
    if not candidate.first_name.strip():
        problems.append("prénom")
    if candidate.sex not in ("F", "M"):
        problems.append("sexe")
    if candidate.birth_date is None:
        problems.append("date de naissance")
    elif not 1900 <= candidate.birth_date.year <= 2099:
        problems.append("date de naissance (année entre 1900 et 2099 attendue)")
    if not candidate.birth_insee_code and not candidate.birth_postal_code:
        if not candidate.birth_country.strip():
            problems.append("pays de naissance")
        elif not _born_abroad(candidate):
            problems.append(MISSING_BIRTH_COMMUNE_CODE)
    for label, value, limit in (
        ("nom de naissance", candidate.birth_name.strip(), 60),
        ("nom d'usage", candidate.usage_name.strip(), 60),
        ("pays de naissance", candidate.birth_country.strip() if _born_abroad(candidate) else "", 60),
    ):
        if problem := _too_long(label, value, limit):
            problems.append(problem)
    if not award.number.strip():
        problems.append("numéro de certificat")
    # Recorded before the input rules refused them, a control character would make lxml refuse the whole flux.
    for label, value in (
        ("nom de naissance", candidate.birth_name),
        ("nom d'usage", candidate.usage_name),
        ("prénom", candidate.first_name),
        ("deuxième prénom", candidate.second_first_name),
        ("troisième prénom", candidate.third_first_name),
        ("commune de naissance", candidate.birth_commune),
        ("code INSEE de naissance", candidate.birth_insee_code),
        ("code postal de naissance", candidate.birth_postal_code),
        ("pays de naissance", candidate.birth_country),
        ("numéro de certificat", award.number),
    ):
        if problem := forbidden_character(value):
            problems.append(f"{label} ({problem})")
    return problems


# — Building and validating the flux —


def new_flux_id(*, certification: Certification, now: datetime.datetime) -> str:
    """`RNCP16204-20261126174400-0003`: readable, ≤ 50 characters, unique (the sequence is per certification)."""
    sequence = HolderDeclaration.objects.filter(certification=certification).count() + 1
    return f"{certification.rncp_label}-{timezone.localtime(now):%Y%m%d%H%M%S}-{sequence:04d}"


def _horodatage(now: datetime.datetime) -> str:
    """Local date-time with its offset and no fraction of a second, as the XSD pattern requires."""
    return timezone.localtime(now).replace(microsecond=0).isoformat()


def _el(parent, name: str, text=None):
    element = etree.SubElement(parent, f"{{{CPF_NS}}}{name}")
    if text is not None:
        element.text = str(text)
    return element


def _nil(parent, name: str):
    element = _el(parent, name)
    element.set(f"{{{XSI_NS}}}nil", "true")
    return element


def _optional(parent, name: str, value: str, limit: int):
    value = value.strip()
    if value and len(value) <= limit:
        _el(parent, name, value)


def _passage(parent, award: CertificationAward) -> None:
    """One passageCertification, children in the XSD's declaration order (xsd:all accepts any order)."""
    candidate = award.candidate
    passage = _el(parent, "passageCertification")
    _el(passage, "idTechnique", award.number)  # stable: the certificate number
    # urlPreuve, libelleOption: no public proof URL and MPES has no option — omitted (minOccurs 0).
    _el(passage, "obtentionCertification", OBTENTION)
    _el(passage, "donneeCertifiee", "true")
    # dateDebutExamen, dateFinExamen, modalitePassageExamen, codePostalCentreExamen: optional, omitted.
    _el(passage, "dateDebutValidite", award.awarded_on.isoformat())
    _nil(passage, "dateFinValidite")  # « Validité des composantes acquises : illimitée »
    _el(passage, "presenceNiveauLangueEuro", "false")
    _el(passage, "presenceNiveauNumeriqueEuro", "false")
    _nil(passage, "scoring")
    _nil(passage, "mentionValidee")  # MPES is awarded without a mention

    modalites = _el(passage, "modalitesInscription")
    mode = access_mode_of(award)
    if mode is None:
        _nil(modalites, "modaliteAcces")
    else:
        _el(modalites, "modaliteAcces", mode.modalite)
        if mode.vae_route:
            _el(modalites, "voieAccessVAE", mode.vae_route)

    titulaire = _el(_el(passage, "identificationTitulaire"), "titulaire")
    _el(titulaire, "nomNaissance", candidate.birth_name.strip())
    if candidate.usage_name.strip():
        _el(titulaire, "nomUsage", candidate.usage_name.strip())
    else:
        _nil(titulaire, "nomUsage")
    _el(titulaire, "prenom1", candidate.first_name.strip())
    _optional(titulaire, "prenom2", candidate.second_first_name, 60)
    _optional(titulaire, "prenom3", candidate.third_first_name, 60)
    _el(titulaire, "anneeNaissance", candidate.birth_date.year)
    _el(titulaire, "moisNaissance", candidate.birth_date.month)
    _el(titulaire, "jourNaissance", candidate.birth_date.day)
    _el(titulaire, "sexe", candidate.sex)
    # xsd:choice: the INSEE code, otherwise the postal code (codePostalNaissance/codePostal, 1 to 9 characters).
    commune = _el(titulaire, "codeCommuneNaissance")
    if candidate.birth_insee_code:
        _el(_el(commune, "codeInseeNaissance"), "codeInsee", candidate.birth_insee_code)
    elif candidate.birth_postal_code:
        _el(_el(commune, "codePostalNaissance"), "codePostal", candidate.birth_postal_code)
    else:
        # Born abroad (`missing_data` lets no one born in France through without a code): no French commune
        # code; the postal-code branch is the nillable one.
        _nil(_el(commune, "codePostalNaissance"), "codePostal")
    _optional(titulaire, "libelleCommuneNaissance", candidate.birth_commune, 60)
    # codePaysNaissance (3 characters) is omitted: the application stores the country's name, not a code.
    _optional(titulaire, "libellePaysNaissance", candidate.birth_country, 60)


def build_flux(
    *, settings: CdcDeclarantSettings, flux_id: str, now: datetime.datetime, awards: list[CertificationAward]
) -> bytes:
    certification = settings.certification
    flux = etree.Element(f"{{{CPF_NS}}}flux", nsmap=NSMAP)
    _el(flux, "idFlux", flux_id)
    _el(flux, "horodatage", _horodatage(now))
    emetteur = _el(flux, "emetteur")
    _el(emetteur, "idClient", settings.sender_id_client)
    certificateur = _el(_el(emetteur, "certificateurs"), "certificateur")
    _el(certificateur, "idClient", settings.certifier_id_client)
    _el(certificateur, "idContrat", settings.contract_id)
    element = _el(_el(certificateur, "certifications"), "certification")
    _el(element, "type", CERTIFICATION_TYPE)
    _el(element, "code", certification.rncp_label)
    _el(element, "natureDeposant", NATURE_DEPOSANT)
    passages = _el(element, "passageCertifications")
    for award in awards:
        _passage(passages, award)
    return etree.tostring(flux, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@cache
def flux_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def schema_errors(xml: bytes) -> list[str]:
    """The XSD's complaints about `xml` (empty when it is valid)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        return [f"XML mal formé : {error}"]
    schema = flux_schema()
    if schema.validate(document):
        return []
    return [f"ligne {error.line} : {error.message}" for error in schema.error_log]


# — Services —


def _settings_snapshot(declarant: CdcDeclarantSettings) -> dict:
    return {
        "sender_id_client": declarant.sender_id_client,
        "certifier_id_client": declarant.certifier_id_client,
        "contract_id": declarant.contract_id,
    }


@transaction.atomic
def declarant_settings_save(
    *, certification: Certification, sender_id_client: str, certifier_id_client: str, contract_id: str, actor
) -> CdcDeclarantSettings:
    declarant = CdcDeclarantSettings.objects.select_for_update(of=("self",)).filter(
        certification=certification
    ).first() or CdcDeclarantSettings(certification=certification)
    before = _settings_snapshot(declarant) if declarant.pk else None
    declarant.sender_id_client = sender_id_client.strip()
    declarant.certifier_id_client = certifier_id_client.strip()
    declarant.contract_id = contract_id.strip()
    declarant.full_clean()
    after = _settings_snapshot(declarant)
    if before == after:
        return declarant
    declarant.save()
    record_audit(actor=actor, action=AuditAction.CDC_SETTINGS_CHANGED, target=declarant, before=before, after=after)
    return declarant


@transaction.atomic
def holder_declaration_create(
    *, certification: Certification, award_ids, resend_ids=(), actor, now: datetime.datetime | None = None
) -> HolderDeclaration:
    """Record and return one flux declaring the awards `award_ids` (never declared) and `resend_ids`
    (declared before, sent again on purpose: recorded `is_resend`).

    Refused when an award of `award_ids` was already declared (re-sending is a deliberate act), when a
    holder's file lacks a datum, or without the certifier's identifiers. Raises `FluxInvalid` — and records
    nothing — when the flux built does not validate against the XSD.
    """
    certification = Certification.objects.select_for_update(of=("self",)).get(pk=certification.pk)  # one flux at a time
    declarant = CdcDeclarantSettings.objects.filter(certification=certification).first()
    if declarant is None:
        raise ValidationError(
            "Enregistrez d'abord les identifiants de l'IRUP auprès de la Caisse des Dépôts (émetteur, "
            "certificateur, contrat)."
        )
    try:
        declarant.full_clean()
    except ValidationError as error:
        raise ValidationError(
            "Les identifiants de l'IRUP auprès de la Caisse des Dépôts sont à corriger avant toute déclaration : "
            + " ".join(error.messages)
        ) from None
    award_ids, resend_ids = {int(pk) for pk in award_ids}, {int(pk) for pk in resend_ids}
    awards = list(holder_queryset(certification).filter(pk__in=award_ids | resend_ids))
    if not awards or len(awards) != len(award_ids | resend_ids):
        raise ValidationError("Sélectionnez au moins un titulaire de cette certification à déclarer.")
    withdrawn = [award for award in awards if award.is_withdrawn]
    if withdrawn:
        numbers = ", ".join(award.number for award in withdrawn)
        raise ValidationError(
            f"Certificat(s) retiré(s) : {numbers}. Un certificat retiré n'est pas déclaré comme valide à la Caisse "
            "des Dépôts."
        )
    already = [award for award in awards if award.declared_count and award.pk not in resend_ids]
    if already:
        numbers = ", ".join(award.number for award in already)
        raise ValidationError(
            f"Déjà déclaré(s) à la Caisse des Dépôts : {numbers}. Pour les déclarer une nouvelle fois, "
            "cochez « Déclarer à nouveau »."
        )
    incomplete = [(award, missing_data(award)) for award in awards]
    incomplete = [(award, problems) for award, problems in incomplete if problems]
    if incomplete:
        details = " ; ".join(f"{award.candidate} ({', '.join(problems)})" for award, problems in incomplete)
        raise ValidationError(f"Dossier incomplet, à compléter avant la déclaration : {details}.")

    now = now or timezone.now()
    flux_id = new_flux_id(certification=certification, now=now)
    xml = build_flux(settings=declarant, flux_id=flux_id, now=now, awards=awards)
    errors = schema_errors(xml)
    if errors:
        raise FluxInvalid(errors)

    declaration = HolderDeclaration.objects.create(
        flux_id=flux_id,
        certification=certification,
        created_at=now,
        created_by=actor,
        xml=xml,
        sha256=hashlib.sha256(xml).hexdigest(),
    )
    HolderDeclarationLine.objects.bulk_create(
        HolderDeclarationLine(declaration=declaration, award=award, is_resend=bool(award.declared_count))
        for award in awards
    )
    record_audit(
        actor=actor,
        action=AuditAction.CDC_HOLDERS_DECLARED,
        target=declaration,
        after={
            "flux_id": flux_id,
            "sha256": declaration.sha256,
            "declared": sorted(award.number for award in awards if not award.declared_count),
            "resent": sorted(award.number for award in awards if award.declared_count),
        },
    )
    return declaration
