"""Jury sessions in the admin are read-only: every change goes through the jury pages and juries.services (validated,
audited); a signed session is final everywhere. The composition rule is the fiche's: read-only too."""

from django.contrib import admin

from certif.admin_doors import ReadOnlyInline, ReadOnlyModelAdmin
from juries.models import (
    CertificateSequence,
    Decision,
    DocumentBatch,
    IssuedDocument,
    JuryCompositionRule,
    JuryMember,
    JurySession,
    Presentation,
    Rectification,
    Recusal,
)


@admin.register(JuryCompositionRule)
class JuryCompositionRuleAdmin(ReadOnlyModelAdmin):
    """The fiche's rule, installed with it (`load_fiche`); the sessions composed under it rest on it."""

    list_display = ["certification", "professionals_percent", "trainers_percent"]


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


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnlyModelAdmin):
    """Issued documents, read-only (the PDF itself is downloaded from the session's documents page)."""

    list_display = ["kind", "holder_name", "reference", "document_date", "status", "created_at", "created_by"]
    list_filter = ["kind", "status"]
    search_fields = ["holder_name", "reference", "verification_code"]
    list_select_related = ["created_by"]
    exclude = ["pdf"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf")


@admin.register(DocumentBatch)
class DocumentBatchAdmin(ReadOnlyModelAdmin):
    list_display = ["session", "status", "done", "total", "requested_by", "requested_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["session", "requested_by"]
    exclude = ["zip_file", "merged_pdf"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("zip_file", "merged_pdf")
