from django.urls import path

from declarations import views

app_name = "declarations"

urlpatterns = [
    path("", views.index, name="index"),
    path("flux/<int:pk>/", views.detail, name="detail"),
    path("flux/<int:pk>/fichier.xml", views.download, name="download"),
    path("flux/<int:pk>/accuse/", views.receipt_upload, name="receipt"),
    path("<str:rncp_code>/", views.declare, name="declare"),
    path("<str:rncp_code>/identifiants/", views.settings_edit, name="settings"),
    path("<str:rncp_code>/historique/", views.history, name="history"),
]
