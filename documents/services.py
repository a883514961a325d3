"""Issuing, revoking and rectifying documents, and producing a session's documents in one batch.

Like every service: validate, write, audit, each state change in one transaction. Rendering (WeasyPrint, the slow
part) happens before the transaction, from the signed session's immutable decisions; the transaction then locks
the session row, finds out whether another request issued the same document meanwhile (then keeps that one), and
stores the bytes with their SHA-256. A stored document never changes: only its status does.
"""

import hashlib
import io
import logging
from collections.abc import Callable
from concurrent.futures import as_completed

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from candidates.models import AcquiredBlock, Candidate, CertificationAward, Withdrawal
from certif import clock
from certif.audit import AuditAction, record_audit
from certif.permissions import is_staff
from certif.validation import TEXT_MAX_LENGTH, check_text
from certif.worker import StopRequest, fail_lost_task, heartbeat, task_is_lost, this_runner
from documents import pdf
from documents.content import (
    RECTIFIABLE_KINDS,
    Prepared,
    SessionData,
    Slot,
    certificates_pdf,
    find_slot,
    french_date,
    issuable,
    last_rectification,
    last_withdrawal,
    logo_data_uri,
    merged_pdf,
    prepare,
    session_slots,
    session_zip,
)
from documents.models import (
    LOGO_MAX_BYTES,
    BatchStatus,
    CertifierIdentity,
    DocumentBatch,
    DocumentKind,
    DocumentStatus,
    IssuedDocument,
    WithdrawnDocument,
)
from documents.selectors import HEARTBEAT_EVERY, batch_is_stalled, documents_stating
from juries.models import JurySession, Rectification

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
# A batch whose process died this many times is failed rather than retried (a document that kills its renderer).
MAX_INTERRUPTIONS = 3
CANDIDATE_KINDS = (DocumentKind.RESULTS, DocumentKind.ATTESTATION, DocumentKind.CERTIFICATE)
BATCH_BYTES = ("zip_file", "merged_pdf", "certificates_pdf")  # a batch's ZIP and PDFs: read only to be downloaded


def _refuse_unless_staff(actor: User, action: str) -> None:
    if not is_staff(actor):
        raise PermissionDenied(f"Seuls les gestionnaires peuvent {action}.")


def _signed(session: JurySession) -> JurySession:
    """The session, refused unless signed (a signature is final: a session read as signed stays signed)."""
    if not session.is_signed:
        session = JurySession.objects.select_related("certification").get(pk=session.pk)
    if not session.is_signed:
        raise ValidationError(UNSIGNED_MESSAGE)
    return session


# — One document —


def _store(prepared: Prepared, content: bytes, *, actor: User) -> tuple[IssuedDocument, bool]:
    """Keep the rendered bytes, unless a valid document of this slot was issued meanwhile (then return it).

    The partial unique constraints (one valid document a slot) settle a race between two requests: the second
    insert fails and the first document is returned."""
    slot = prepared.slot
    candidate_id = slot.candidate.pk if slot.candidate else None
    # candidate_id=None reads IS NULL (the session's own documents), which the stubs do not allow for.
    same_slot = IssuedDocument.objects.filter(session=prepared.session, kind=slot.kind, candidate_id=candidate_id)  # type: ignore[misc]
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
            # The session first, for every document: inserting the document takes a key-share lock on its session
            # row, so a worker locking the candidate first while another locked the session first (two workers on
            # one batch) would each wait for the other. It also serialises with decision_rectify, which locks the
            # session too.
            JurySession.objects.select_for_update(of=("self",)).filter(pk=prepared.session.pk).values_list("pk").get()
            if slot.kind in RECTIFIABLE_KINDS and slot.presentation is not None:
                # No rectification signed for this candidate since the HTML was built.
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


def _after_issue(document, prepared, same_slot, candidate_id, size, actor: User) -> None:
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
        action=AuditAction.DOCUMENT_ISSUED,
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


def document_issue(
    *, session: JurySession, kind: str, candidate: Candidate | None = None, actor: User
) -> IssuedDocument:
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
    prepared = prepare(SessionData(session, candidate_id=slot.candidate.pk if slot.candidate else None), slot)
    document, _ = _store(prepared, pdf.html_to_pdf(prepared.html), actor=actor)
    return document


