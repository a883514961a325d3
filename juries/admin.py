"""Jury sessions in the admin are read-only: every change goes through the jury pages and juries.services (validated,
audited); a signed session is final everywhere. The composition rule is the fiche's: read-only too."""

from django.contrib import admin

from certif.models import JuryCompositionRule
from juries.models import CertificateSequence, Decision, JuryMember, JurySession, Presentation, Rectification, Recusal


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JuryCompositionRule)
class JuryCompositionRuleAdmin(ReadOnlyAdmin):
    """The fiche's rule, installed with it (`load_fiche`); the sessions composed under it rest on it."""

    list_display = ["certification", "professionals_percent", "trainers_percent"]


class MemberInline(admin.TabularInline):
    model = JuryMember
    extra = 0
    fields = ["name", "organisation", "category", "is_president", "is_substitute", "user"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JurySession)
class JurySessionAdmin(ReadOnlyAdmin):
    list_display = ["date", "place", "certification", "status", "signed_at", "signed_by"]
    list_filter = ["status"]
    list_select_related = ["certification", "signed_by"]
    inlines = [MemberInline]


@admin.register(Presentation)
class PresentationAdmin(ReadOnlyAdmin):
    list_display = ["session", "enrolment", "presented_at"]
    list_select_related = ["session", "enrolment__candidate", "enrolment__cohort"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["presentation", "block", "proposal_outcome", "outcome", "is_open", "decided_by", "decided_at"]
    list_filter = ["outcome", "is_open"]
    list_select_related = [
        "presentation__session",
        "presentation__enrolment__candidate",
        "presentation__enrolment__cohort",
        "block",
        "decided_by",
    ]


@admin.register(Recusal)
class RecusalAdmin(ReadOnlyAdmin):
    list_display = ["member", "presentation", "source", "reason"]
    list_select_related = ["member", "presentation__session", "presentation__enrolment__candidate"]


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ["decision", "outcome", "signed_by", "signed_at"]
    list_select_related = ["decision__block", "decision__presentation__enrolment__candidate", "signed_by"]


@admin.register(CertificateSequence)
class CertificateSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last_number"]
