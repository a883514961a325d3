"""Holder declaration to the Caisse des Dépôts (article L.6113-8 du Code du travail): the flux XML of schema
cpf-1.1.2.xsd (namespace urn:cdc:cpf:pc5:schema:1.0.0), its validation, and the two services that record
the certifier's identifiers and each declared flux.

The schema is the file named by the setting `CDC_XSD_PATH` (by default the in-repo copy
`declarations/data/cdc/cpf-1.1.2.xsd`): a deployment replaces it when the CDC publishes a new kit, and each flux
records which schema validated it. Every flux is validated against it before it is recorded or offered; a holder whose file lacks a datum the schema requires is never written to a flux
(and never silently skipped: `missing_data` says what is missing).
"""

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from lxml import etree

from candidates.models import CertificationAward
from certif import clock
from certif.audit import AuditAction, record_audit
from certif.models import BackgroundJob, Certification
from declarations.models import CdcDeclarantSettings, HolderDeclaration, HolderDeclarationLine
from declarations.selectors import (
    access_mode_of,
    born_abroad,
    declaration_statuses,
    holder_queryset,
    missing_data,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "cdc" / "cpf-1.1.2.xsd"
CPF_NS = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"cpf": CPF_NS, "xsi": XSI_NS}

CERTIFICATION_TYPE = "RNCP"
NATURE_DEPOSANT = "CERTIFICATEUR"
# MPES is awarded by a jury's decision (admission), never by a score.
OBTENTION = "PAR_ADMISSION"


class FluxInvalid(Exception):
    """The flux built does not validate against the XSD: nothing is recorded, nothing is offered."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


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
    if award.is_withdrawn:
        # The schema has no annulation: a withdrawn certificate is declared again, its validity ending on the
        # day of the withdrawal.
        _el(passage, "dateFinValidite", award.withdrawal.decided_on.isoformat())
    else:
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
    # xsd:choice: the INSEE code; the postal code only when the commune is unknown. Overseas communes (971xx–976xx,
    # and the collectivities' 975xx, 977xx, 978xx, 98xxx) are French communes, as the COG writes them.
    commune = _el(titulaire, "codeCommuneNaissance")
    abroad = born_abroad(candidate)
    if not abroad and candidate.birth_insee_code:
        _el(_el(commune, "codeInseeNaissance"), "codeInsee", candidate.birth_insee_code)
    elif not abroad and candidate.birth_postal_code:
        _el(_el(commune, "codePostalNaissance"), "codePostal", candidate.birth_postal_code)
    else:
        # Born abroad (`missing_data` lets no one born in France through without a code): no French commune
        # code; the postal-code branch is the nillable one.
        _nil(_el(commune, "codePostalNaissance"), "codePostal")
    _optional(titulaire, "libelleCommuneNaissance", candidate.birth_commune, 60)
    if abroad:
        # The CDC matches people born abroad on the COG country code without its 99 prefix (« 109 »: Germany).
        _el(titulaire, "codePaysNaissance", candidate.birth_country_code[2:])
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


@dataclass(frozen=True)
class SchemaInUse:
    """The XSD file the deployment configured: its name, the version it states (if any) and its fingerprint."""

    path: Path
    name: str
    version: str
    sha256: str


def schema_in_use() -> SchemaInUse:
    """Read at each call (a few kilobytes), so that a replaced file is noticed without a restart."""
    path = Path(getattr(django_settings, "CDC_XSD_PATH", None) or SCHEMA_PATH)
    content = path.read_bytes()
    return SchemaInUse(
        path=path, name=path.name, version=_schema_version(content), sha256=hashlib.sha256(content).hexdigest()
    )


def _schema_version(content: bytes) -> str:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return (etree.fromstring(content, parser).get("version") or "").strip()[:50]


@cache
def _compiled_schema(path: str, sha256: str) -> etree.XMLSchema:
    # Keyed on the fingerprint: a file replaced in place is compiled again.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(path, parser))


def flux_schema(*, schema: SchemaInUse | None = None) -> etree.XMLSchema:
    schema = schema or schema_in_use()
    return _compiled_schema(str(schema.path), schema.sha256)


def schema_errors(*, xml: bytes, schema: SchemaInUse | None = None) -> list[str]:
    """The XSD's complaints about `xml` (empty when it is valid)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        return [f"XML mal formé : {error}"]
    compiled = flux_schema(schema=schema)
    if compiled.validate(document):
        return []
    return [f"ligne {error.line} : {error.message}" for error in compiled.error_log]


def sent_data(*, xml: bytes) -> dict[str, dict]:
    """Each passage of a flux as leaf element → text (None when nil), keyed by idTechnique."""
    document = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    result = {}
    for passage in document.iter(f"{{{CPF_NS}}}passageCertification"):
        data: dict[str, str | None] = {}
        for element in passage.iter():
            if len(element) or element is passage:
                continue
            name = etree.QName(element).localname
            data[name] = None if element.get(f"{{{XSI_NS}}}nil") == "true" else (element.text or "")
        result[data.get("idTechnique") or ""] = data
    return result


# — Services —


def _settings_snapshot(declarant: CdcDeclarantSettings) -> dict:
    return {
        "sender_id_client": declarant.sender_id_client,
        "certifier_id_client": declarant.certifier_id_client,
        "contract_id": declarant.contract_id,
    }


@transaction.atomic
def declarant_settings_save(
    *,
    certification: Certification,
    sender_id_client: str,
    certifier_id_client: str,
    contract_id: str,
    actor: User,
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
    *,
    certification: Certification,
    award_ids: Iterable[int],
    resend_ids: Iterable[int] = (),
    actor: User,
    now: datetime.datetime | None = None,
    background_job: BackgroundJob | None = None,
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
    statuses = declaration_statuses(awards)
    again = {award.pk for award in awards if statuses[award.pk].to_declare_again}
    withdrawn = [award for award in awards if award.is_withdrawn and award.pk not in again]
    if withdrawn:
        numbers = ", ".join(award.number for award in withdrawn)
        raise ValidationError(
            f"Certificat(s) retiré(s) : {numbers}. Un certificat retiré n'est pas déclaré comme valide à la Caisse "
            "des Dépôts."
        )
    already = [award for award in awards if award.declared_count and award.pk not in resend_ids | again]
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

    # The services' clock: a flux declared while the demo replays its history is dated in that history.
    now = now or clock.now()
    flux_id = new_flux_id(certification=certification, now=now)
    xml = build_flux(settings=declarant, flux_id=flux_id, now=now, awards=awards)
    schema = schema_in_use()
    errors = schema_errors(xml=xml, schema=schema)
    if errors:
        raise FluxInvalid(errors)
    sent = sent_data(xml=xml)

    declaration = HolderDeclaration.objects.create(
        flux_id=flux_id,
        certification=certification,
        created_at=now,
        created_by=actor,
        xml=xml,
        sha256=hashlib.sha256(xml).hexdigest(),
        schema_name=schema.name,
        schema_version=schema.version,
        schema_sha256=schema.sha256,
        background_job=background_job,
    )
    HolderDeclarationLine.objects.bulk_create(
        HolderDeclarationLine(
            declaration=declaration,
            award=award,
            is_resend=bool(award.declared_count),
            sent=sent.get(award.number, {}),
        )
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
            "schema": f"{schema.name} {schema.version}".strip(),
        },
    )
    return declaration
