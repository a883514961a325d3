"""Issuing, revoking and rectifying documents, and producing a session's documents in one batch.

Like every service: validate, write, audit, each state change in one transaction. Rendering (WeasyPrint, the slow
part) happens before the transaction, from the signed session's immutable decisions; the transaction then locks
the session row, finds out whether another request issued the same document meanwhile (then keeps that one), and
stores the bytes with their SHA-256. A stored document never changes: only its status does.
"""

import datetime
import hashlib
import io
import logging
import zipfile
from collections.abc import Callable
from concurrent.futures import as_completed

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from candidates.models import Candidate
from certif.audit import record_audit
from certif.roles import is_staff_member
from certif.validation import TEXT_MAX_LENGTH, check_text
from juries import pdf
from juries.documents import (
    RECTIFIABLE_KINDS,
    Prepared,
    SessionData,
    Slot,
    file_name,
    find_slot,
    french_date,
    issuable,
    last_rectification,
    last_withdrawal,
    prepare,
    session_slots,
)
from juries.models import (
    BatchStatus,
    DocumentBatch,
    DocumentKind,
    DocumentStatus,
    IssuedDocument,
    JurySession,
    Rectification,
)

logger = logging.getLogger(__name__)

UNSIGNED_MESSAGE = (
    "Cette session de jury n'est pas signée : ses documents (procès-verbal, relevés, attestations, certificats) "
    "ne peuvent être émis qu'après la signature du président."
)
STALE_MESSAGE = (
    "Une rectification vient d'être signée pour ce candidat pendant la production du document : "
    "il n'a pas été conservé. Émettez-le de nouveau."
)
WITHDRAWN_MESSAGE = (
    "Un retrait vient d'être enregistré pour ce candidat pendant la production du document : il n'a pas été "
    "conservé. Émettez-le de nouveau s'il ne rapporte aucun résultat retiré."
)
SLOT_WITHDRAWN_MESSAGE = "Ce document rapporte un résultat retiré (retrait pour fraude) : il ne peut plus être émis."
STALE_AFTER = datetime.timedelta(minutes=30)  # a session of 100 candidates takes about 15 s on 2 cores
CANDIDATE_KINDS = (DocumentKind.RESULTS, DocumentKind.ATTESTATION, DocumentKind.CERTIFICATE)


def _refuse_unless_staff(actor, action: str) -> None:
    if not is_staff_member(actor):
        raise PermissionDenied(f"Seuls les gestionnaires peuvent {action}.")


def _signed(session: JurySession) -> JurySession:
    """The session, refused unless signed (a signature is final: a session read as signed stays signed)."""
    if not session.is_signed:
        session = JurySession.objects.select_related("certification").get(pk=session.pk)
    if not session.is_signed:
        raise ValidationError(UNSIGNED_MESSAGE)
    return session


# — One document —


def _store(prepared: Prepared, content: bytes, *, actor) -> tuple[IssuedDocument, bool]:
    """Keep the rendered bytes, unless a valid document of this slot was issued meanwhile (then return it).

    The partial unique constraints (one valid document a slot) settle a race between two requests: the second
    insert fails and the first document is returned."""
    slot = prepared.slot
    candidate_id = slot.candidate.pk if slot.candidate else None
    same_slot = IssuedDocument.objects.filter(session=prepared.session, kind=slot.kind, candidate_id=candidate_id)
    document = IssuedDocument(
        kind=slot.kind,
        session=prepared.session,
        candidate=slot.candidate,
        award=slot.award,
        verification_code=prepared.code,
        title=prepared.title[:255],
        holder_name=prepared.holder_name[:255],
        document_date=prepared.document_date,
        reference=prepared.reference,
        pdf=content,
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=actor,
    )
    try:
        with transaction.atomic():
            if slot.kind in RECTIFIABLE_KINDS and slot.presentation is not None:
                # Serialises with decision_rectify (which locks the session too), then checks that no rectification
                # was signed for this candidate since the HTML was built.
                JurySession.objects.select_for_update().filter(pk=prepared.session.pk).values_list("pk").get()
                presentation_id = slot.presentation.pk
                if last_rectification([presentation_id]).get(presentation_id) != prepared.rectification_mark:
                    raise ValidationError(STALE_MESSAGE)
            if slot.candidate is not None:
                # Serialises with withdrawal_record (which locks the candidate first), then checks that no withdrawal
                # was recorded for this candidate since the HTML was built.
                Candidate.objects.select_for_update(of=("self",)).filter(pk=slot.candidate.pk).values_list("pk").get()
                if last_withdrawal([slot.candidate.pk]).get(slot.candidate.pk) != prepared.withdrawal_mark:
                    raise ValidationError(WITHDRAWN_MESSAGE)
            document.save()
            _after_issue(document, prepared, same_slot, candidate_id, len(content), actor)
    except IntegrityError:
        existing = same_slot.filter(status=DocumentStatus.VALID).defer("pdf").first()
        if existing is None:
            raise
        return existing, False
    return document, True


