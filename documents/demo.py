"""Demo documents for `make run` (called by `seed_demo` after the demo juries): never in production.

Every document of the signed sessions (minutes, results statements, attestations, certificates) is asked of the
background worker (`db_worker`, started by `make run`), once: documents already issued or already asked for are not
asked for again.
"""

from documents.content import session_slots
from documents.models import BatchStatus, CertifierIdentity
from documents.services import batch_request, certifier_identity_save
from juries.models import JurySession

# A fictitious name, as every person of the demo: the certificates are signed by someone. No logo: the certificate
# shows the placeholder « Logo de l'IRUP » until staff upload the real one.
DEMO_DIRECTOR_GENERAL = "Martine Vernet-Aubry"


def create_demo_documents(*, sessions: list[JurySession], staff) -> int:
    """The number of sessions whose documents were asked for."""
    if not CertifierIdentity.current().director_general_name:
        certifier_identity_save(director_general_name=DEMO_DIRECTOR_GENERAL, actor=staff)
    return sum(_ask_documents(session, staff) for session in sessions)


def _ask_documents(session: JurySession, staff) -> int:
    """Ask the worker for the session's documents, unless all are issued or a batch is already on its way."""
    if all(slot.current is not None for slot in session_slots(session)):
        return 0
    if session.document_batches.filter(status__in=[BatchStatus.PENDING, BatchStatus.RUNNING]).exists():
        return 0
    batch_request(session=session, actor=staff)
    return 1