@transaction.atomic
def document_revoke(*, document: IssuedDocument, reason: str, actor: User) -> IssuedDocument:
    """Revoke a valid document (a certificate issued in error, a fraud…): the verification page says so."""
    _refuse_unless_staff(actor, "révoquer un document")
    document = IssuedDocument.objects.select_for_update(of=("self",)).defer("pdf").get(pk=document.pk)
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
        action=AuditAction.DOCUMENT_REVOKED,
        target=document,
        before={"status": DocumentStatus.VALID},
        after={"status": DocumentStatus.REVOKED, "reason": reason},
    )
    return IssuedDocument.objects.defer("pdf").get(pk=document.pk)


def documents_revoke_withdrawn(
    *,
    withdrawal: Withdrawal,
    candidate: Candidate,
    award: CertificationAward | None,
    blocks: list[AcquiredBlock],
    revocation_reason: str,
    actor: User,
) -> list[IssuedDocument]:
    """Inside candidates.services_withdrawals.withdrawal_record's transaction: revoke the valid documents that state
    what the act withdraws and list them on the act, so that the verification page answers « retiré »."""
    revoked = [
        document_revoke(document=document, reason=revocation_reason, actor=actor)
        for document in list(documents_stating(candidate=candidate, award=award, blocks=blocks))
    ]
    WithdrawnDocument.objects.bulk_create(
        WithdrawnDocument(withdrawal=withdrawal, document=document) for document in revoked
    )
    return revoked


def documents_mark_rectified(*, rectification: Rectification, actor: User) -> int:
    """On juries.signals.decision_rectified, inside decision_rectify's transaction: the valid documents of that candidate in
    that session (results, attestation, certificate) no longer say what the jury decided; they become
    « rectifié » and a corrected one can be issued. The minutes record the deliberation as held and stay valid."""
    decision = rectification.decision
    presentation = decision.presentation
    documents = list(
        IssuedDocument.objects.select_for_update(of=("self",))
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
            action=AuditAction.DOCUMENT_RECTIFIED,
            target=document,
            before={"status": DocumentStatus.VALID},
            after={"status": DocumentStatus.RECTIFIED, "rectification": rectification.pk},
        )
    return len(documents)


# — Every document of a session —


def documents_issue_missing(
    *,
    session: JurySession,
    actor: User,
    on_issued: Callable[[IssuedDocument], object] | None = None,
    parallel: bool = True,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[Slot]:
    """Issue every document the session gives that has no valid document yet; returns the session's slots.

    HTML is built here (database reads, one pass for the whole session); the PDFs are rendered by a pool of
    processes, one per core, and each is stored (with its audit trace) as soon as it is ready. Once `should_stop()`
    says so, no new document is started: those being rendered are finished and stored, the others stay missing.
    """
    session = _signed(session)
    missing = [slot for slot in issuable(session_slots(session)) if slot.current is None]
    if missing:
        data = SessionData(session)
        data.load_rectification_marks()
        if parallel and len(missing) > 1:
            executor = pdf.pool(len(missing))
            try:
                # Each document goes to the pool as soon as its HTML is built: the workers start rendering while
                # this process builds the next ones, then stores each PDF as it comes back.
                futures = {}
                for slot in missing:
                    if should_stop():
                        break
                    item = prepare(data, slot)
                    futures[executor.submit(pdf.html_to_pdf, item.html)] = item
                for future in as_completed(futures):
                    if should_stop():
                        for waiting in futures:
                            waiting.cancel()  # only those no renderer has started
                    if future.cancelled():
                        continue
                    document, _ = _store(futures[future], future.result(), actor=actor)
                    if on_issued:
                        on_issued(document)
            finally:
                # Left early (an error, a forced stop): the documents not yet started are dropped, not rendered.
                executor.shutdown(wait=True, cancel_futures=True)
        else:
            for slot in missing:
                if should_stop():
                    break
                item = prepare(data, slot)
                document, _ = _store(item, pdf.html_to_pdf(item.html), actor=actor)
                if on_issued:
                    on_issued(document)
    return session_slots(session)


def _current_documents(slots: list[Slot]) -> list[IssuedDocument]:
    ids = [slot.current.pk for slot in slots if slot.current is not None]
    by_id = IssuedDocument.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids]


