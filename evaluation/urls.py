from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.session_list, name="session_list"),
    path("ouvrir/", views.session_open, name="session_open"),
    path("<int:session_pk>/<int:number>/", views.grid, name="grid"),
    path("<int:session_pk>/<int:number>/rouvrir/", views.grid_reopen, name="reopen"),
    path(
        "<int:session_pk>/<int:number>/historique/<int:enrolment_pk>/<int:competence_pk>/",
        views.cell_history,
        name="cell_history",
    ),
]
