"""The home page (it reads every room: the referential, the trainer's grids, the president's sessions) and the
health check."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from certif import clock
from certif.models import Block
from certif.permissions import is_president, is_staff, is_trainer
from certif.selectors import certifications_with_registrations
from declarations.deadlines import DutyCounts, counts_by_certification
from evaluation.models import BlockEvaluation
from juries.models import JurySessionStatus
from juries.selectors import president_pending_sessions


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
    duties = counts_by_certification(clock.localdate())
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
    if is_staff(request.user):
        context["staff_work"] = _staff_work(timezone.localdate())
    if is_trainer(request.user):
        context["trainer_grids"] = (
            BlockEvaluation.objects.filter(session__evaluators=request.user)
            .with_progress()
            .select_related("block__certification", "session__cohort")
            .order_by("-session__starts_on", "session_id", "block__number")
        )
    if is_president(request.user):
        context["president_sessions"] = president_pending_sessions(request.user).select_related("certification")
    return render(request, "config/home.html", context)


@login_not_required
def healthcheck(request):
    return HttpResponse("ok", content_type="text/plain")