@transaction.atomic(durable=True)
def batch_request(*, session: JurySession, actor: User) -> DocumentBatch:
    """Ask for every document of a signed session in the background; an unfinished batch is reused (and put back in
    the queue if the process that ran it died)."""
    _refuse_unless_staff(actor, "produire les documents d'une session")
    session = _signed(session)
    JurySession.objects.select_for_update(of=("self",)).filter(pk=session.pk).values_list("pk").get()
    unfinished = (
        DocumentBatch.objects.filter(session=session, status__in=[BatchStatus.PENDING, BatchStatus.RUNNING])
        .defer(*BATCH_BYTES)
        .first()
    )
    if unfinished is not None:
        _recover(unfinished)
        return DocumentBatch.objects.defer(*BATCH_BYTES).get(pk=unfinished.pk)
    slots = issuable(session_slots(session))
    batch = DocumentBatch.objects.create(
        session=session,
        requested_by=actor,
        total=len(slots),
        done=sum(1 for slot in slots if slot.current is not None),
    )
    # The database backend writes the task in this same transaction: no batch without its task, nor the reverse.
    _enqueue(batch)
    record_audit(
        actor=actor,
        action=AuditAction.DOCUMENTS_BATCH_REQUESTED,
        target=session,
        after={"batch": batch.pk, "documents": batch.total, "already_issued": batch.done},
    )
    return DocumentBatch.objects.defer(*BATCH_BYTES).get(pk=batch.pk)


def _enqueue(batch: DocumentBatch) -> str:
    from documents.tasks import generate_session_documents

    task_id = str(generate_session_documents.enqueue(batch_id=batch.pk).id)
    DocumentBatch.objects.filter(pk=batch.pk).update(task_id=task_id)
    return task_id


def _requeue(batch: DocumentBatch, *, crashed: bool) -> str:
    """Back in the queue, for the next worker: it issues only what is still missing (documents are kept).

    The progress is counted again from the stored documents: a process stopped between storing a document and
    counting it left the counter one behind."""
    slots = session_slots(JurySession.objects.select_related("certification").get(pk=batch.session_id))
    with transaction.atomic():
        task_id = _enqueue(batch)
        DocumentBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.PENDING,
            runner="",
            heartbeat_at=None,
            interruptions=F("interruptions") + (1 if crashed else 0),
            done=sum(1 for slot in slots if slot.current is not None),
            total=len(slots),
        )
    return task_id


def _task_lost(batch: DocumentBatch) -> bool:
    """A pending batch whose task will never run: gone, finished, or claimed by a worker that died at once."""
    return task_is_lost(batch.task_id)


def _recover(batch: DocumentBatch) -> bool:
    """Put an unfinished batch whose process died back in the queue (or fail it after MAX_INTERRUPTIONS)."""
    if batch.status == BatchStatus.RUNNING and not batch_is_stalled(batch):
        return False
    if batch.status == BatchStatus.PENDING and not _task_lost(batch):
        return False
    with transaction.atomic():
        current = DocumentBatch.objects.select_for_update(of=("self",)).defer(*BATCH_BYTES).get(pk=batch.pk)
        if (current.status, current.runner, current.task_id, current.heartbeat_at) != (
            batch.status,
            batch.runner,
            batch.task_id,
            batch.heartbeat_at,
        ):
            return False  # another process moved it meanwhile
        lost = "Le service de production des documents s'est arrêté pendant cette tâche (processus interrompu)."
        fail_lost_task(current.task_id, message=lost)
        if current.interruptions + 1 >= MAX_INTERRUPTIONS:
            DocumentBatch.objects.filter(pk=current.pk).update(
                status=BatchStatus.FAILED,
                interruptions=F("interruptions") + 1,
                runner="",
                finished_at=timezone.now(),
                error=(
                    f"La production a été interrompue {current.interruptions + 1} fois (le service de production des "
                    "documents s'est arrêté pendant le lot) : relancez-la. Documents déjà prêts, conservés : "
                    f"{current.done} sur {current.total}."
                ),
            )
            logger.error("Lot de documents %s abandonné après %s interruptions", current.pk, MAX_INTERRUPTIONS)
        else:
            task_id = _requeue(current, crashed=True)
            logger.warning(
                "Lot de documents %s interrompu à %s/%s : remis en file (%s)",
                current.pk,
                current.done,
                current.total,
                task_id,
            )
    return True


