"""The application's addresses plus one that crashes, to show the 500 page as a user would meet it."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from config.urls import urlpatterns as application_urlpatterns


@login_not_required
def crash(request):
    raise RuntimeError("panne simulée")


urlpatterns = [*application_urlpatterns, path("panne/", crash)]
