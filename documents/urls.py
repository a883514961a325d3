from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("sessions/<int:pk>/", views.session_documents, name="session"),
    path("sessions/<int:pk>/emettre/", views.issue, name="issue"),
    path("sessions/<int:pk>/lot/", views.batch_start, name="batch_start"),
    path("lots/<int:pk>/etat/", views.batch_status, name="batch_status"),
    path("lots/<int:pk>/documents.zip", views.batch_download, {"fmt": "zip"}, name="batch_zip"),
    path("lots/<int:pk>/a-imprimer.pdf", views.batch_download, {"fmt": "pdf"}, name="batch_pdf"),
    path("lots/<int:pk>/certificats.pdf", views.batch_download, {"fmt": "certificates"}, name="batch_certificates"),
    path("identite/", views.identity_edit, name="identity"),
    path("<int:pk>/telecharger/", views.download, name="download"),
    path("<int:pk>/revoquer/", views.revoke, name="revoke"),
]
