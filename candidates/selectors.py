"""Reads: what the pages, documents and services show or check, never a write."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.formats import date_format

from candidates.models import (
    AcquiredBlock,
    AcquiredBlockSource,
    Candidate,
    CertificationAward,
    Enrolment,
    EnrolmentStatus,
    Withdrawal,
    WithdrawnBlock,
    admissibility_label,
    joined_first_names,
)
from certif.audit import audit_trail
from certif.collation import person_order
from certif.models import Block, BlockCorrespondence, Certification

CANDIDATE_AUDITED_FIELDS = [
    "birth_name",
    "usage_name",
    "first_name",
    "second_first_name",
    "third_first_name",
    "sex",
    "birth_date",
    "birth_commune",
    "birth_insee_code",
    "birth_postal_code",
    "birth_country_code",
    "birth_country",
    "email",
    "phone",
    "address",
    "postal_code",
    "city",
    "employer_name",
    "employer_kind",
    "job_title",
]


def audit_value(value):
    """A value as the audit trace stores it (JSON: a date as ISO text)."""
    return value.isoformat() if isinstance(value, datetime.date) else value


def candidate_snapshot(candidate: Candidate) -> dict:
    return {field: audit_value(getattr(candidate, field)) for field in CANDIDATE_AUDITED_FIELDS}


class BlockStatus:
    ACQUIRED = "acquired"
    WITHDRAWN = "withdrawn"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


def block_statuses(candidate: Candidate, blocks, *, in_training: bool | None = None) -> list[dict]:
    """For each block of the certification: acquired (when, how), withdrawn, in progress, or not started; with
    `withdrawn_acquisitions`, the earlier acquisitions of that block withdrawn by a withdrawal (kept in view).
    `in_training` (default: any enrolment in progress) says whether a block not held is being prepared.

    Uses the candidate's prefetched `acquired_blocks` (with `withdrawn__withdrawal`) and `enrolments`.
    """
    held: dict[int, AcquiredBlock] = {}
    withdrawn: dict[int, list[AcquiredBlock]] = {}
    for item in candidate.acquired_blocks.all():
        if item.is_withdrawn:
            withdrawn.setdefault(item.block_id, []).append(item)
        else:
            held[item.block_id] = item
    if in_training is None:
        in_training = any(enrolment.status == EnrolmentStatus.IN_PROGRESS for enrolment in candidate.enrolments.all())
    statuses = []
    for block in blocks:
        if block.pk in held:
            status = BlockStatus.ACQUIRED
        elif block.pk in withdrawn:
            status = BlockStatus.WITHDRAWN
        elif in_training:
            status = BlockStatus.IN_PROGRESS
        else:
            status = BlockStatus.NOT_STARTED
        statuses.append(
            {
                "block": block,
                "status": status,
                "acquired": held.get(block.pk),
                "withdrawn_acquisitions": withdrawn.get(block.pk, []),
                "in_training": in_training,
            }
        )
    return statuses


@dataclass
class CertificationStanding:
    """Where a candidate stands in one certification: its blocks (each with `block_statuses`' item: the
    acquisition held, the withdrawn ones), the award in force, the withdrawn awards, the enrolments in its
    cohorts. The candidate page shows one section per standing."""

    certification: Certification
    statuses: list[dict]
    award: CertificationAward | None
    withdrawn_awards: list[CertificationAward]
    enrolments: list[Enrolment]

    @property
    def blocks(self) -> list[Block]:
        return [item["block"] for item in self.statuses]

    @property
    def held_acquisitions(self) -> dict[int, AcquiredBlock]:
        """The acquisition held per block id (withdrawn ones left out)."""
        return {item["block"].pk: item["acquired"] for item in self.statuses if item["acquired"]}

    @property
    def holds_all_blocks(self) -> bool:
        return bool(self.statuses) and all(item["acquired"] for item in self.statuses)

    @property
    def has_results(self) -> bool:
        """Something a withdrawal could take away: the award in force or a block held."""
        return self.award is not None or any(item["acquired"] for item in self.statuses)


def candidate_certifications(candidate: Candidate) -> list[CertificationStanding]:
    """A standing per certification the candidate is enrolled in (through a cohort), holds or held blocks of, or
    was awarded, by RNCP code. `candidate` comes through `with_file`; two queries (the certifications, their
    blocks), whatever the number of certifications."""
    enrolments = list(candidate.enrolments.all())
    acquisitions = list(candidate.acquired_blocks.all())
    awards = list(candidate.awards.all())
    ids = (
        {enrolment.cohort.certification_id for enrolment in enrolments}
        | {item.block.certification_id for item in acquisitions}
        | {award.certification_id for award in awards}
    )
    if not ids:
        return []
    certifications = Certification.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("blocks", queryset=Block.objects.order_by("number"), to_attr="block_list")
    )
    standings = []
    for certification in certifications.order_by("rncp_code"):  # `block_list`: prefetched above (to_attr)
        own_enrolments = [item for item in enrolments if item.cohort.certification_id == certification.pk]
        in_training = any(item.status == EnrolmentStatus.IN_PROGRESS for item in own_enrolments)
        own_awards = [award for award in awards if award.certification_id == certification.pk]
        standings.append(
            CertificationStanding(
                certification=certification,
                statuses=block_statuses(candidate, certification.block_list, in_training=in_training),
                award=next((award for award in own_awards if not award.is_withdrawn), None),
                withdrawn_awards=[award for award in own_awards if award.is_withdrawn],
                enrolments=own_enrolments,
            )
        )
    return standings


@dataclass
class WithdrawalOptions:
    """What a withdrawal can take away from a candidate in one certification, as the form lists it."""

    award: CertificationAward | None
    blocks: list[AcquiredBlock]


def withdrawal_options(*, candidate: Candidate, certification) -> WithdrawalOptions:
    award = CertificationAward.objects.in_force().filter(candidate=candidate, certification=certification).first()
    blocks = list(
        AcquiredBlock.objects.held()
        .filter(candidate=candidate, block__certification=certification)
        .select_related("block", "jury_decision_link__decision__presentation__session")
        .order_by("block__number")
    )
    return WithdrawalOptions(award=award, blocks=blocks)


def with_file(queryset):
    """What the list and the candidate page show, fetched in a fixed number of queries."""
    return queryset.prefetch_related(
        Prefetch(
            "enrolments",
            queryset=Enrolment.objects.select_related(
                "cohort__certification", "cohort__pathway", "cohort__preparation_place"
            ).order_by("-enrolled_on", "-pk"),
        ),
        Prefetch(
            "acquired_blocks",
            queryset=AcquiredBlock.objects.select_related(
                "block__certification",
                "recorded_by",
                "withdrawn__withdrawal",
                "jury_decision_link__decision__presentation__session",
            ),
        ),
        Prefetch("awards", queryset=CertificationAward.objects.select_related("withdrawal")),
    )


# The list names a certification by its code and title: its fiche's long texts stay in the database.
LISTED_CERTIFICATION_COLUMNS = ("rncp_code", "title", "is_example")


LISTED_CANDIDATE_COLUMNS = (
    "pk",
    "birth_name",
    "usage_name",
    "first_name",
    "second_first_name",
    "third_first_name",
    "birth_date",
)


@dataclass(frozen=True)
class ListedStanding:
    """Where a candidate stands in one certification: blocks held (not withdrawn) of its blocks, certified or not."""

    rncp_label: str
    held: int
    total: int
    certified: bool


@dataclass(frozen=True)
class ListedCandidate:
    """A row of the candidate list: the person, their latest enrolment, where they stand per certification."""

    pk: int
    name: str
    birth_date: datetime.date
    enrolment_count: int
    cohort_name: str = ""
    certification_name: str = ""
    pathway_label: str = ""
    status_label: str = ""
    admissibility_label: str = ""
    standings: tuple[ListedStanding, ...] = ()


def candidate_list_rows(candidates) -> list[ListedCandidate]:
    """The rows of one page of the list, from `candidates` (a queryset of `LISTED_CANDIDATE_COLUMNS` values, in the
    list's order), in four queries whatever the page's size: enrolments, blocks held, awards, and the blocks per
    certification. Plain values, no model instance: a page of 25 used to build some 400 of them."""
    people = list(candidates)
    pks = [person["pk"] for person in people]
    enrolments: dict[int, list[Any]] = defaultdict(list)
    for enrolment in (
        Enrolment.objects.filter(candidate__in=pks)
        .order_by("-enrolled_on", "-pk")
        .values(
            "candidate_id",
            "status",
            "admissibility_favourable",
            "cohort__name",
            "cohort__certification_id",
            "cohort__certification__rncp_code",
            "cohort__certification__title",
            "cohort__certification__is_example",
            "cohort__pathway__code",
            "cohort__pathway__label",
        )
    ):
        enrolments[enrolment["candidate_id"]].append(enrolment)
    held: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for candidate_id, certification_id in AcquiredBlock.objects.filter(
        candidate__in=pks, withdrawn__isnull=True
    ).values_list("candidate_id", "block__certification_id"):
        held[candidate_id][certification_id] += 1
    awarded: dict[int, set[int]] = defaultdict(set)
    for candidate_id, certification_id in (
        CertificationAward.objects.in_force().filter(candidate__in=pks).values_list("candidate_id", "certification_id")
    ):
        awarded[candidate_id].add(certification_id)
    blocks = {
        pk: (Certification(rncp_code=code).rncp_label, count)
        for pk, code, count in Block.objects.values_list("certification_id", "certification__rncp_code")
        .annotate(count=Count("pk"))
        .order_by()
    }
    statuses = dict(EnrolmentStatus.choices)
    rows = []
    for person in people:
        pk = person["pk"]
        first_names = joined_first_names(person["first_name"], person["second_first_name"], person["third_first_name"])
        usage = f" ({person['usage_name']})" if person["usage_name"] else ""
        standing_of = {enrolment["cohort__certification_id"] for enrolment in enrolments[pk]}
        standing_of |= set(held[pk]) | awarded[pk]
        latest: dict[str, Any] = {}
        if enrolments[pk]:
            enrolment = enrolments[pk][0]
            certification = Certification(
                rncp_code=enrolment["cohort__certification__rncp_code"],
                title=enrolment["cohort__certification__title"],
                is_example=enrolment["cohort__certification__is_example"],
            )
            latest = {
                "cohort_name": enrolment["cohort__name"],
                "certification_name": certification.display_name,
                "pathway_label": enrolment["cohort__pathway__label"],
                "status_label": statuses.get(enrolment["status"], enrolment["status"]),
                "admissibility_label": admissibility_label(
                    enrolment["cohort__pathway__code"], enrolment["admissibility_favourable"]
                ),
            }
        rows.append(
            ListedCandidate(
                pk=pk,
                name=f"{person['birth_name'].upper()}{usage} {first_names}",
                birth_date=person["birth_date"],
                enrolment_count=len(enrolments[pk]),
                standings=tuple(
                    ListedStanding(
                        rncp_label=blocks.get(certification_id, ("RNCP?", 0))[0],
                        held=held[pk].get(certification_id, 0),
                        total=blocks.get(certification_id, ("", 0))[1],
                        certified=certification_id in awarded[pk],
                    )
                    for certification_id in sorted(standing_of)
                ),
                **latest,
            )
        )
    return rows


def with_withdrawals(queryset):
    """The withdrawal acts of each candidate, with what they withdrew (the candidate page)."""
    return queryset.prefetch_related(
        Prefetch(
            "withdrawals",
            queryset=Withdrawal.objects.select_related("recorded_by", "award").prefetch_related(
                Prefetch("blocks", queryset=WithdrawnBlock.objects.select_related("acquired_block__block"))
            ),
        )
    )


def candidate_personal_data(candidate: Candidate) -> dict:
    """Everything the application holds about one person (droit d'accès, RGPD art. 15); `candidate` comes
    through `with_file`."""
    return {
        "exporte_le": timezone.now(),
        "identite": candidate_snapshot(candidate),
        "inscriptions": [
            {
                "promotion": enrolment.cohort.name,
                "voie_acces": enrolment.cohort.pathway.label,
                "lieu_preparation": enrolment.cohort.preparation_place.name,
                "inscrit_le": enrolment.enrolled_on,
                "statut": enrolment.get_status_display(),
                "tuteur": enrolment.tutor_name,
                "accompagnateur_vae": enrolment.vae_accompanist,
                "recevabilite": enrolment.admissibility_label,
                "recevabilite_date": enrolment.admissibility_date,
                "recevabilite_motif": enrolment.admissibility_reason,
            }
            for enrolment in candidate.enrolments.all()
        ],
        "blocs_acquis": [
            {
                "bloc": acquired.block.code,
                "acquis_le": acquired.acquired_on,
                "origine": acquired.get_source_display(),
                "source": acquired.import_source,
                "retire": _withdrawal_data(acquired.withdrawal_act),
            }
            for acquired in candidate.acquired_blocks.all()
        ],
        "certifications": [
            {
                "numero": award.number,
                "delivree_le": award.awarded_on,
                "retire": _withdrawal_data(award.withdrawal_act),
            }
            for award in candidate.awards.all()
        ],
        "historique": [
            {
                "date": event.occurred_at,
                "auteur": event.actor.username if event.actor else None,
                "action": event.action,
                "avant": event.before,
                "apres": event.after,
            }
            for event in audit_trail(candidate)
        ],
    }


def _withdrawal_data(withdrawal: Withdrawal | None) -> dict | None:
    if withdrawal is None:
        return None
    return {"decision": withdrawal.reference, "date_decision": withdrawal.decided_on, "motif": withdrawal.reason}


# — Renewals: blocks of a new fiche held through the correspondence with a previous one —


@dataclass(frozen=True)
class PreviousAcquisition:
    """A block of the previous fiche the candidate holds, and the correspondence row through which it counts."""

    acquired: AcquiredBlock
    correspondence: BlockCorrespondence

    @property
    def code(self) -> str:
        return self.acquired.block.code

    @property
    def jury_date(self) -> datetime.date | None:
        """The date of the signed jury that decided it (None for a block taken over from history)."""
        try:
            return self.acquired.jury_decision_link.decision.presentation.session.date
        except ObjectDoesNotExist:
            return None

    @property
    def where(self) -> str:
        """« jury du 21 mars 2023 », or what the taking over from history says."""
        if self.jury_date is not None:
            return f"jury du {date_format(self.jury_date, 'j F Y')}"
        if self.acquired.import_source:
            return f"{self.acquired.import_source}, repris le {date_format(self.acquired.acquired_on, 'j F Y')}"
        return f"acquis le {date_format(self.acquired.acquired_on, 'j F Y')}"


@dataclass
class HeldByCorrespondence:
    """A block of the new fiche the candidate holds because they hold every previous block the table lists for it."""

    block: Block
    origins: list[PreviousAcquisition]

    @property
    def acquired_on(self) -> datetime.date:
        """The day the last of its previous blocks was acquired: from then on the candidate held them all."""
        return max(origin.acquired.acquired_on for origin in self.origins)

    @property
    def text(self) -> str:
        """« acquis par correspondance avec RNCP16204BC02, jury du 21 mars 2023 » (each previous block listed)."""
        return "acquis par correspondance avec " + " ; ".join(f"{o.code}, {o.where}" for o in self.origins)

    @property
    def document_text(self) -> str:
        """« acquis par correspondance avec RNCP16204BC02 (jury du 21 mars 2023) », as the documents print it."""
        return "acquis par correspondance avec " + ", ".join(f"{o.code} ({o.where})" for o in self.origins)


def _carried(rows: list[BlockCorrespondence], held: dict[int, AcquiredBlock]) -> dict[int, HeldByCorrespondence]:
    """{new block id: what it rests on} for one candidate holding `held` ({block id: acquisition in force}): a new
    block counts when every previous block the table lists for it is held."""
    needed: dict[int, list[BlockCorrespondence]] = defaultdict(list)
    for row in rows:
        needed[row.block_id].append(row)
    result: dict[int, HeldByCorrespondence] = {}
    for block_rows in needed.values():
        origins = [
            PreviousAcquisition(acquired=held[row.previous_block_id], correspondence=row)
            for row in sorted(block_rows, key=lambda row: row.previous_block.number)
            if row.previous_block_id in held
        ]
        if len(origins) == len(block_rows):
            block = block_rows[0].block
            result[block.pk] = HeldByCorrespondence(block=block, origins=origins)
    return result


def blocks_held_by_correspondence(candidate_ids, certification) -> dict[int, dict[int, HeldByCorrespondence]]:
    """{candidate id: {block id of `certification`: what it rests on}} for the blocks each candidate holds through
    the correspondence table: every previous block listed for it held (in force, not withdrawn). Two queries
    (none for a fiche that succeeds no other), however many candidates and blocks."""
    candidate_ids = list(candidate_ids)
    if not candidate_ids or not certification.previous_rncp_codes:
        return {}
    rows = list(
        BlockCorrespondence.objects.filter(block__certification=certification).select_related(
            "block__certification", "previous_block__certification"
        )
    )
    if not rows:
        return {}
    held: dict[int, dict[int, AcquiredBlock]] = defaultdict(dict)
    for acquired in (
        AcquiredBlock.objects.held()
        .filter(candidate_id__in=candidate_ids, block_id__in={row.previous_block_id for row in rows})
        .select_related("block__certification", "jury_decision_link__decision__presentation__session")
    ):
        held[acquired.candidate_id][acquired.block_id] = acquired
    result = {candidate_id: _carried(rows, held[candidate_id]) for candidate_id in candidate_ids}
    return {candidate_id: carried for candidate_id, carried in result.items() if carried}


def correspondence_sections(candidate: Candidate) -> list[dict]:
    """For the candidate file: under each fiche that succeeds another, the blocks the candidate holds through the
    correspondence and not otherwise (a block of the new fiche acquired from its own jury shows as such).

    One query (the whole correspondence table), whatever the candidate holds and however many fiches succeed
    others: the acquisitions are the candidate's prefetched `acquired_blocks` (`with_file`)."""
    rows = list(
        BlockCorrespondence.objects.select_related("block__certification", "previous_block__certification").order_by(
            "block__certification__rncp_code", "block__number"
        )
    )
    held = {item.block_id: item for item in candidate.held_acquisitions}
    direct = {
        item.block_id for item in candidate.held_acquisitions if item.source != AcquiredBlockSource.CORRESPONDENCE
    }
    by_certification: dict[int, list[BlockCorrespondence]] = defaultdict(list)
    for row in rows:
        by_certification[row.block.certification_id].append(row)
    sections: list[dict] = []
    for certification_rows in by_certification.values():
        carried = _carried(certification_rows, held)
        items = sorted(
            (item for block_id, item in carried.items() if block_id not in direct), key=lambda item: item.block.number
        )
        if items:
            sections.append({"certification": certification_rows[0].block.certification, "held": items})
    return sections


def birth_places_to_check():
    """Candidates whose birth place, typed before the code lists, matched none of them (the data migration left
    their text as it was, without a country code): staff choose the place on each file."""
    return Candidate.objects.filter(birth_country_code="").order_by(*person_order(), "pk")
