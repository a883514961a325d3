"""Checking a person's own password before an act they sign (sign-off, rectification, withdrawal)."""

from django.core.exceptions import ValidationError


def check_signature_password(*, request, user, password: str) -> None:
    """Raise `ValidationError({"password": …})` unless `password` is `user`'s own. Runs before any write transaction:
    hashing is slow and must not hold a lock."""
    if not password or not user.check_password(password):
        raise ValidationError({"password": "Mot de passe incorrect."})
