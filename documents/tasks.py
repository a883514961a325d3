"""Background tasks (django.tasks, database backend: run by `manage.py db_worker`)."""

from django.tasks import task


@task()
def generate_session_documents(batch_id: int) -> dict:
    """Every document of a signed session, rendered on every core, then the ZIP and the merged PDF for printing."""
    from documents.services import batch_run

    return batch_run(batch_id=batch_id)
