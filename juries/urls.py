from django.urls import path

from juries import views

app_name = "juries"

urlpatterns = [
    path("", views.session_list, name="list"),
    path("nouvelle/", views.session_create, name="create"),
    path("<int:pk>/", views.session_detail, name="detail"),
    path("<int:pk>/modifier/", views.session_edit, name="edit"),
    path("<int:pk>/membres/ajouter/", views.member_edit, name="member_add"),
    path("<int:pk>/membres/<int:member_pk>/", views.member_edit, name="member_edit"),
    path("<int:pk>/membres/<int:member_pk>/retirer/", views.member_remove, name="member_remove"),
    path("<int:pk>/membres/<int:member_pk>/retablir/", views.member_restore, name="member_restore"),
    path("<int:pk>/candidats/", views.presentations, name="presentations"),
    path("<int:pk>/candidats/<int:presentation_pk>/retirer/", views.presentation_remove, name="presentation_remove"),
    path("<int:pk>/candidats/<int:presentation_pk>/retablir/", views.presentation_restore, name="presentation_restore"),
    path("<int:pk>/liens/", views.recusal_add, name="recusal_add"),
    path("<int:pk>/deliberation/", views.deliberation, name="deliberation"),
    path("<int:pk>/signature/", views.sign_off, name="sign_off"),
    path("<int:pk>/decisions/<int:decision_pk>/rectifier/", views.rectify, name="rectify"),
]
