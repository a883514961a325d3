"""The application as gunicorn serves it, plus one trivial page: the yardstick of `scripts/benchmark.py`.

`/__benchmark__/vide/` answers a few bytes through the same middleware, the same workers and the same settings as
every page of the application: what a request costs before any of the application's own work. It exists only in
this module, which only the benchmark serves (`gunicorn benchmark_wsgi:application`): never a product address.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.decorators import login_not_required  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402

import config.urls  # noqa: E402

BARE_PATH = "/__benchmark__/vide/"
# The page frame alone (base template, menus, banner, footer), with nothing in it: for a logged-in person (session,
# user, roles: what every staff page pays before its own work) and for anyone (what every public page pays).
FRAME_PATH = "/__benchmark__/cadre/"
PUBLIC_FRAME_PATH = "/__benchmark__/cadre-public/"


@login_not_required  # as public as /v/: the yardstick answers itself, not the login redirect
def bare(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def frame(request):
    return render(request, "base.html")


@login_not_required
def public_frame(request):
    return render(request, "base.html")


config.urls.urlpatterns[:0] = [
    path(BARE_PATH.strip("/") + "/", bare),
    path(FRAME_PATH.strip("/") + "/", frame),
    path(PUBLIC_FRAME_PATH.strip("/") + "/", public_frame),
]
application = get_wsgi_application()
