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
    exclude = ["zip_file", "merged_pdf", "certificates_pdf"]
    readonly_fields = ["diagnostic"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("zip_file", "merged_pdf", "certificates_pdf")

    @admin.display(description="diagnostic (administrateur)")
    def diagnostic(self, batch):
        # The technical side of what the documents page tells staff in plain words.
        return (
            "Les lots sont produits par le service « manage.py db_worker » (django-tasks, file en base de données). "
            "Un lot « En attente » qui ne commence pas : ce service ne tourne pas (systemctl status, journal). "
            "Un lot « En cours » sans signe de vie depuis une minute est remis en file au démarrage suivant du "
            f"service. Tâche : {batch.task_id or '—'} ; processus : {batch.runner or '—'} ; "
            f"interruptions : {batch.interruptions}."
        )


class WithdrawnDocumentInline(ReadOnlyInline):
    model = WithdrawnDocument
    fields = readonly_fields = ["document"]


# The withdrawal act shows, after the blocks it withdrew, the documents it revoked (listed on this side).
WithdrawalAdmin.inlines = [*WithdrawalAdmin.inlines, WithdrawnDocumentInline]
