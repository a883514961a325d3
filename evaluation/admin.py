"""Read-only views of evaluations: every change goes through the grid pages and evaluation.services (audited)."""

from django.contrib import admin

from evaluation.models import BlockEvaluation, EvaluationSession, LevelEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EvaluationSession)
class EvaluationSessionAdmin(ReadOnlyAdmin):
    list_display = ["cohort", "starts_on", "ends_on", "opened_by", "opened_at"]
    list_select_related = ["cohort", "opened_by"]


@admin.register(BlockEvaluation)
class BlockEvaluationAdmin(ReadOnlyAdmin):
    list_display = ["session", "block", "grid", "scale", "status", "submitted_at", "locked_at"]
    list_filter = ["status"]
    list_select_related = ["session__cohort", "block", "grid__block", "scale"]


@admin.register(LevelEntry)
class LevelEntryAdmin(ReadOnlyAdmin):
    list_display = ["block_evaluation", "enrolment", "competence", "level", "version", "updated_at", "updated_by"]
    list_select_related = [
        "block_evaluation__session__cohort",
        "block_evaluation__block",
        "enrolment__candidate",
        "enrolment__cohort",
        "competence",
        "updated_by",
    ]
