from django.urls import path

from certif import views, views_correspondences, views_import

app_name = "certif"

urlpatterns = [
    path("", views.certification_list, name="certification_list"),
    # Before the fiche's pattern, which would read « import » as an RNCP code.
    path("import/", views_import.fiche_import_upload, name="fiche_import_upload"),
    path("import/apercu/", views_import.fiche_import_preview_page, name="fiche_import_preview"),
    path("<str:rncp_code>/", views.fiche, name="fiche"),
    path("<str:rncp_code>/blocs/<int:number>/", views.block_edit, name="block_edit"),
    path("<str:rncp_code>/blocs/<int:number>/competences/", views.competence_add, name="competence_add"),
    path(
        "<str:rncp_code>/blocs/<int:number>/competences/<int:position>/",
        views.competence_rename,
        name="competence_rename",
    ),
    path(
        "<str:rncp_code>/blocs/<int:number>/competences/<int:position>/deplacer/",
        views.competence_move,
        name="competence_move",
    ),
    path(
        "<str:rncp_code>/blocs/<int:number>/competences/<int:position>/retirer/",
        views.competence_remove,
        name="competence_remove",
    ),
    path("<str:rncp_code>/blocs/<int:number>/seuil/", views.threshold_update, name="threshold_update"),
    path("<str:rncp_code>/enregistrements/ajouter/", views.registration_add, name="registration_add"),
    path("<str:rncp_code>/echelle/", views.scale_edit, name="scale_edit"),
    path(
        "<str:rncp_code>/correspondances/",
        views_correspondences.correspondences_edit,
        name="correspondences",
    ),
]
