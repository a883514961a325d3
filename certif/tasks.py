"""Background tasks of certif (django.tasks, database backend: run by `manage.py db_worker`)."""

from django.tasks import task


@task()
def run_background_job(job_id: int) -> dict:
    """A background job (certif.jobs): an export too large for a request, built with progress."""
    from certif.jobs import job_run

    return job_run(job_id=job_id)
