"""The results export as a background job (certif.jobs), when it is too large for a request."""

from django.utils import timezone

from certif.jobs import JobFile, Progress, register
from certif.models import AccessPathway, BackgroundJob, Certification, JobKind
from reporting import statistics

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_parameters(certification: Certification, filters: statistics.Filters) -> dict:
    return {
        "certification": certification.pk,
        "year": filters.year,
        "pathway": filters.pathway.pk if filters.pathway else None,
    }


def export_file_name(name: str, certification: Certification, filters: statistics.Filters, extension: str) -> str:
    slug = filters.slug()
    return f"{name}-{certification.rncp_label}-{timezone.localdate():%Y-%m-%d}{'-' + slug if slug else ''}.{extension}"


def results_xlsx_work(job: BackgroundJob, progress: Progress) -> JobFile:
    parameters = job.parameters
    certification = Certification.objects.only("pk", "rncp_code").get(pk=parameters["certification"])
    pathway = AccessPathway.objects.get(pk=parameters["pathway"]) if parameters.get("pathway") else None
    filters = statistics.Filters(year=parameters.get("year"), pathway=pathway)
    total = statistics.result_decisions(certification, filters).count()
    progress(0, total)
    content = statistics.results_xlsx(
        statistics.result_rows(certification, filters), progress=lambda done: progress(min(done, total), total)
    )
    return JobFile(
        name=export_file_name("resultats", certification, filters, "xlsx"),
        content_type=XLSX_CONTENT_TYPE,
        content=content,
    )


def register_jobs() -> None:
    register(JobKind.RESULTS_XLSX, results_xlsx_work)
