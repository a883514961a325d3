"""`manage.py check --deploy`: what a production configuration must not forget."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

# Mail backends that deliver nothing to anyone.
UNDELIVERED_MAIL = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


@register(Tags.security, deploy=True)
def mail_delivery_check(app_configs, **kwargs):
    backend = settings.MAILERS.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or backend not in UNDELIVERED_MAIL:
        return []
    return [
        Warning(
            "Aucun serveur de courrier n'est configuré : les liens pour choisir son mot de passe (nouveau compte, "
            "mot de passe oublié) ne partiront pas.",
            hint="Définissez EMAIL_HOST (et EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, DEFAULT_FROM_EMAIL).",
            id="mpes.W002",
        )
    ]