def _after_issue(document, prepared, same_slot, candidate_id, size, actor) -> None:
    slot = prepared.slot
    replaced = []
    if any(doc.status == DocumentStatus.RECTIFIED and doc.superseded_by_id is None for doc in slot.issued):
        replaced = list(
            same_slot.filter(status=DocumentStatus.RECTIFIED, superseded_by__isnull=True)
            .exclude(pk=document.pk)
            .values_list("pk", flat=True)
        )
    if replaced:
        IssuedDocument.objects.filter(pk__in=replaced).update(superseded_by=document)
    record_audit(
        actor=actor,
        action="document.issued",
        target=document,
        after={
            "kind": document.kind,
            "session": prepared.session.pk,
            "candidate": candidate_id,
            "reference": document.reference,
            "sha256": document.sha256,
            "size": size,
            "replaces": replaced,
        },
    )


def document_issue(*, session: JurySession, kind: str, candidate=None, actor) -> IssuedDocument:
    """Issue the document `kind` of a signed session (for `candidate` unless minutes) and keep its bytes.

    Idempotent: when a valid document of this kind already exists for that candidate and session, it is returned
    unchanged (same bytes, same code). A revoked or rectified one does not count: a new one is issued.
    """
    _refuse_unless_staff(actor, "émettre un document")
    session = _signed(session)
    if kind not in DocumentKind.values:
        raise ValidationError("Type de document inconnu.")
    slot = find_slot(session, kind, candidate.pk if candidate is not None else None)
    if slot is None:
        raise ValidationError(
            f"Cette session ne donne pas ce document ({DocumentKind(kind).label.lower()}) "
            + ("à ce candidat." if candidate is not None else ".")
        )
    if slot.current is not None:
        return IssuedDocument.objects.get(pk=slot.current.pk)
    if slot.withdrawn:
        raise ValidationError(SLOT_WITHDRAWN_MESSAGE)
    prepared = prepare(SessionData(session), slot)
    document, _ = _store(prepared, pdf.html_to_pdf(prepared.html), actor=actor)
    return document


@transaction.atomic
def document_revoke(*, document: IssuedDocument, reason: str, actor) -> IssuedDocument:
    """Revoke a valid document (a certificate issued in error, a fraud…): the verification page says so."""
    _refuse_unless_staff(actor, "révoquer un document")
    document = IssuedDocument.objects.select_for_update().defer("pdf").get(pk=document.pk)
    if document.status != DocumentStatus.VALID:
        raise ValidationError(
            f"Ce document n'est plus valide ({document.get_status_display().lower()}) : rien à révoquer."
        )
    reason = check_text(reason, field="reason", max_length=TEXT_MAX_LENGTH)
    if not reason:
        raise ValidationError({"reason": "Indiquez le motif de la révocation."})
    now = timezone.now()
    IssuedDocument.objects.filter(pk=document.pk).update(
        status=DocumentStatus.REVOKED, status_changed_at=now, status_changed_by=actor, status_reason=reason
    )
    record_audit(
        actor=actor,
        action="document.revoked",
        target=document,
        before={"status": DocumentStatus.VALID},
        after={"status": DocumentStatus.REVOKED, "reason": reason},
    )
    return IssuedDocument.objects.defer("pdf").get(pk=document.pk)


def documents_mark_rectified(*, rectification: Rectification, actor) -> int:
    """Called by juries.services.decision_rectify, inside its transaction: the valid documents of that candidate in
    that session (results, attestation, certificate) no longer say what the jury decided; they become
    « rectifié » and a corrected one can be issued. The minutes record the deliberation as held and stay valid."""
    decision = rectification.decision
    presentation = decision.presentation
    documents = list(
        IssuedDocument.objects.select_for_update()
        .filter(
            session_id=presentation.session_id,
            candidate_id=presentation.enrolment.candidate_id,
            kind__in=CANDIDATE_KINDS,
            status=DocumentStatus.VALID,
        )
        .defer("pdf")
    )
    reason = (
        f"Décision du bloc {decision.block.number} rectifiée le {french_date(timezone.localdate(rectification.signed_at))} "
        f"({rectification.get_outcome_display().lower()}) : {rectification.reason}"
    )[:2000]
    for document in documents:
        IssuedDocument.objects.filter(pk=document.pk).update(
            status=DocumentStatus.RECTIFIED,
            status_changed_at=rectification.signed_at,
            status_changed_by=actor,
            status_reason=reason,
        )
        record_audit(
            actor=actor,
            action="document.rectified",
            target=document,
            before={"status": DocumentStatus.VALID},
            after={"status": DocumentStatus.RECTIFIED, "rectification": rectification.pk},
        )
    return len(documents)


# — Every document of a session —


