"""The home page (it reads every room: the referential, the trainer's grids, the president's sessions, the
documents, the declarations; config/home.py gathers each role's work), the health check, the public pages the footer
links to (accessibility, legal notice, personal data) and the favicon."""

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from certif import clock
from certif.models import Block
from certif.permissions import is_president, is_staff, is_trainer
from certif.selectors import certifications_with_registrations
from config import home as work
from declarations.deadlines import DutyCounts, counts_by_certification
from documents.models import CertifierIdentity
from evaluation.selectors import trainer_tasks
from juries.models import JurySessionStatus
from juries.selectors import prepared_sessions_work, sessions_presided_by


def _staff_work(today) -> list[dict]:
    """The staff's work per certification: the registration in force (or the last one), the grids still to
    complete, the cohorts and the jury sessions not yet signed, the holders to declare to the Caisse des Dépôts.
    Five queries, whatever the number of fiches and holders."""
    certifications = list(
        certifications_with_registrations().annotate(
            cohort_count=Count("cohorts", distinct=True),
            open_jury_count=Count(
                "jury_sessions", filter=~Q(jury_sessions__status=JurySessionStatus.SIGNED), distinct=True
            ),
        )
    )
    blocks: dict[int, list] = {}
    for block in Block.objects.with_current_grid().order_by("certification_id", "number"):
        blocks.setdefault(block.certification_id, []).append(block)
    duties = counts_by_certification(today)
    work = []
    for certification in certifications:
        registrations = list(certification.registrations.all())
        work.append(
            {
                "certification": certification,
                "registration_today": certification.registration_on(today),
                "last_registration": max(registrations, key=lambda r: r.in_force_until) if registrations else None,
                "incomplete_blocks": [
                    block for block in blocks.get(certification.pk, []) if not block.current_grid.is_complete
                ],
                "declaration_duty": duties.get(certification.pk, DutyCounts()),
            }
        )
    return work


def home(request):
    context: dict[str, Any] = {}
    today = clock.localdate()
    if is_staff(request.user):
        context["staff_work"] = _staff_work(today)
        context["staff_tasks"] = work.staff_tasks(context["staff_work"], today)
    if is_trainer(request.user):
        grids = trainer_tasks(request.user)
        context["trainer_grids"] = grids.open_grids
        context["trainer_tasks"] = work.trainer_task_cards(grids, today)
    if is_president(request.user):
        context["president_home"] = work.president_home(prepared_sessions_work(sessions_presided_by(request.user)))
    return render(request, "config/home.html", context)


@login_not_required
def healthcheck(request):
    return HttpResponse("ok", content_type="text/plain")


def _site_information() -> dict[str, str]:
    """What a deployment states about itself on the public pages (README, "Configuration"), empty when unset."""
    return {
        "hosting_provider": settings.HOSTING_PROVIDER,
        "contact_email": settings.CONTACT_EMAIL,
        "dpo_email": settings.DPO_EMAIL,
        "publication_director": CertifierIdentity.objects.filter(pk=1)
        .values_list("director_general_name", flat=True)
        .first()
        or settings.SIGNATORY_NAME,
    }


@login_not_required
def accessibility(request):
    return render(request, "config/accessibility.html", _site_information())


@login_not_required
def legal_notice(request):
    return render(request, "config/legal_notice.html", _site_information())


@login_not_required
def personal_data(request):
    return render(request, "config/personal_data.html", _site_information())


@login_not_required
def favicon(request):
    """Browsers and crawlers ask /favicon.ico whatever the pages link to: they are sent to the static file."""
    return redirect(static("favicon.ico"), permanent=True)
