from django.urls import path

from reporting import views

app_name = "statistics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("statistiques.csv", views.statistics_csv, name="statistics_csv"),
    path("statistiques.xlsx", views.statistics_xlsx, name="statistics_xlsx"),
    path("resultats.csv", views.results_csv, name="results_csv"),
    path("resultats.xlsx", views.results_xlsx, name="results_xlsx"),
]
