"""Locked doors: passwords are checked through one throttle, whatever asks for them.

django-axes counts failed passwords per account and per client address (see AXES_* in settings). The login, the
admin's login, the password change and the password that confirms a signature all go through Django's
`authenticate`, so they share those counters: guessing a president's password on the sign-off page costs the same
tries as on the login page. A lockout leaves an audit event; every failure stays in axes' failure log.
"""

import ipaddress
import logging

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Max, Sum
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone
from django.utils.csp import CSP

from certif.audit import AuditAction, record_audit
from certif.ratelimit import client_address

logger = logging.getLogger(__name__)

WRONG_SIGNATURE_PASSWORD = "Mot de passe incorrect : rien n'a été signé."

# A PDF shown in the browser is drawn by the browser's own viewer, which the pages' policy would break (it embeds the
# file and styles its frame inline). The file runs none of our scripts: only framing stays forbidden.
PDF_CONTENT_SECURITY_POLICY = {"frame-ancestors": [CSP.NONE]}


class PasswordThrottled(Exception):
    """Too many wrong passwords for this account or from this address: refused, even if right, until `until`."""

    def __init__(self, until):
        super().__init__(until)
        self.until = until


def client_ip(request) -> str | None:
    """The client's address as axes records it: the one the rate limits use (CLIENT_IP_HEADER), if it is one."""
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def lockout_until(request, credentials=None):
    """When the lockout that applies to this request ends (the last counted failure plus the cool-off)."""
    AxesProxyHandler.update_request(request)
    cool_off = get_cool_off(request)
    threshold = timezone.now() - cool_off
    limit = get_failure_limit(request, credentials)
    username = get_client_username(request, credentials)
    ends = []
    for lookup in ({"username": username}, {"ip_address": request.axes_ip_address}):
        if next(iter(lookup.values())) is None:
            continue
        totals = AccessAttempt.objects.filter(attempt_time__gte=threshold, **lookup).aggregate(
            failures=Sum("failures_since_start"), last=Max("attempt_time")
        )
        if (totals["failures"] or 0) >= limit:
            ends.append(totals["last"] + cool_off)
    return max(ends) if ends else timezone.now() + cool_off


def lockout_message(until) -> str:
    return (
        "Trop d'essais de mot de passe : par sécurité, ce compte ou cette adresse est bloqué jusqu'à "
        f"{timezone.localtime(until):%H:%M} (essayez de nouveau ensuite ; en cas d'oubli, demandez un lien pour "
        "choisir un nouveau mot de passe)."
    )


def check_password_throttled(*, request, user, password: str) -> bool:
    """Is `password` the password of `user`? Counted like a login; raises PasswordThrottled once locked.

    Slow on purpose (password hashing, a few queries): never call it inside a write transaction.
    """
    credentials = {"username": user.get_username()}
    authenticated = authenticate(request, username=user.get_username(), password=password or "")
    if getattr(request, "axes_locked_out", False):
        # The caller answers with a message next to the field, not with axes' lockout page.
        request.axes_locked_out = False
        raise PasswordThrottled(lockout_until(request, credentials))
    return authenticated is not None and authenticated.pk == user.pk


def check_signature_password(*, request, user, password) -> None:
    """The password that confirms a sign-off or a rectification: a French message under the field if refused.

    Runs before the signature's write transaction (hashing is slow); the service then checks, inside it, that
    `user` presides the session.
    """
    if not password:
        raise ValidationError({"password": "Saisissez votre mot de passe : rien n'a été signé."})
    try:
        correct = check_password_throttled(request=request, user=user, password=password)
    except PasswordThrottled as throttled:
        raise ValidationError({"password": lockout_message(throttled.until) + " Rien n'a été signé."}) from None
    if not correct:
        raise ValidationError({"password": WRONG_SIGNATURE_PASSWORD})


def lockout_response(request, response=None, credentials=None):
    """axes' answer to a locked login (the application's and the admin's): a French page, status 429."""
    until = lockout_until(request, credentials)
    return render(
        request,
        "registration/lockout.html",
        {"message": lockout_message(until), "until": until},
        status=429,
    )


@receiver(user_locked_out, dispatch_uid="mpes_audit_lockout")
def audit_lockout(sender, request, username, ip_address, **kwargs):
    """The moment an account or an address gets locked leaves an audit event (tries refused while locked do not)."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:  # a try refused during an existing lockout: only logged
        logger.warning("Essai refusé pendant un blocage : compte %r, adresse %s.", username, ip_address)
        return
    account = get_user_model().objects.filter(username=username).first() if username else None
    target = account or AccessAttempt.objects.filter(ip_address=ip_address).order_by("-attempt_time").first()
    if target is None:
        return
    record_audit(
        actor=None,
        action=AuditAction.SECURITY_LOCKED_OUT,
        target=target,
        after={
            "username": username or "",
            "ip_address": ip_address or "",
            "path": request.path,
            "failures": failures,
            "until": timezone.localtime(lockout_until(request, {"username": username})).isoformat(),
            "limit": settings.AXES_FAILURE_LIMIT,
        },
    )
