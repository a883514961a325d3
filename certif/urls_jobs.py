from django.urls import path

from certif import views_jobs

app_name = "jobs"

urlpatterns = [
    path("<int:pk>/", views_jobs.job_detail, name="detail"),
    path("<int:pk>/etat/", views_jobs.job_status, name="status"),
    path("<int:pk>/fichier/", views_jobs.job_download, name="download"),
]
