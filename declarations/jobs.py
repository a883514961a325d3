"""A large holder declaration as a background job (certif.jobs): the request only queues it, the worker builds,
validates and records the flux, and the job's page offers the file and the declaration."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from certif.jobs import JobFile, JobRefused, Progress, register
from certif.models import BackgroundJob, Certification, JobKind
from declarations import services as declarations
from declarations.models import HolderDeclaration

XML_CONTENT_TYPE = "application/xml"


def declared_in_background(holders: int) -> bool:
    """Above BACKGROUND_DECLARATION_ABOVE holders ticked, the flux is built by the worker, not in the request."""
    return holders > settings.BACKGROUND_DECLARATION_ABOVE


def declaration_parameters(*, certification: Certification, award_ids, resend_ids) -> dict:
    return {
        "certification": certification.pk,
        "awards": sorted(int(pk) for pk in award_ids),
        "resend": sorted(int(pk) for pk in resend_ids),
    }


def _file(declaration: HolderDeclaration) -> JobFile:
    return JobFile(
        name=f"{declaration.flux_id}.xml",
        content_type=XML_CONTENT_TYPE,
        content=bytes(declaration.xml),
        result_url=reverse("declarations:detail", args=[declaration.pk]),
        result_label="Voir la déclaration",
    )


def holder_declaration_work(job: BackgroundJob, progress: Progress) -> JobFile:
    parameters = job.parameters
    total = len(parameters["awards"]) + len(parameters["resend"])
    # Run again after its worker died once the flux was recorded: the same flux, never a second declaration.
    already = HolderDeclaration.objects.filter(background_job=job).first()
    if already is not None:
        return _file(already)
    progress(0, total)
    certification = Certification.objects.get(pk=parameters["certification"])
    try:
        declaration = declarations.holder_declaration_create(
            certification=certification,
            award_ids=parameters["awards"],
            resend_ids=parameters["resend"],
            actor=job.requested_by,
            background_job=job,
        )
    except declarations.FluxInvalid as error:
        raise JobRefused(
            "Le flux construit n'est pas conforme au schéma de la Caisse des Dépôts ; rien n'a été enregistré : "
            + " ; ".join(error.errors[:20])
        ) from None
    except ValidationError as error:
        raise JobRefused("Déclaration refusée, rien n'a été enregistré : " + " ".join(error.messages)) from None
    progress(total, total)
    return _file(declaration)


def register_jobs() -> None:
    register(JobKind.HOLDER_DECLARATION, holder_declaration_work)
