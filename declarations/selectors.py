"""Reads of the holders' declaration: which awards a page or a flux lists, what each holder's file lacks, and the
access mode each holder is declared under."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Max, OuterRef, Prefetch, Subquery

from candidates import cog
from candidates.models import SCHEMA_BOUNDED_FIELDS, Candidate, CertificationAward, Enrolment, EnrolmentStatus
from certif.collation import person_order
from certif.models import Certification
from certif.validation import forbidden_character

if TYPE_CHECKING:
    from declarations.models import HolderDeclarationLine


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

MISSING_BIRTH_COMMUNE_CODE = "code INSEE ou, à défaut, code postal de la commune de naissance (né en France)"


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
        .order_by(*person_order("candidate__"), "number")
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


def certification_ids_with_cdc_settings() -> set[int]:
    """The certifications whose identifiers at the Caisse des Dépôts are recorded (no flux without them)."""
    from declarations.models import CdcDeclarantSettings

    return set(CdcDeclarantSettings.objects.values_list("certification_id", flat=True))


def born_abroad(candidate) -> bool:
    """Born in a country of the COG's list other than France (overseas France is France)."""
    country = cog.country(candidate.birth_country_code)
    return country is not None and country.code != cog.FRANCE_CODE


def _too_long(label: str, value: str, limit: int) -> str | None:
    return f"{label} trop long ({len(value)} caractères ; {limit} au plus)" if len(value) > limit else None


def birth_place_problems(candidate) -> list[str]:
    """What the holder's birth place lacks for the CDC to match them, checked against the COG's lists (a file
    recorded before the lists, or written around the model's validation, may hold anything)."""
    country = cog.country(candidate.birth_country_code)
    if country is None:
        typed = candidate.birth_country.strip()
        return [
            f"pays de naissance à vérifier (« {typed} » n'est pas dans la liste du COG)"
            if typed
            else "pays de naissance"
        ]
    if country.code != cog.FRANCE_CODE:
        if candidate.birth_insee_code or candidate.birth_postal_code:
            return ["lieu de naissance contradictoire (pays étranger et code de commune française)"]
        return []
    if candidate.birth_insee_code:
        if not cog.communes_with_code(candidate.birth_insee_code):
            return [f"code INSEE de naissance inconnu du COG (« {candidate.birth_insee_code} »)"]
        return []
    if candidate.birth_postal_code:
        if not cog.postal_code_exists(candidate.birth_postal_code):
            return [f"code postal de naissance inexistant (« {candidate.birth_postal_code} »)"]
        return []
    return [MISSING_BIRTH_COMMUNE_CODE]


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
    problems.extend(birth_place_problems(candidate))
    # The schema's limits (SCHEMA_BOUNDED_FIELDS): a value written around the model's validation would otherwise
    # be dropped from the flux (an optional element) or make the whole file fail (a required one).
    for name, limit in SCHEMA_BOUNDED_FIELDS.items():
        label = str(getattr(Candidate._meta.get_field(name), "verbose_name", name))
        value = (getattr(candidate, name) or "").strip()
        if name == "birth_country" and not born_abroad(candidate):
            continue  # not declared for a holder born in France
        if name in ("birth_insee_code", "birth_country_code"):
            continue  # checked against the lists above
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


# — What the Caisse des Dépôts answered for each holder, and what must be declared again —


@dataclass
class DeclarationStatus:
    """Where a holder stands with the CDC, from their latest line: never declared, sent (no report yet),
    accepted, or rejected (with the CDC's reason); `corrections` flagged since that line was sent."""

    last_line: "HolderDeclarationLine | None" = None
    accepted: bool | None = None  # None: never declared, or no report recorded for the latest flux
    reason: str = ""
    corrections: list = field(default_factory=list)  # HolderDeclarationCorrection not yet carried by a flux

    @property
    def declared(self) -> bool:
        return self.last_line is not None

    @property
    def rejected(self) -> bool:
        return self.accepted is False

    @property
    def to_correct(self) -> bool:
        return bool(self.corrections)

    @property
    def to_declare_again(self) -> bool:
        """A rejected holder is proposed again; a withdrawn one only to correct what the CDC holds."""
        if self.to_correct:
            return True
        return self.rejected and self.last_line is not None and not self.last_line.award.is_withdrawn

    @property
    def label(self) -> str:
        if self.last_line is None:
            return "Jamais déclaré"
        if self.to_correct:
            return "À corriger"
        if self.accepted is None:
            return "Envoyé, en attente de l'accusé de traitement"
        return "Accepté par la Caisse des Dépôts" if self.accepted else "Rejeté par la Caisse des Dépôts"


def declaration_statuses(awards) -> dict[int, DeclarationStatus]:
    """Each award's DeclarationStatus, in two queries whatever the number of awards."""
    from declarations.models import HolderDeclarationCorrection, HolderDeclarationLine, HolderDeclarationOutcome

    by_pk = {award.pk: award for award in awards}
    statuses = {pk: DeclarationStatus() for pk in by_pk}
    if not by_pk:
        return statuses
    latest = {}
    for line in (
        HolderDeclarationLine.objects.filter(award_id__in=by_pk).select_related("outcome").order_by("award_id", "pk")
    ):
        latest[line.award_id] = line  # lines are written in order: the highest pk is the latest flux
    for award_pk, line in latest.items():
        line.award = by_pk[award_pk]
        status = statuses[award_pk]
        status.last_line = line
        try:
            outcome = line.outcome
        except HolderDeclarationOutcome.DoesNotExist:
            outcome = None
        if outcome is not None:
            status.accepted, status.reason = outcome.accepted, outcome.reason
    for correction in HolderDeclarationCorrection.objects.filter(award_id__in=by_pk).order_by("flagged_at", "pk"):
        status = statuses[correction.award_id]
        if status.last_line is not None and correction.after_line_id == status.last_line.pk:
            status.corrections.append(correction)
    return statuses
