from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents"

    def ready(self):
        from candidates.signals import results_withdrawn
        from documents.receivers import mark_rectified_documents, revoke_withdrawn_documents
        from juries.signals import decision_rectified

        decision_rectified.connect(mark_rectified_documents, dispatch_uid="documents_mark_rectified")
        results_withdrawn.connect(revoke_withdrawn_documents, dispatch_uid="documents_revoke_withdrawn")
