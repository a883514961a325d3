"""Read-only views of evaluations: every change goes through the grid pages and evaluation.services (audited)."""

from django.contrib import admin

from certif.admin_doors import ReadOnlyModelAdmin
from evaluation.models import BlockEvaluation, EvaluationSession, LevelEntry


@admin.register(EvaluationSession)
class EvaluationSessionAdmin(ReadOnlyModelAdmin):
    list_display = ["cohort", "starts_on", "ends_on", "opened_by", "opened_at"]
    list_select_related = ["cohort", "opened_by"]


@admin.register(BlockEvaluation)
class BlockEvaluationAdmin(ReadOnlyModelAdmin):
    list_display = ["session", "block", "grid", "scale", "status", "submitted_at", "locked_at"]
    list_filter = ["status"]
    list_select_related = ["session__cohort", "block", "grid__block", "scale"]


@admin.register(LevelEntry)
class LevelEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["block_evaluation", "enrolment", "competence", "level", "version", "updated_at", "updated_by"]
    list_select_related = [
        "block_evaluation__session__cohort",
        "block_evaluation__block",
        "enrolment__candidate",
        "enrolment__cohort",
        "competence",
        "updated_by",
    ]
