"""Checks that guard a signature (a jury's sign-off, a rectification)."""

from django.core.exceptions import ValidationError

WRONG_PASSWORD_MESSAGE = "Mot de passe incorrect : la signature n'est pas enregistrée."


def check_signature_password(*, request, user, password) -> None:
    """A signature is confirmed with the signer's own password: raises a French message on the field otherwise.

    Called by the views before the service's transaction: hashing the password takes a tenth of a second on
    purpose, and nothing else must wait for it (on SQLite, the document worker)."""
    if not password or not user.check_password(password):
        raise ValidationError({"password": WRONG_PASSWORD_MESSAGE})
