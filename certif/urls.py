from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from certif import views

admin.site.site_header = "MPES — administration"
admin.site.site_title = "MPES"
admin.site.index_title = "Administration de l'application"

urlpatterns = [
    path("", views.home, name="home"),
    path("sante/", views.healthcheck, name="healthcheck"),
    path("connexion/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "mot-de-passe/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("mot-de-passe/modifie/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("referentiel/", include("certif.urls_referential")),
    path("candidats/", include("candidates.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("jurys/", include("juries.urls")),
    path("jurys/documents/", include("juries.urls_documents")),
    path("v/", include("juries.urls_verification")),
    path("statistiques/", include("juries.urls_statistics")),
    path("declarations-cdc/", include("certif.urls_declarations")),
    path("admin/", admin.site.urls),
]
