"""Steps of the process tests (tests/processes.py), each run as its own process on the scenario's database:

    DATABASE_URL=… python -m tests.process_steps <step> '<json arguments>'

Each step writes through the application's services (as tests/factories.py does) or reads back what the processes
left, and prints one line of JSON.
"""

import datetime
import hashlib
import io
import json
import os
import sys
import zipfile


def _people():
    from django.contrib.auth import get_user_model

    from certif.roles import Role
    from tests.conftest import make_user

    users = get_user_model().objects
    staff = users.filter(username="gestion").first() or make_user("gestion", Role.STAFF, is_staff=True)
    trainer = users.filter(username="formatrice").first() or make_user("formatrice", Role.TRAINER)
    president = users.filter(username="presidente").first() or make_user("presidente", Role.PRESIDENT)
    return staff, trainer, president


def ready_sessions(*, sessions: int, grids: int) -> dict:
    """`sessions` jury sessions ready to deliberate (two candidates each, grids submitted, candidates presented),
    and `grids` block 1 grids left open, for the trainer to fill in and submit."""
    from evaluation.models import BlockEvaluation
    from juries.models import Decision
    from tests.factories import evaluated_cohort, make_jury, present_all

    staff, trainer, president = _people()
    ready = []
    for index in range(sessions):
        _, enrolments, _ = evaluated_cohort(staff, trainer, count=2, name=f"Promotion concurrente {index}")
        session = make_jury(staff, president, place=f"IRUP, salle {index}")
        present_all(session, enrolments, staff)
        decisions = Decision.objects.filter(presentation__session=session).order_by("pk")
        ready.append({"id": session.pk, "decisions": [[d.pk, d.proposal_outcome] for d in decisions]})
    open_grids = []
    for index in range(grids):
        _, enrolments, evaluation = evaluated_cohort(
            staff, trainer, numbers=(1,), count=3, submit=False, name=f"Promotion à évaluer {index}"
        )
        block_evaluation = BlockEvaluation.objects.select_related("grid").get(session=evaluation)
        competences = list(block_evaluation.grid.competences.order_by("position").values_list("pk", flat=True))
        open_grids.append(
            {
                "session": evaluation.pk,
                "number": 1,
                "cells": [[enrolment.pk, competence] for enrolment in enrolments for competence in competences],
            }
        )
    return {"sessions": ready, "grids": open_grids}


def signed_session_with_batch(*, candidates: int) -> dict:
    """A signed session of `candidates` candidates, every one validating blocks 1 and 2 (half of them already hold
    blocks 3 and 4: a certificate; the others an attestation), and its batch of documents asked for."""
    from candidates.services import acquired_block_import
    from certif.models import Block
    from documents.content import session_slots
    from documents.services import batch_request
    from juries import services
    from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

    staff, trainer, president = _people()
    _, enrolments, _ = evaluated_cohort(staff, trainer, count=candidates, name="Promotion du lot")
    for enrolment in enrolments[::2]:
        for number in (3, 4):
            acquired_block_import(
                candidate=enrolment.candidate,
                block=Block.objects.get(certification__rncp_code="16204", number=number),
                acquired_on=datetime.date(2021, 6, 17),
                import_source="Procès-verbal du jury du 17 juin 2021",
                actor=staff,
            )
    session = make_jury(staff, president, place="IRUP, Saint-Étienne — lot")
    present_all(session, enrolments, staff)
    decide_all(session, president)
    services.jury_session_sign_off(session=session, signed_by=president)
    session.refresh_from_db()
    batch = batch_request(session=session, actor=staff)
    return {"session": session.pk, "batch": batch.pk, "slots": len(session_slots(session))}


