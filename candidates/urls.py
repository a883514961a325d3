from django.urls import include, path

from candidates import views, views_transfers

app_name = "candidates"

urlpatterns = [
    path("", views.candidate_list, name="list"),
    path("nouveau/", views.candidate_create, name="create"),
    path("<int:pk>/", views.candidate_detail, name="detail"),
    path("<int:pk>/modifier/", views.candidate_edit, name="edit"),
    path("<int:pk>/donnees.json", views.candidate_personal_data, name="personal_data"),
    path("<int:pk>/inscrire/", views.enrolment_create, name="enrol"),
    path("inscriptions/<int:pk>/", views.enrolment_edit, name="enrolment_edit"),
    path("inscriptions/<int:pk>/recevabilite/", views.admissibility_decide, name="admissibility"),
    path("<int:pk>/blocs-acquis/", views.acquired_block_add, name="acquired_block_add"),
    path("<int:pk>/retrait/", views.withdrawal_create, name="withdrawal_create"),
    path("promotions/", views.cohort_list, name="cohort_list"),
    path("promotions/nouvelle/", views.cohort_create, name="cohort_create"),
    path("promotions/<int:pk>/", views.cohort_edit, name="cohort_edit"),
    path("promotions/<int:pk>/transferer/", views_transfers.cohort_transfer, name="cohort_transfer"),
    path("lieux-de-naissance/communes/", views.birth_commune_search, name="birth_commune_search"),
    path("lieux-de-naissance/a-verifier/", views.birth_places_to_check, name="places_to_check"),
    path("lieux-de-naissance/pays/", views.birth_country_search, name="birth_country_search"),
    path("lieux/nouveau/", views.preparation_place_create, name="place_create"),
    path("", include("candidates.urls_import")),
]
