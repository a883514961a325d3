"""The home page (it reads every room: the referential, the trainer's grids, the president's sessions) and the
health check."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from certif.models import Block
from certif.permissions import is_president, is_staff, is_trainer
from certif.selectors import current_certification
from evaluation.models import BlockEvaluation
from juries.selectors import president_pending_sessions


def home(request):
    certification = current_certification()
    context: dict[str, Any] = {"certification": certification}
    if certification and is_staff(request.user):
        blocks = Block.objects.filter(certification=certification).with_current_grid()
        context["incomplete_blocks"] = [block for block in blocks if not block.current_grid.is_complete]
        context["registration_today"] = certification.registration_on(timezone.localdate())
        context["last_registration"] = certification.registrations.order_by("-in_force_until").first()
    if is_trainer(request.user):
        context["trainer_grids"] = (
            BlockEvaluation.objects.filter(session__evaluators=request.user)
            .with_progress()
            .select_related("block", "session__cohort")
            .order_by("-session__starts_on", "session_id", "block__number")
        )
    if is_president(request.user):
        context["president_sessions"] = president_pending_sessions(request.user)
    return render(request, "config/home.html", context)


@login_not_required
def healthcheck(request):
    return HttpResponse("ok", content_type="text/plain")