def session_documents(*, session: int, batch: int) -> dict:
    """What a session's documents and its batch look like now, every stored PDF read back."""
    from django_tasks_db.models import DBTaskResult
    from pypdf import PdfReader

    from certif.models import AuditEvent
    from documents.content import group_code, session_slots
    from documents.models import DocumentBatch, DocumentStatus, IssuedDocument
    from juries.models import JurySession

    # The batch and its tasks first: once the tasks are over, nothing is written after these reads (each query
    # sees what is committed when it runs).
    row = DocumentBatch.objects.get(pk=batch)
    tasks = list(DBTaskResult.objects.filter(args_kwargs__kwargs__batch_id=batch).order_by("enqueued_at"))
    jury = JurySession.objects.get(pk=session)
    slots = session_slots(jury)
    documents = list(IssuedDocument.objects.filter(session=jury).order_by("pk"))
    readable = []
    for document in documents:
        content = bytes(document.pdf)
        reader = PdfReader(io.BytesIO(content))
        text = "".join(page.extract_text() for page in reader.pages)
        readable.append(
            hashlib.sha256(content).hexdigest() == document.sha256
            and group_code(document.verification_code) in text
            and (document.holder_name.split()[-1].upper() in text.upper() if document.holder_name else True)
        )
    in_zip = []
    if row.zip_file:
        archive = zipfile.ZipFile(io.BytesIO(bytes(row.zip_file)))
        in_zip = sorted(hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist())
    # The pages printed: the portrait file's (its blank backs left out) and the certificates'.
    merged_pages = 0
    for content in (row.merged_pdf, row.certificates_pdf):
        if content:
            merged_pages += sum(
                1 for page in PdfReader(io.BytesIO(bytes(content))).pages if page.extract_text().strip()
            )
    return {
        "slots": len(slots),
        "slots_with_a_valid_document": sum(1 for slot in slots if slot.current is not None),
        "documents": [[d.pk, d.kind, d.candidate_id, d.status, d.sha256] for d in documents],
        "valid": sum(1 for d in documents if d.status == DocumentStatus.VALID),
        "readable": readable,
        "issued_audit_events": AuditEvent.objects.filter(
            action="document.issued", target_id__in=[str(d.pk) for d in documents]
        ).count(),
        "batch": {
            "status": row.status,
            "done": row.done,
            "total": row.total,
            "error": row.error,
            "interruptions": row.interruptions,
            "task_id": row.task_id,
            "finished_at": row.finished_at and row.finished_at.isoformat(),
        },
        "zip": in_zip,
        "valid_sha256": sorted(d.sha256 for d in documents if d.status == DocumentStatus.VALID),
        "merged_pages": merged_pages,
        "document_pages": sum(
            len(PdfReader(io.BytesIO(bytes(d.pdf))).pages) for d in documents if d.status == DocumentStatus.VALID
        ),
        "tasks": [
            [str(t.id), t.status, t.exception_class_path, t.traceback[-300:], t.started_at and t.started_at.isoformat()]
            for t in tasks
        ],
    }


def signed_sessions(*, sessions: list[int]) -> dict:
    from certif.models import AuditEvent
    from documents.content import session_slots
    from documents.models import BatchStatus, DocumentBatch, DocumentStatus, IssuedDocument
    from juries.models import JurySession, JurySessionStatus

    rows = JurySession.objects.filter(pk__in=sessions)
    return {
        "signed": rows.filter(status=JurySessionStatus.SIGNED).count(),
        "sign_off_events": AuditEvent.objects.filter(
            action="jury.signed_off", target_id__in=[str(pk) for pk in sessions]
        ).count(),
        "batches_done": DocumentBatch.objects.filter(session__in=rows, status=BatchStatus.DONE).count(),
        "documents": IssuedDocument.objects.filter(session__in=rows, status=DocumentStatus.VALID).count(),
        "slots": sum(len(session_slots(session)) for session in rows),
    }


def submitted_grids(*, sessions: list[int]) -> dict:
    from evaluation.models import BlockEvaluation, BlockEvaluationStatus

    return {
        "submitted": BlockEvaluation.objects.filter(
            session_id__in=sessions, status=BlockEvaluationStatus.SUBMITTED
        ).count()
    }


def enqueue_again(*, batch: int) -> dict:
    """A second task for the same batch, as if a live worker had been taken for dead and its batch re-queued."""
    from documents.tasks import generate_session_documents

    return {"task": str(generate_session_documents.enqueue(batch_id=batch).id)}


def enqueue_notes(*, path: str, count: int) -> dict:
    """`count` runs of the tiny test task, on the default queue."""
    from tests.worker_tasks import note_run

    return {"tasks": [str(note_run.enqueue(path=path, marker=marker).id) for marker in range(count)]}


def task_results(*, tasks: list[str]) -> dict:
    """The status of each task, as the queue recorded it."""
    from django_tasks_db.models import DBTaskResult

    return {
        "statuses": {
            str(pk): status for pk, status in DBTaskResult.objects.filter(pk__in=tasks).values_list("pk", "status")
        }
    }


STEPS = {
    "enqueue_again": enqueue_again,
    "enqueue_notes": enqueue_notes,
    "task_results": task_results,
    "ready_sessions": ready_sessions,
    "signed_session_with_batch": signed_session_with_batch,
    "session_documents": session_documents,
    "signed_sessions": signed_sessions,
    "submitted_grids": submitted_grids,
}

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    name, arguments = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    print(json.dumps(STEPS[name](**arguments)))
