from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from certif import views_accounts
from config import views

admin.site.site_header = "MPES — administration"
admin.site.site_title = "MPES"
admin.site.index_title = "Administration de l'application"

urlpatterns = [
    path("", views.home, name="home"),
    path("sante/", views.healthcheck, name="healthcheck"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("mentions-legales/", views.legal_notice, name="legal_notice"),
    path("donnees-personnelles/", views.personal_data, name="personal_data"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("connexion/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/", views_accounts.PasswordChangeView.as_view(), name="password_change"),
    path("mot-de-passe/modifie/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("mot-de-passe/oublie/", views_accounts.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/oublie/envoye/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/choisir/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("mot-de-passe/choisi/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("referentiel/", include("certif.urls_referential")),
    path("candidats/", include("candidates.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("jurys/", include("juries.urls")),
    path("jurys/documents/", include("documents.urls")),
    path("v/", include("documents.urls_verification")),
    path("statistiques/", include("reporting.urls")),
    path("declarations-cdc/", include("declarations.urls")),
    path("travaux/", include("certif.urls_jobs")),
    # One page changes one's own password, throttled like the login: the admin's own page leads there.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change"), name="admin_password_change"),
    path("admin/", admin.site.urls),
]