def issue_missing(
    session: JurySession, *, actor, on_issued: Callable[[IssuedDocument], None] | None = None, parallel: bool = True
) -> list[Slot]:
    """Issue every document the session gives that has no valid document yet; returns the session's slots.

    HTML is built here (database reads, one pass for the whole session); the PDFs are rendered by a pool of
    processes, one per core, and each is stored (with its audit trace) as soon as it is ready.
    """
    session = _signed(session)
    missing = [slot for slot in issuable(session_slots(session)) if slot.current is None]
    if missing:
        data = SessionData(session)
        data.load_rectification_marks()
        if parallel and len(missing) > 1:
            with pdf.pool(len(missing)) as executor:
                # Each document goes to the pool as soon as its HTML is built: the workers start rendering while
                # this process builds the next ones, then stores each PDF as it comes back.
                futures = {}
                for slot in missing:
                    item = prepare(data, slot)
                    futures[executor.submit(pdf.html_to_pdf, item.html)] = item
                for future in as_completed(futures):
                    document, _ = _store(futures[future], future.result(), actor=actor)
                    if on_issued:
                        on_issued(document)
        else:
            for slot in missing:
                item = prepare(data, slot)
                document, _ = _store(item, pdf.html_to_pdf(item.html), actor=actor)
                if on_issued:
                    on_issued(document)
    return session_slots(session)


def _current_documents(slots: list[Slot]) -> list[IssuedDocument]:
    ids = [slot.current.pk for slot in slots if slot.current is not None]
    by_id = IssuedDocument.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids]


def session_zip(documents: list[IssuedDocument]) -> bytes:
    """The stored bytes of each document, unchanged (PDFs are already compressed: stored, not deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, document in enumerate(documents, start=1):
            archive.writestr(f"{index:03d}-{file_name(document)}", bytes(document.pdf))
    return buffer.getvalue()


def merged_pdf(documents: list[IssuedDocument], title: str) -> bytes:
    """One PDF for printing, the documents' pages one after the other (each stays verifiable by its QR code)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for document in documents:
        writer.append(io.BytesIO(bytes(document.pdf)))
    writer.add_metadata({"/Title": title, "/Author": "Institut régional universitaire polytechnique (IRUP)"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@transaction.atomic
def batch_request(*, session: JurySession, actor) -> DocumentBatch:
    """Ask for every document of a signed session in the background; an unfinished batch is reused."""
    from juries.tasks import generate_session_documents

    _refuse_unless_staff(actor, "produire les documents d'une session")
    session = _signed(session)
    JurySession.objects.select_for_update().filter(pk=session.pk).values_list("pk").get()
    # A batch left running by a worker that was killed would never finish: after STALE_AFTER it is failed, and a
    # new one is asked for. A pending batch waits for the worker, however long.
    DocumentBatch.objects.filter(
        session=session, status=BatchStatus.RUNNING, started_at__lt=timezone.now() - STALE_AFTER
    ).update(
        status=BatchStatus.FAILED,
        error="Production interrompue (le service de production des documents s'est arrêté) : relancez-la.",
        finished_at=timezone.now(),
    )
    running = (
        DocumentBatch.objects.filter(session=session, status__in=[BatchStatus.PENDING, BatchStatus.RUNNING])
        .defer("zip_file", "merged_pdf")
        .first()
    )
    if running is not None:
        return running
    slots = issuable(session_slots(session))
    batch = DocumentBatch.objects.create(
        session=session,
        requested_by=actor,
        total=len(slots),
        done=sum(1 for slot in slots if slot.current is not None),
    )
    # The database backend writes the task in this same transaction: no batch without its task, nor the reverse.
    result = generate_session_documents.enqueue(batch_id=batch.pk)
    DocumentBatch.objects.filter(pk=batch.pk).update(task_id=str(result.id))
    record_audit(
        actor=actor,
        action="documents.batch_requested",
        target=session,
        after={"batch": batch.pk, "documents": batch.total, "already_issued": batch.done},
    )
    return DocumentBatch.objects.defer("zip_file", "merged_pdf").get(pk=batch.pk)


def batch_run(batch_id: int) -> dict:
    """The task's body (juries.tasks): issue what is missing, with progress, then the ZIP and the merged PDF."""
    batch = (
        DocumentBatch.objects.select_related("session", "requested_by").defer("zip_file", "merged_pdf").get(pk=batch_id)
    )
    if batch.is_finished:
        return {"batch": batch_id, "status": batch.status}
    rows = DocumentBatch.objects.filter(pk=batch_id)
    slots = issuable(session_slots(batch.session))
    rows.update(
        status=BatchStatus.RUNNING,
        started_at=timezone.now(),
        total=len(slots),
        done=sum(1 for slot in slots if slot.current is not None),
    )
    try:
        slots = issue_missing(
            batch.session, actor=batch.requested_by, on_issued=lambda _document: rows.update(done=F("done") + 1)
        )
        documents = _current_documents(issuable(slots))
        title = f"Documents du jury du {french_date(batch.session.date)} — {batch.session.place}"
        rows.update(
            status=BatchStatus.DONE,
            done=len(documents),
            total=len(documents),
            zip_file=session_zip(documents),
            merged_pdf=merged_pdf(documents, title),
            finished_at=timezone.now(),
        )
    except Exception as error:
        logger.exception("Lot de documents %s en échec", batch_id)
        rows.update(
            status=BatchStatus.FAILED,
            error=f"La production des documents a échoué : {error}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    return {"batch": batch_id, "status": BatchStatus.DONE, "documents": len(documents)}
