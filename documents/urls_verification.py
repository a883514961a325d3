"""The public verification page (no login): /v/ to type a code, /v/<code>/ from the QR code or the short URL."""

from django.urls import path

from documents import views

app_name = "verification"

urlpatterns = [
    path("", views.verify_form, name="form"),
    path("<str:code>/", views.verify, name="check"),
]
