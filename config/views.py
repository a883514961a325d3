"""The home page (it reads every room: the referential, the trainer's grids, the president's sessions, the
documents, the declarations; config/home.py gathers each role's work) and the health check."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render

from certif import clock
from certif.models import Block
from certif.permissions import is_president, is_staff, is_trainer
from certif.selectors import certifications_with_registrations
from config import home as work
from declarations.deadlines import DutyCounts, counts_by_certification
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
