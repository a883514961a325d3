"""A background job's page (progress, refreshed while it runs) and its file: for the person who asked only."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from certif.jobs import JOB_BYTES, job_is_stalled
from certif.models import BackgroundJob, JobStatus
from certif.worker import STALE_AFTER

SERVICE_STOPPED = (
    "le service des travaux en arrière-plan ne semble pas en marche ; prévenez l'administrateur de l'application"
)


def _job(request, pk) -> BackgroundJob:
    """The user's own job; anyone else's is « not found » (its title names a certification and its filters)."""
    return get_object_or_404(BackgroundJob.objects.filter(requested_by=request.user).defer(*JOB_BYTES), pk=pk)


def _message(job: BackgroundJob) -> str:
    if job.status == JobStatus.DONE:
        return "Le fichier est prêt."
    if job.status == JobStatus.FAILED:
        return job.error or "Le travail a échoué."
    if job.status == JobStatus.RUNNING and job_is_stalled(job):
        return "Travail interrompu : il reprendra de lui-même dans une minute."
    if job.status == JobStatus.RUNNING:
        return f"En cours : {job.done} sur {job.total} ({job.percent} %)."
    if job.requested_at < timezone.now() - STALE_AFTER:
        return f"Le travail n'a pas commencé : {SERVICE_STOPPED}."
    return "Le travail va commencer."


def _state(job: BackgroundJob) -> dict:
    data = {
        "status": job.status,
        "status_label": job.get_status_display(),
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "finished": job.is_finished,
        "message": _message(job),
    }
    if job.status == JobStatus.DONE:
        data["download_url"] = reverse("jobs:download", args=[job.pk])
        if job.result_url:
            data["result_url"], data["result_label"] = job.result_url, job.result_label
    return data


@require_safe
def job_detail(request, pk):
    job = _job(request, pk)
    return render(request, "certif/job.html", {"job": job, "state": _state(job)})


@require_safe
def job_status(request, pk):
    response = JsonResponse(_state(_job(request, pk)))
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def job_download(request, pk):
    job = _job(request, pk)
    if job.status != JobStatus.DONE:
        messages.error(request, "Le fichier n'est pas encore prêt.")
        return redirect("jobs:detail", pk=job.pk)
    content = BackgroundJob.objects.values_list("file", flat=True).get(pk=job.pk) or b""
    response = HttpResponse(bytes(content), content_type=job.content_type)
    response["Content-Disposition"] = f'attachment; filename="{job.file_name}"'
    response["Cache-Control"] = "private, no-store"  # an export names people: no copy in a shared cache
    return response
