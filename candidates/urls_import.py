"""Import and export of candidates; included in the "candidates" namespace (prefix "candidats/")."""

from django.urls import path

from candidates import views_import

urlpatterns = [
    path("import/", views_import.import_upload, name="import_upload"),
    path("import/confirmer/", views_import.import_confirm, name="import_confirm"),
    path("export.csv", views_import.export_csv, name="export_csv"),
    path("export.xlsx", views_import.export_xlsx, name="export_xlsx"),
]
