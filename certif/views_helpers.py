"""What every page of the applications does the same way: refuse by a rule, show a form page."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render

from certif.permissions import may
from certif.validation import refusal_text


def require(user, permission: str, obj=None) -> None:
    """403 unless `user` satisfies the rule `permission` of certif.permissions (on `obj`, when given)."""
    if not may(user, permission, obj):
        raise PermissionDenied(permission)


def rule_required(permission: str):
    """The view answers 403 unless the user satisfies the rule `permission` (a rule without object)."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            require(request.user, permission)
            return view(request, *args, **kwargs)

        return checked

    return decorator


def form_page(
    request, *, title, form, breadcrumb=(), intro="", submit="Enregistrer", cancel_url=None, status=None, confirm=None
):
    """The generic page of one form; a form shown again after a POST was refused answers 400. `confirm`: the
    question (title, body, action) static/js/confirm.js asks before an action that cannot be undone."""
    if status is None:
        status = 400 if request.method == "POST" else 200
    return render(
        request,
        "form_page.html",
        {
            "title": title,
            "form": form,
            "breadcrumb": breadcrumb,
            "intro": intro,
            "submit": submit,
            "cancel_url": cancel_url,
            "confirm": confirm,
        },
        status=status,
    )


def apply_service_message(request, call):
    """Run `call`; its refusal becomes an error message above the next page. Returns as `apply_service`."""
    try:
        return True, call()
    except ValidationError as error:
        messages.error(request, refusal_text(error))
        return False, None


def is_confirmed(request) -> bool:
    """The form said yes to its confirmation: the dialog of static/js/confirm.js, or the page below."""
    return request.POST.get("confirmed") == "1"


def confirmation_page(request, *, title, body, action, cancel_url, breadcrumb=()):
    """Asked again before an action that cannot be undone, when the browser sent it without the dialog (no
    JavaScript): the same question, the same consequence, the same two answers."""
    return render(
        request,
        "confirm_page.html",
        {
            "title": title,
            "body": body,
            "action": action,
            "cancel_url": cancel_url,
            "breadcrumb": breadcrumb,
            "fields": [(name, value) for name, value in request.POST.items() if name not in ("csrfmiddlewaretoken",)],
        },
    )