def batches_recover() -> int:
    """Every unfinished batch whose process died goes back in the queue: run by db_worker when it starts, then
    every minute. Returns how many were recovered."""
    unfinished = DocumentBatch.objects.filter(status__in=[BatchStatus.PENDING, BatchStatus.RUNNING]).defer(*BATCH_BYTES)
    return sum(_recover(batch) for batch in unfinished)


def batch_run(*, batch_id: int) -> dict:
    """The task's body (documents.tasks): issue what is missing, with progress, then the ZIP and the two PDFs to
    print (documents.content.merged_pdf, certificates_pdf).

    Idempotent: a batch resumed after an interruption issues only the documents still missing (the partial unique
    constraints keep one valid document a slot even if two processes ran it at once). Asked to stop (SIGTERM,
    Ctrl+C), it finishes the documents being rendered, stores them, and goes back in the queue."""
    batch = DocumentBatch.objects.select_related("session", "requested_by").defer(*BATCH_BYTES).get(pk=batch_id)
    if batch.is_finished:
        return {"batch": batch_id, "status": batch.status}
    rows = DocumentBatch.objects.filter(pk=batch_id)
    runner = this_runner()
    slots = issuable(session_slots(batch.session))
    now = timezone.now()
    rows.update(
        status=BatchStatus.RUNNING,
        started_at=Coalesce(F("started_at"), now),
        runner=runner,
        heartbeat_at=now,
        total=len(slots),
        done=sum(1 for slot in slots if slot.current is not None),
    )
    mine = rows.filter(runner=runner)
    stop = StopRequest()
    try:
        with stop, heartbeat(lambda: mine.update(heartbeat_at=timezone.now()), every=HEARTBEAT_EVERY):
            slots = documents_issue_missing(
                session=batch.session,
                actor=batch.requested_by,
                on_issued=lambda _document: mine.update(done=F("done") + 1, heartbeat_at=timezone.now()),
                should_stop=stop.is_requested,
            )
            if stop.requested and any(slot.current is None for slot in issuable(slots)):
                return _interrupted(batch, slots)
            documents = _current_documents(issuable(slots))
            title = f"Documents du jury du {french_date(batch.session.date)} — {batch.session.place}"
            rows.update(
                status=BatchStatus.DONE,
                done=len(documents),
                total=len(documents),
                zip_file=session_zip(documents),
                merged_pdf=merged_pdf(documents, title),
                certificates_pdf=certificates_pdf(documents, f"Certificats — {title}"),
                runner="",
                finished_at=timezone.now(),
            )
    except Exception as error:
        if stop.requested:  # e.g. a renderer stopped by the signal: nothing stored is lost, the batch resumes
            logger.warning("Lot de documents %s arrêté en cours de route (%s)", batch_id, error)
            return _interrupted(batch, issuable(session_slots(batch.session)))
        logger.exception("Lot de documents %s en échec", batch_id)
        rows.update(
            status=BatchStatus.FAILED,
            error=f"La production des documents a échoué : {error}"[:2000],
            runner="",
            finished_at=timezone.now(),
        )
        raise
    except BaseException:
        # Forced to stop at once (a second Ctrl+C, SystemExit): what is stored stays; the batch goes back in the
        # queue now, or, if even that fails, is recovered when a worker starts again.
        try:
            _requeue(batch, crashed=False)
        except Exception:
            logger.exception("Lot de documents %s : remise en file impossible, reprise au prochain démarrage", batch_id)
        raise
    return {"batch": batch_id, "status": BatchStatus.DONE, "documents": len(documents)}


def _interrupted(batch: DocumentBatch, slots: list[Slot]) -> dict:
    done = sum(1 for slot in slots if slot.current is not None)
    task_id = _requeue(batch, crashed=False)
    logger.warning(
        "Lot de documents %s arrêté à %s/%s : il reprendra au prochain démarrage", batch.pk, done, len(slots)
    )
    return {"batch": batch.pk, "status": "interrupted", "done": done, "total": len(slots), "resumed_by": task_id}


# — The certifier's identity on the documents —

