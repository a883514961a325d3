"""Documents in the admin are read-only: they are issued and revoked from the session's documents page
(documents.services, audited)."""

from django.contrib import admin

from candidates.admin import WithdrawalAdmin
from certif.admin_doors import ReadOnlyInline, ReadOnlyModelAdmin
from documents.models import DocumentBatch, IssuedDocument, WithdrawnDocument


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


class WithdrawnDocumentInline(ReadOnlyInline):
    model = WithdrawnDocument
    fields = readonly_fields = ["document"]


# The withdrawal act shows, after the blocks it withdrew, the documents it revoked (listed on this side).
WithdrawalAdmin.inlines = [*WithdrawalAdmin.inlines, WithdrawnDocumentInline]
