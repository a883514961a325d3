"""Jury sessions in the admin are read-only: every change goes through the jury pages and juries.services (validated,
audited); a signed session is final everywhere. The composition rule is the fiche's: read-only too."""

from django.contrib import admin

from certif.admin_doors import ReadOnlyInline, ReadOnlyModelAdmin
from juries.models import (
    CertificateSequence,
    Decision,
    DecisionAcquiredBlock,
    JuryMember,
    JurySession,
    Presentation,
    Rectification,
    Recusal,
    SessionAward,
)


class MemberInline(ReadOnlyInline):
    model = JuryMember
    fields = ["name", "organisation", "category", "is_president", "is_substitute", "user"]


@admin.register(JurySession)
class JurySessionAdmin(ReadOnlyModelAdmin):
    list_display = ["date", "place", "certification", "status", "signed_at", "signed_by"]
    list_filter = ["status"]
    list_select_related = ["certification", "signed_by"]
    inlines = [MemberInline]


@admin.register(Presentation)
class PresentationAdmin(ReadOnlyModelAdmin):
    list_display = ["session", "enrolment", "presented_at"]
    list_select_related = ["session", "enrolment__candidate", "enrolment__cohort"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyModelAdmin):
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
class RecusalAdmin(ReadOnlyModelAdmin):
    list_display = ["member", "presentation", "source", "reason"]
    list_select_related = ["member", "presentation__session", "presentation__enrolment__candidate"]


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyModelAdmin):
    list_display = ["decision", "outcome", "signed_by", "signed_at"]
    list_select_related = ["decision__block", "decision__presentation__enrolment__candidate", "signed_by"]


@admin.register(CertificateSequence)
class CertificateSequenceAdmin(ReadOnlyModelAdmin):
    list_display = ["year", "last_number"]


@admin.register(DecisionAcquiredBlock)
class DecisionAcquiredBlockAdmin(ReadOnlyModelAdmin):
    """Written once at the sign-off (or a rectification), with the acquired block it explains."""

    list_display = ["acquired_block", "decision"]
    list_select_related = ["acquired_block__candidate", "acquired_block__block", "decision__presentation__session"]


@admin.register(SessionAward)
class SessionAwardAdmin(ReadOnlyModelAdmin):
    """Written once at the sign-off (or a rectification), with the award it explains."""

    list_display = ["award", "session"]
    list_select_related = ["award__candidate", "session"]
