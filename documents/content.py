"""The documents a signed jury session gives, and their HTML (rendered to PDF/A by documents.pdf).

- `session_slots(session)`: which documents the session gives (minutes; for each presented candidate a results
  statement, and an attestation of acquired blocks or the certificate), with the documents already issued.
- `SessionData`: everything the documents print, read in a fixed number of queries whatever the number of
  candidates; `prepare(data, slot)` draws a verification code and fills a template of templates/documents/.
- Verification codes: 20 Crockford base32 characters (100 random bits), printed XXXXX-XXXXX-XXXXX-XXXXX.

What a document states about results comes from the signed session (decisions, rectifications, acquired blocks
dated up to the session day), never from a later session; the holder's identity is the one on file when the
document is issued. Once issued, its bytes are kept and never rendered again.
"""

import base64
import datetime
import io
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from functools import cached_property

import qrcode
from django.conf import settings
from django.db.models import F, Max, Prefetch, prefetch_related_objects
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify

from candidates.models import (
    AcquiredBlock,
    AcquiredBlockOrigin,
    AcquiredBlockSource,
    Candidate,
    CertificationAward,
    Sex,
    Withdrawal,
)
from candidates.selectors import HeldByCorrespondence, PreviousAcquisition, blocks_held_by_correspondence
from certif.collation import french, person_order
from certif.models import Block, Competence, ScaleLevel
from certif.rules import Outcome
from certif.text import french_date  # « 1er juin 2022 », « 14 juin 2022 »
from documents.models import CertifierIdentity, DocumentKind, DocumentStatus, IssuedDocument
from evaluation.models import LevelEntry
from juries.composition import deliberating_panel
from juries.models import Decision, JurySession, Presentation, Rectification, Recusal

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 20 × 5 bits = 100 random bits
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
QR_MASK = 2  # vertical stripes every third column
# The QR code's text alternative (read in the PDF's structure tree by a screen reader; the address is printed).
QR_ALT = "QR code menant à la page publique de vérification de ce document"
ISSUER_CITY = "Saint-Étienne"  # lieu de certification (fiche RNCP 16204)
TEMPLATES = {
    DocumentKind.MINUTES: "documents/minutes.html",
    DocumentKind.RESULTS: "documents/results.html",
    DocumentKind.ATTESTATION: "documents/attestation.html",
    DocumentKind.CERTIFICATE: "documents/certificate.html",
}
FILE_PREFIXES = {
    DocumentKind.MINUTES: "proces-verbal",
    DocumentKind.RESULTS: "releve-de-resultats",
    DocumentKind.ATTESTATION: "attestation-de-blocs",
    DocumentKind.CERTIFICATE: "certificat",
}


# — Verification codes —


def new_verification_code() -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """A code as typed or scanned → its stored form, or None. Dashes and spaces are ignored, lower case accepted,
    O read as 0 and I or L as 1 (Crockford base32)."""
    if not text or len(text) > 64:
        return None
    cleaned = re.sub(r"[\s\-_.]", "", text).upper().translate(_CONFUSABLE)
    if len(cleaned) != CODE_LENGTH or any(char not in CROCKFORD for char in cleaned):
        return None
    return cleaned


def group_code(code: str) -> str:
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