LOGO_REFUSED = "Le logo doit être une image PNG, JPEG ou SVG d'au plus 1 Mo."
SVG_NS = "{http://www.w3.org/2000/svg}"


def logo_type_of(*, content: bytes) -> str:
    """The logo's type, read from its bytes (never from the name or the browser's word), or a refusal.

    PNG and JPEG are opened by Pillow. An SVG must be self-contained: no script, no DOCTYPE (no entity) and no
    reference outside itself — a document is rendered without the network and refuses anything but its fonts."""
    if not content or len(content) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": LOGO_REFUSED})
    if content.startswith(b"\x89PNG\r\n\x1a\n") or content.startswith(b"\xff\xd8\xff"):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(content)) as image:
                image.verify()
                kind = image.format
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError({"logo": "Cette image PNG ou JPEG est illisible."}) from None
        return "image/png" if kind == "PNG" else "image/jpeg"
    return _checked_svg(content)


def _checked_svg(content: bytes) -> str:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if b"<!DOCTYPE" in content.upper() or b"<!ENTITY" in content.upper():
        raise ValidationError({"logo": "Ce fichier SVG déclare un DOCTYPE : enregistrez-le sans."})
    try:
        root = fromstring(content, forbid_dtd=True)
    except (DefusedXmlException, SyntaxError, ValueError):
        raise ValidationError({"logo": LOGO_REFUSED}) from None
    if root.tag != f"{SVG_NS}svg":
        raise ValidationError({"logo": LOGO_REFUSED})
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.split("}")[-1] in {"script", "foreignObject"}:
            raise ValidationError({"logo": "Ce fichier SVG contient un script : il ne peut pas servir de logo."})
        for name, value in element.attrib.items():
            local = name.split("}")[-1]
            outside = local == "href" and not value.startswith(("#", "data:"))
            if outside or "url(" in value.replace("url(#", ""):
                raise ValidationError(
                    {"logo": "Ce fichier SVG renvoie à une ressource extérieure : il doit contenir toute l'image."}
                )
    return "image/svg+xml"


def _identity_snapshot(identity: CertifierIdentity) -> dict:
    return {
        "director_general_name": identity.director_general_name,
        "logo": identity.logo_name if identity.has_logo else "",
        "logo_sha256": hashlib.sha256(bytes(identity.logo)).hexdigest()
        if identity.has_logo and identity.logo is not None
        else "",
    }


@transaction.atomic
def certifier_identity_save(
    *,
    director_general_name: str,
    logo: bytes | None = None,
    logo_name: str = "",
    remove_logo: bool = False,
    actor: User,
) -> CertifierIdentity:
    """Record the director general's name and the logo printed on every document issued from now on (the documents
    already issued keep theirs). `logo` None keeps the current one; `remove_logo` removes it."""
    _refuse_unless_staff(actor, "modifier le logo et le signataire des documents")
    identity = CertifierIdentity.objects.select_for_update(of=("self",)).filter(pk=1).first() or CertifierIdentity(pk=1)
    before = _identity_snapshot(identity) if identity.updated_at else None
    name = check_text(director_general_name, field="director_general_name", max_length=150)
    if not name:
        raise ValidationError({"director_general_name": "Indiquez le prénom et le nom du directeur général."})
    identity.director_general_name = name
    if logo is not None:
        identity.logo_type = logo_type_of(content=logo)
        identity.logo, identity.logo_name = logo, logo_name[:255]
        try:  # a logo that WeasyPrint cannot draw would stop every document: tried once, here
            pdf.html_to_pdf(
                f'<html lang="fr"><title>Logo</title><img src="{logo_data_uri(identity)}" alt="Logo"></html>'
            )
        except Exception:
            logger.warning("Logo refusé : le rendu PDF a échoué", exc_info=True)
            raise ValidationError({"logo": "Cette image ne peut pas être imprimée sur les documents."}) from None
    elif remove_logo:
        identity.logo, identity.logo_type, identity.logo_name = None, "", ""
    after = _identity_snapshot(identity)
    if before == after:
        return identity
    identity.updated_at, identity.updated_by = clock.now(), actor
    identity.save()
    record_audit(
        actor=actor, action=AuditAction.CERTIFIER_IDENTITY_CHANGED, target=identity, before=before, after=after
    )
    return identity