def verification_url(code: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("verification:check", args=[group_code(code)])


def qr_svg(url: str) -> str:
    """The QR code as inline SVG, black on white with its quiet zone (error correction M: survives a crease or a
    stamp). Each run of dark modules is one rectangle: a short path, quick for WeasyPrint to draw.

    The mask is fixed: every one of the eight masks is valid (ISO/IEC 18004), and trying them all to score them
    costs more than drawing the code."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=QR_MASK)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    size, quiet = len(matrix), 2
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start + quiet} {y + quiet}h{x - start}v1h{start - x}z")
            else:
                x += 1
    side = size + 2 * quiet
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" role="img" aria-label="{QR_ALT}">'
        f"<title>{QR_ALT}</title>"
        f'<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/></svg>'
    )


# — Formatting —


def born(candidate: Candidate) -> str:
    return "née" if candidate.sex == Sex.FEMALE else "né"


def holder_name(candidate: Candidate) -> str:
    """Every first name, the birth name in capitals, and the usage name when it differs."""
    usage = (
        f" (nom d'usage : {candidate.usage_name.upper()})"
        if candidate.usage_name and candidate.usage_name != candidate.birth_name
        else ""
    )
    return f"{candidate.first_names} {candidate.birth_name.upper()}{usage}"


def correspondence_text(acquired: AcquiredBlock) -> str:
    """« acquis par correspondance avec RNCP16204BC02 (jury du 21 mars 2023) », each previous block listed (reads the
    block's prefetched `origins`)."""
    origins = [
        PreviousAcquisition(acquired=origin.previous_acquisition, correspondence=origin.correspondence)
        for origin in acquired.origins.all()
    ]
    return HeldByCorrespondence(block=acquired.block, origins=origins).document_text


def file_name(document: IssuedDocument) -> str:
    parts = [FILE_PREFIXES[document.kind], document.reference or "", document.holder_name.split(" (")[0]]
    parts.append(document.document_date.isoformat())
    return slugify("-".join(part for part in parts if part))[:120] + ".pdf"


def logo_data_uri(identity: CertifierIdentity) -> str:
    """The logo as a data: URI, embedded in the document's HTML (empty without a logo)."""
    if not identity.has_logo or identity.logo is None:
        return ""
    return f"data:{identity.logo_type};base64,{base64.b64encode(bytes(identity.logo)).decode()}"


def certifier_identity() -> CertifierIdentity:
    """The identity the documents print, logo included (one query)."""
    return CertifierIdentity.objects.filter(pk=1).first() or CertifierIdentity(pk=1)


def signatory_name(identity: CertifierIdentity) -> str:
    """The director general's name, as staff recorded it (else SIGNATORY_NAME, the setting it replaces)."""
    return identity.director_general_name or settings.SIGNATORY_NAME


# — What a session gives —


@dataclass
class Slot:
    """One document a signed session gives: its kind, for whom, and what was issued for it so far."""

    kind: str
    candidate: Candidate | None = None
    award: CertificationAward | None = None
    presentation: Presentation | None = None
    issued: list[IssuedDocument] = field(default_factory=list)  # newest first
    # It states a result since withdrawn (the certificate of a withdrawn award, the results of a decision whose block
    # was withdrawn): it is never issued again; what was issued stays listed, revoked.
    withdrawn: bool = False

    @property
    def current(self) -> IssuedDocument | None:
        return next((doc for doc in self.issued if doc.status == DocumentStatus.VALID), None)

    @property
    def history(self) -> list[IssuedDocument]:
        return [doc for doc in self.issued if doc.status != DocumentStatus.VALID]

    @property
    def label(self) -> str:
        return DocumentKind(self.kind).label

    @property
    def key(self) -> tuple:
        return (self.kind, self.candidate.pk if self.candidate else None)


def _held_on(acquired: list[AcquiredBlock], day) -> list[AcquiredBlock]:
    return [item for item in acquired if item.acquired_on <= day]


def issuable(slots: list[Slot]) -> list[Slot]:
    return [slot for slot in slots if not slot.withdrawn]


def session_slots(session: JurySession, *, documents=None) -> list[Slot]:
    """The documents of a signed session, in order: minutes, then per candidate results and attestation or
    certificate. Fixed number of queries (6) whatever the number of candidates."""
    if not session.is_signed:
        return []
    presentations = list(
        Presentation.objects.filter(session=session)
        .select_related("enrolment__candidate")
        .order_by(*person_order("enrolment__candidate__"), "pk")
    )
    candidate_ids = [p.enrolment.candidate_id for p in presentations]
    block_count = Block.objects.filter(certification_id=session.certification_id).count()
    acquired: dict[int, list[AcquiredBlock]] = {}
    withdrawn_from: set[int] = set()  # presentations whose decision gave a block since withdrawn
    for item in (
        AcquiredBlock.objects.filter(candidate_id__in=candidate_ids, block__certification_id=session.certification_id)
        .annotate(withdrawn_line=F("withdrawn__pk"), decided_in=F("jury_decision_link__decision__presentation_id"))
        .only("candidate_id", "block_id", "acquired_on")
    ):
        if item.withdrawn_line is None:
            acquired.setdefault(item.candidate_id, []).append(item)
        elif item.decided_in is not None:
            withdrawn_from.add(item.decided_in)
    awards = {
        award.candidate_id: award
        for award in CertificationAward.objects.filter(
            jury_session_link__session=session, candidate_id__in=candidate_ids
        ).select_related("withdrawal")
    }
    if documents is None:
        documents = IssuedDocument.objects.filter(session=session).defer("pdf").order_by("-created_at", "-pk")
    issued: dict[tuple, list[IssuedDocument]] = {}
    for document in documents:
        issued.setdefault((document.kind, document.candidate_id), []).append(document)

    slots = [Slot(kind=DocumentKind.MINUTES, issued=issued.get((DocumentKind.MINUTES, None), []))]
    for presentation in presentations:
        candidate = presentation.enrolment.candidate
        slots.append(
            Slot(
                kind=DocumentKind.RESULTS,
                candidate=candidate,
                presentation=presentation,
                issued=issued.get((DocumentKind.RESULTS, candidate.pk), []),
                withdrawn=presentation.pk in withdrawn_from,
            )
        )
        award = awards.get(candidate.pk)
        held = {item.block_id for item in _held_on(acquired.get(candidate.pk, []), session.date)}
        if award is not None:
            slots.append(
                Slot(
                    kind=DocumentKind.CERTIFICATE,
                    candidate=candidate,
                    award=award,
                    presentation=presentation,
                    issued=issued.get((DocumentKind.CERTIFICATE, candidate.pk), []),
                    withdrawn=award.is_withdrawn,
                )
            )
        if (award is None or award.is_withdrawn) and held and len(held) < block_count:
            slots.append(
                Slot(
                    kind=DocumentKind.ATTESTATION,
                    candidate=candidate,
                    presentation=presentation,
                    issued=issued.get((DocumentKind.ATTESTATION, candidate.pk), []),
                )
            )
    return slots


def find_slot(session: JurySession, kind: str, candidate_id: int | None) -> Slot | None:
    """The slot `session_slots` would give for this kind and candidate (None if the session gives no such
    document), read with the few queries this one slot needs."""
    if (
        not session.is_signed
        or kind not in DocumentKind.values
        or (kind == DocumentKind.MINUTES) != (candidate_id is None)
    ):
        return None
    issued = list(
        IssuedDocument.objects.filter(session=session, kind=kind, candidate_id=candidate_id)
        .defer("pdf")
        .order_by("-created_at", "-pk")
    )
    if kind == DocumentKind.MINUTES:
        return Slot(kind=kind, issued=issued)
    if kind == DocumentKind.CERTIFICATE:
        award = (
            CertificationAward.objects.filter(jury_session_link__session=session, candidate_id=candidate_id)
            .select_related("candidate", "withdrawal")
            .first()
        )
        if award is None:
            return None
        return Slot(kind=kind, candidate=award.candidate, award=award, issued=issued, withdrawn=award.is_withdrawn)
    presentation = (
        Presentation.objects.filter(session=session, enrolment__candidate_id=candidate_id)
        .select_related("enrolment__candidate")
        .first()
    )
    if presentation is None:
        return None
    candidate = presentation.enrolment.candidate
    slot = Slot(kind=kind, candidate=candidate, presentation=presentation, issued=issued)
    if kind == DocumentKind.RESULTS:
        slot.withdrawn = AcquiredBlock.objects.filter(
            jury_decision_link__decision__presentation=presentation, withdrawn__isnull=False
        ).exists()
        return slot
    certified = (
        CertificationAward.objects.in_force().filter(jury_session_link__session=session, candidate=candidate).exists()
    )
    held = {
        item.block_id
        for item in _held_on(
            list(
                AcquiredBlock.objects.held()
                .filter(candidate=candidate, block__certification_id=session.certification_id)
                .only("block_id", "acquired_on")
            ),
            session.date,
        )
    }
    block_count = Block.objects.filter(certification_id=session.certification_id).count()
    return slot if not certified and held and len(held) < block_count else None


# What a later rectification can change. Not the minutes (the deliberation as held), nor a certificate: once every
# block is held, no rectification can withdraw one, and the certificate prints no decision.
RECTIFIABLE_KINDS = (DocumentKind.RESULTS, DocumentKind.ATTESTATION)


def last_rectification(presentation_ids) -> dict[int, int]:
    """The latest rectification of each presentation: checked again when a document is stored, so that a document
    rendered before a rectification was signed is not kept."""
    return dict(
        Rectification.objects.filter(decision__presentation_id__in=presentation_ids)
        .values_list("decision__presentation_id")
        .annotate(last=Max("pk"))
        .values_list("decision__presentation_id", "last")
    )


def last_withdrawal(candidate_ids) -> dict[int, int]:
    """The latest withdrawal of each candidate: checked again when a document is stored, so that a document rendered
    before a withdrawal was recorded (and stating a result it withdrew) is not kept."""
    return dict(
        Withdrawal.objects.filter(candidate_id__in=candidate_ids)
        .values_list("candidate_id")
        .annotate(last=Max("pk"))
        .values_list("candidate_id", "last")
    )


# — What the documents print —


class SessionData:
    """The signed session as the documents print it, read once (a fixed number of queries) for all its slots.

    With `candidate_id`, only that candidate's presentation and blocks are read: one candidate's document (the
    « Émettre » view) need not load the whole session. The minutes need every candidate, so never with it.
    """

    def __init__(self, session: JurySession, *, candidate_id: int | None = None):
        if "certification" not in session._state.fields_cache:
            session = JurySession.objects.select_related("certification__jury_rule", "signed_by").get(pk=session.pk)
        prefetch_related_objects([session.certification], "registrations")
        self.session = session
        self.candidate_id = candidate_id
        self.marks: dict[int, int] | None = None
        self.withdrawal_marks: dict[int, int] | None = None

    @cached_property
    def certification(self):
        return self.session.certification

    @cached_property
    def registration(self):
        return self.certification.registration_on(self.session.date)

    @cached_property
    def members(self):
        return list(self.session.members.order_by("-is_president", "category", french("name"), "pk"))

    @cached_property
    def president(self):
        return next((member for member in self.members if member.is_president), None)

    @cached_property
    def identity(self) -> CertifierIdentity:
        return certifier_identity()

    @cached_property
    def logo(self) -> str:
        return logo_data_uri(self.identity)

    @cached_property
    def issuer_address(self) -> str:
        place = self.certification.preparation_places.filter(name=self.certification.certifier_acronym).first()
        return place.address.replace(" - ", " – ") if place else ""

    @cached_property
    def presentations(self) -> dict[int, Presentation]:
        scope = Presentation.objects.filter(session=self.session)
        if self.candidate_id is not None:
            scope = scope.filter(enrolment__candidate_id=self.candidate_id)
        presentations = (
            scope.select_related(
                "enrolment__candidate", "enrolment__cohort__pathway", "enrolment__cohort__preparation_place"
            )
            .prefetch_related(
                Prefetch(
                    "decisions",
                    queryset=Decision.objects.select_related(
                        "block", "block_evaluation__grid", "block_evaluation__scale", "block_evaluation__block"
                    )
                    .prefetch_related(
                        Prefetch(
                            "block_evaluation__grid__competences", queryset=Competence.objects.order_by("position")
                        ),
                        Prefetch("block_evaluation__scale__levels", queryset=ScaleLevel.objects.order_by("position")),
                        Prefetch("rectifications", queryset=Rectification.objects.select_related("signed_by")),
                    )
                    .order_by("block__number"),
                ),
                Prefetch(
                    "recusals",
                    queryset=Recusal.objects.select_related("member").order_by(french("member__name"), "source"),
                ),
            )
            .order_by(*person_order("enrolment__candidate__"), "pk")
        )
        return {p.enrolment.candidate_id: p for p in presentations}

    @cached_property
    def levels(self) -> dict[tuple[int, int, int], LevelEntry]:
        decisions = [d for p in self.presentations.values() for d in p.decisions.all()]
        return {
            (entry.block_evaluation_id, entry.enrolment_id, entry.competence_id): entry
            for entry in LevelEntry.objects.filter(
                block_evaluation_id__in={d.block_evaluation_id for d in decisions},
                enrolment_id__in={p.enrolment_id for p in self.presentations.values()},
            ).only("block_evaluation_id", "enrolment_id", "competence_id", "level")
        }

    def rectification_mark(self, slot) -> int | None:
        if slot.kind not in RECTIFIABLE_KINDS or slot.presentation is None:
            return None
        if self.marks is None:
            return last_rectification([slot.presentation.pk]).get(slot.presentation.pk)
        return self.marks.get(slot.presentation.pk)

    def load_rectification_marks(self) -> None:
        """For a batch: every presentation's latest rectification, and every candidate's latest withdrawal, in two
        queries."""
        self.marks = last_rectification(Presentation.objects.filter(session=self.session).values("pk"))
        self.withdrawal_marks = last_withdrawal(
            Presentation.objects.filter(session=self.session).values("enrolment__candidate_id")
        )

    def withdrawal_mark(self, slot) -> int | None:
        if slot.candidate is None:
            return None
        if self.withdrawal_marks is None:
            return last_withdrawal([slot.candidate.pk]).get(slot.candidate.pk)
        return self.withdrawal_marks.get(slot.candidate.pk)

    @cached_property
    def blocks(self) -> list[Block]:
        return list(Block.objects.filter(certification=self.certification).order_by("number"))

    @cached_property
    def acquired(self) -> dict[int, list[AcquiredBlock]]:
        result: dict[int, list[AcquiredBlock]] = {}
        # The blocks of the fiche the document is issued under; those of a previous fiche appear as the origins of
        # the blocks held through the correspondence.
        origins = AcquiredBlockOrigin.objects.select_related(
            "correspondence",
            "previous_acquisition__block__certification",
            "previous_acquisition__jury_decision_link__decision__presentation__session",
        ).order_by("previous_acquisition__block__number")
        # One candidate's document reads that candidate's blocks without loading the session's decisions and grids
        # (a certificate or an attestation shows none of them).
        candidate_ids = [self.candidate_id] if self.candidate_id is not None else list(self.presentations)
        for item in (
            AcquiredBlock.objects.held()
            .filter(candidate_id__in=candidate_ids, block__certification=self.certification)
            .select_related("block", "jury_decision_link__decision__presentation__session")
            .prefetch_related(Prefetch("origins", queryset=origins))
            .order_by("block__number")
        ):
            # The fiche of every block read here is the session's, already read once: not joined again per block
            # with all its texts.
            item.block.certification = self.certification
            result.setdefault(item.candidate_id, []).append(item)
        return result

    # — Blocks, decisions, levels —

    def decision_rows(self, presentation: Presentation) -> list[dict]:
        rows = []
        for decision in presentation.decisions.all():
            be = decision.block_evaluation
            scale_levels = list(be.scale.levels.all())
            labels = {level.code: level.label for level in scale_levels}
            competences = [
                {
                    "label": competence.label,
                    "level": labels.get(level, level) if (level := self._level(be, presentation, competence)) else "—",
                    "validates": level in {lv.code for lv in scale_levels if lv.validates},
                }
                for competence in be.grid.competences.all()
            ]
            rectifications = list(decision.rectifications.all())
            rows.append(
                {
                    "decision": decision,
                    "block": decision.block,
                    "proposal": decision.get_proposal_outcome_display(),
                    "outcome": decision.get_outcome_display(),
                    "departs": decision.departs_from_proposal,
                    "current": Outcome(decision.current_outcome).label if decision.current_outcome else "",
                    "rectifications": [
                        {
                            "outcome": r.get_outcome_display(),
                            "reason": r.reason,
                            "date": french_date(timezone.localdate(r.signed_at)),
                        }
                        for r in rectifications
                    ],
                    "competences": competences,
                    "validated_count": sum(1 for c in competences if c["validates"]),
                    "rule": be.block.threshold.describe(be.scale.floor_label),
                    "scale": " > ".join(level.label for level in scale_levels),
                    "grid_version": be.grid.version,
                }
            )
        return rows

    def _level(self, be, presentation, competence) -> str:
        entry = self.levels.get((be.pk, presentation.enrolment_id, competence.pk))
        return entry.level if entry else ""

    def acquired_rows(self, candidate_id: int) -> list[dict]:
        rows = []
        for item in _held_on(self.acquired.get(candidate_id, []), self.session.date):
            link = getattr(item, "jury_decision_link", None)  # selected with the block (`acquired`)
            if item.source == AcquiredBlockSource.CORRESPONDENCE:
                how = correspondence_text(item)
            elif link is not None:
                session = link.decision.presentation.session
                how = f"jury du {french_date(session.date)} ({session.place})"
            else:
                how = f"reprise d'historique : {item.import_source}" if item.import_source else "reprise d'historique"
            rows.append({"block": item.block, "date": french_date(item.acquired_on), "how": how})
        # Blocks held through the correspondence but not yet written (the candidate is not certified yet) are held
        # all the same: the document says so, and where they come from.
        written = {row["block"].pk for row in rows}
        for carried in self.held_by_correspondence.get(candidate_id, {}).values():
            if carried.block.pk not in written and carried.acquired_on <= self.session.date:
                rows.append(
                    {"block": carried.block, "date": french_date(carried.acquired_on), "how": carried.document_text}
                )
        return sorted(rows, key=lambda row: row["block"].number)

    @cached_property
    def held_by_correspondence(self) -> dict[int, dict[int, HeldByCorrespondence]]:
        return blocks_held_by_correspondence(list(self.presentations), self.certification)

    # — Contexts —

    def common(self, kind: str, code: str, title: str) -> dict:
        url = verification_url(code)
        certification = self.certification
        return {
            "kind": kind,
            "kind_label": DocumentKind(kind).label,
            "title": title,
            "author": f"{certification.certifier_name} ({certification.certifier_acronym})",
            "certification": certification,
            "level_label": f"niveau {certification.level_eqf} (nomenclature européenne ; niveau {certification.level_1969} "
            "de la nomenclature de 1969)",
            # The same without brackets, for a sentence already inside brackets (the attestation's).
            "level_text": f"niveau {certification.level_eqf} de la nomenclature européenne, niveau "
            f"{certification.level_1969} de la nomenclature de 1969",
            "registration": self.registration,
            "registration_dates": (
                {
                    "from": french_date(self.registration.in_force_from),
                    "until": french_date(self.registration.in_force_until),
                }
                if self.registration
                else None
            ),
            "issuer_address": self.issuer_address,
            "issuer_city": ISSUER_CITY,
            "session": self.session,
            "session_date": french_date(self.session.date),
            "president": self.president,
            "signatory_title": certification.signatory_title,
            "signatory_name": signatory_name(self.identity),
            "logo": self.logo,
            "issued_on": french_date(timezone.localdate()),
            "created_iso": timezone.now().isoformat(timespec="seconds"),
            "verification": {"code": group_code(code), "url": url, "qr": qr_svg(url)},
        }

    def minutes(self, code: str) -> dict:
        if self.candidate_id is not None:
            raise ValueError("Le procès-verbal porte sur tous les candidats de la session.")
        presentations = list(self.presentations.values())
        rule = getattr(self.certification, "jury_rule", None)
        candidates = []
        for presentation in presentations:
            rows = self.decision_rows(presentation)
            recusals = list(presentation.recusals.all())
            panel = deliberating_panel(self.members, {recusal.member_id for recusal in recusals}, rule)
            candidates.append(
                {
                    "candidate": presentation.enrolment.candidate,
                    "name": holder_name(presentation.enrolment.candidate),
                    "enrolment": presentation.enrolment,
                    "rows": rows,
                    "recusals": recusals,
                    "replaced_by": {seat.replaces.pk: seat.member for seat in panel.replacements},
                }
            )
        decisions = [row for c in candidates for row in c["rows"]]
        recusals = [
            {
                "member": recusal.member,
                "candidate_name": item["name"],
                "reason": recusal.reason,
                "source": recusal.source,
                "replaced_by": item["replaced_by"].get(recusal.member_id),
            }
            for item in candidates
            for recusal in item["recusals"]
        ]
        signed_at = timezone.localtime(self.session.signed_at)
        context = self.common(
            DocumentKind.MINUTES, code, f"Procès-verbal de délibération — jury du {french_date(self.session.date)}"
        )
        context.update(
            {
                "members": self.members,
                "titular_members": [member for member in self.members if not member.is_substitute],
                "substitutes": [member for member in self.members if member.is_substitute],
                "candidates": candidates,
                "recusals": recusals,
                "blocks": list(self.session.blocks.order_by("number")),
                "validated_count": sum(1 for row in decisions if row["decision"].outcome == "validated"),
                "decision_count": len(decisions),
                "departure_count": sum(1 for row in decisions if row["departs"]),
                "signed_at": f"{french_date(signed_at.date())} à {signed_at:%H:%M}",
                "signed_by": self.session.signed_by.get_full_name() or self.session.signed_by.username,
                "fingerprint": self.session.decisions_fingerprint,
                "awards": list(
                    CertificationAward.objects.filter(jury_session_link__session=self.session).select_related(
                        "candidate"
                    )
                ),
            }
        )
        return context

    def _candidate_context(self, kind: str, code: str, candidate: Candidate, title: str) -> dict:
        context = self.common(kind, code, title)
        context.update(
            {
                "candidate": candidate,
                "name": holder_name(candidate),
                "born": born(candidate),
                "birth_date": french_date(candidate.birth_date),
                "birth_place": candidate.birth_commune
                + (
                    f" ({candidate.birth_country})"
                    if candidate.birth_country and candidate.birth_country != "France"
                    else ""
                ),
            }
        )
        return context

    def results(self, code: str, candidate: Candidate) -> dict:
        presentation = self.presentations[candidate.pk]
        context = self._candidate_context(
            DocumentKind.RESULTS,
            code,
            candidate,
            f"Relevé de résultats — {holder_name(candidate)} — jury du {french_date(self.session.date)}",
        )
        examined = {row["block"].pk for row in self.decision_rows(presentation)}
        context.update(
            {
                "enrolment": presentation.enrolment,
                "rows": self.decision_rows(presentation),
                "acquired": self.acquired_rows(candidate.pk),
                "held_before": [row for row in self.acquired_rows(candidate.pk) if row["block"].pk not in examined],
            }
        )
        return context

    def attestation(self, code: str, candidate: Candidate) -> dict:
        context = self._candidate_context(
            DocumentKind.ATTESTATION,
            code,
            candidate,
            f"Attestation de validation de blocs de compétences — {holder_name(candidate)}",
        )
        acquired = self.acquired_rows(candidate.pk)
        held = {row["block"].pk for row in acquired}
        context.update(
            {
                "acquired": acquired,
                "missing": [block for block in self.blocks if block.pk not in held],
                "block_count": len(self.blocks),
            }
        )
        return context

    def certificate(self, code: str, candidate: Candidate, award: CertificationAward) -> dict:
        context = self._candidate_context(
            DocumentKind.CERTIFICATE, code, candidate, f"Certificat {award.number} — {holder_name(candidate)}"
        )
        carried = [
            f"{item.block.code} {correspondence_text(item)}"
            for item in _held_on(self.acquired.get(candidate.pk, []), self.session.date)
            if item.source == AcquiredBlockSource.CORRESPONDENCE
        ]
        context.update({"award": award, "award_date": french_date(award.awarded_on), "carried": carried})
        return context

    def context_for(self, slot: Slot, code: str) -> dict:
        if slot.kind == DocumentKind.MINUTES:
            return self.minutes(code)
        if slot.kind == DocumentKind.RESULTS:
            return self.results(code, slot.candidate)
        if slot.kind == DocumentKind.ATTESTATION:
            return self.attestation(code, slot.candidate)
        return self.certificate(code, slot.candidate, slot.award)


@dataclass
class Prepared:
    """A document ready to render: its HTML and what the database keeps about it."""

    session: JurySession
    slot: Slot
    code: str
    html: str
    title: str
    holder_name: str
    document_date: datetime.date
    reference: str
    rectification_mark: int | None = None
    withdrawal_mark: int | None = None


def prepare(data: SessionData, slot: Slot) -> Prepared:
    code = new_verification_code()
    with translation.override("fr"):
        context = data.context_for(slot, code)
        html = render_to_string(TEMPLATES[slot.kind], context)
    return Prepared(
        session=data.session,
        slot=slot,
        code=code,
        html=html,
        title=context["title"],
        holder_name=holder_name(slot.candidate) if slot.candidate else "",
        document_date=slot.award.awarded_on if slot.award else data.session.date,
        reference=slot.award.number if slot.award else "",
        rectification_mark=data.rectification_mark(slot),
        withdrawal_mark=data.withdrawal_mark(slot),
    )


def session_zip(documents: list[IssuedDocument]) -> bytes:
    """The stored bytes of each document, unchanged (PDFs are already compressed: stored, not deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, document in enumerate(documents, start=1):
            archive.writestr(f"{index:03d}-{file_name(document)}", bytes(document.pdf))
    return buffer.getvalue()


def print_parts(documents: list[IssuedDocument]) -> list[tuple[str, list[IssuedDocument]]]:
    """The documents in printing order, one part per holder: the session's own documents, then each candidate's,
    in the order given (the slots': by name). Each part keeps its documents' order."""
    parts: dict[int | None, list[IssuedDocument]] = {}
    for document in documents:
        parts.setdefault(document.candidate_id, []).append(document)
    return [(items[0].holder_name or "Procès-verbal du jury", items) for items in parts.values()]


def merged_pdf(documents: list[IssuedDocument], title: str) -> bytes:
    """One PDF for a duplex printer: each holder's documents together, each holder starting on a front page (a blank
    back page closes a part of an odd number of pages), one bookmark a holder. Certificates are left out: landscape,
    on their own paper, they go in `certificates_pdf`. Each document stays verifiable by its QR code."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for holder, items in print_parts([doc for doc in documents if doc.kind != DocumentKind.CERTIFICATE]):
        first_page = len(writer.pages)
        for document in items:
            writer.append(io.BytesIO(bytes(document.pdf)), import_outline=False)
        if (len(writer.pages) - first_page) % 2:
            last = writer.pages[-1].mediabox
            writer.add_blank_page(width=last.width, height=last.height)
        writer.add_outline_item(title=holder, page_number=first_page)
    return _written(writer, title)


def certificates_pdf(documents: list[IssuedDocument], title: str) -> bytes | None:
    """The certificates alone, one landscape page each, in the candidates' order (None if there is none)."""
    from pypdf import PdfWriter

    certificates = [doc for doc in documents if doc.kind == DocumentKind.CERTIFICATE]
    if not certificates:
        return None
    writer = PdfWriter()
    for document in certificates:
        page = len(writer.pages)
        writer.append(io.BytesIO(bytes(document.pdf)), import_outline=False)
        writer.add_outline_item(title=document.holder_name, page_number=page)
    return _written(writer, title)


def _written(writer, title: str) -> bytes:
    writer.add_metadata({"/Title": title, "/Author": "Institut régional universitaire polytechnique (IRUP)"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
