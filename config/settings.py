"""Settings of the MPES certification office.

Everything that differs between a laptop and production comes from the environment
(see README, "Configuration"); the defaults are for local development on SQLite.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# With DEBUG on, errors are answered by the application's French pages rather than Django's technical ones
# (config.middleware.ApplicationErrorPagesMiddleware): `make run` sets it, so that the demo is seen as its users see it.
APPLICATION_ERROR_PAGES = env_bool("APPLICATION_ERROR_PAGES", False)

_DEV_SECRET_KEY = "dev-only-secret-key-never-use-in-production-mpes-16204"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY doit être défini quand DEBUG est désactivé.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "pgtrigger",
    "axes",
    "rules",  # object-aware permissions (certif.permissions) and their {% has_perm %} template tag
    "certif",
    "candidates",
    "evaluation",
    "juries",
    "documents",
    "reporting",
    "declarations",
    # After documents: documents' `db_worker` command (which resumes interrupted document batches) replaces the
    # library's.
    "django_tasks_db",
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise, so that static files carry the policies too.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files stay cacheable, everything the application computes is not.
    "config.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.ApplicationErrorPagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lockout decided during authentication into the French lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "config.context_processors.navigation",
                "config.context_processors.example_fiches",
                "config.context_processors.current_section",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# SQLite is the embedded default for a first run; production and CI set DATABASE_URL (PostgreSQL).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the document worker write to one file at once (`make run`). WAL: readers never wait for
    # the writer. IMMEDIATE: a transaction takes the write lock when it begins, so it waits its turn (up to
    # `timeout` seconds) instead of failing with « database is locked » when it reads first and then writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes first: a locked-out account or address is refused before its password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # The rules of certif.permissions, asked with an object (`user.has_perm("juries.sign_jurysession", session)`).
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# The largest forms post a field per row: an evaluation grid two a cell (level, comment: 60 candidates × 9
# competences, 1,080), the declaration to the Caisse des Dépôts one per holder ticked (all of a certification's
# holders, in one POST that then goes to the worker). Django's 1,000 would refuse them with a bare 400.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 50_000

# Background tasks (document batches, background jobs): stored in the database, run by `manage.py db_worker` (see
# README).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A results export (XLSX) of more decisions than this is built in the background, with progress, instead of in the
# request, so that no request runs into gunicorn's timeout (the CSV is streamed and stays immediate).
BACKGROUND_EXPORT_ABOVE = int(os.environ.get("BACKGROUND_EXPORT_ABOVE", "2000"))
# A holder declaration of more holders than this is built by the worker (declarations.jobs).
BACKGROUND_DECLARATION_ABOVE = int(os.environ.get("BACKGROUND_DECLARATION_ABOVE", "1000"))

# Nothing the application counts or keeps between requests lives in this cache (rate limits and sessions are in the
# database: certif.ratelimit), so each process may keep its own.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mpes"}}

# Documents: the address printed under each QR code (frozen in the issued PDF), the director general's name printed
# under the signature (empty: the title alone), and the public verification page's limit (look-ups, seconds) per
# client address — read from CLIENT_IP_HEADER (e.g. HTTP_X_REAL_IP, set by the proxy) or REMOTE_ADDR.
PUBLIC_BASE_URL = os.environ.get(
    "PUBLIC_BASE_URL", "http://127.0.0.1:8000" if DEBUG else (f"https://{ALLOWED_HOSTS[0]}" if ALLOWED_HOSTS else "")
).rstrip("/")
SIGNATORY_NAME = os.environ.get("SIGNATORY_NAME", "")
# The public pages' statements (legal notice, personal data, accessibility): the host of this installation (its name,
# address and telephone, as one line), the certification office's and the data protection officer's addresses. Empty:
# the pages say so and give IRUP's postal address.
HOSTING_PROVIDER = os.environ.get("HOSTING_PROVIDER", "")
CONTACT_EMAIL = os.environ.get("CONTACT_EMAIL", "")
DPO_EMAIL = os.environ.get("DPO_EMAIL", "")
VERIFICATION_RATE_LIMIT = (int(os.environ.get("VERIFICATION_RATE_LIMIT", "30")), 600)
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "REMOTE_ADDR")

# The demo seeding (`seed_demo`) writes a past history through the services by moving their clock back
# (certif.clock): allowed only in a process started with DEBUG on, never in production. Read once, here, from DEBUG:
# no variable of its own, so nothing in the environment can allow it where DEBUG is off.
DEMO_HISTORY_ALLOWED = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_TAGS = {40: "danger"}

# Production hardening: on as soon as DEBUG is off, so that `check --deploy` passes.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 8 * 60 * 60

# Content Security Policy (Django's middleware): scripts only from our static files or carrying the response's nonce;
# styles only from our stylesheets: the templates carry no inline style and no style attribute, so 'unsafe-inline'
# is needed for neither. Bootstrap draws a few icons (select arrow, menu button) as data: SVG images.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Browser features no page of the application uses, refused on every response (config.middleware).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Password guessing (django-axes): the login, the admin's login, the password change and the password that confirms
# a signature count their failures in the database (shared by every worker), per account and, separately, per
# client address; at LOGIN_FAILURE_LIMIT failures within LOGIN_COOLOFF_MINUTES, that account or address is refused
# for LOGIN_COOLOFF_MINUTES after the last failure, even with the right password.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success never wipes the counters: otherwise anyone with an account could guess another's password from the same
# address by logging into their own account between two guesses.
AXES_RESET_ON_SUCCESS = False
# Tries made while locked are refused without being counted: the lockout ends when announced.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "certif.security.client_ip"
AXES_LOCKOUT_CALLABLE = "certif.security.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["old_password", "new_password1", "new_password2", "csrfmiddlewaretoken"]
AXES_VERBOSE = False

# Mail: the links with which people choose their password (Django's MAILERS). Without EMAIL_HOST (development),
# messages are printed on the server's console; `check --deploy` warns when a production configuration would send
# nothing.
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MPES — IRUP <ne-pas-repondre@irup.invalid>")
# A link to choose one's password stays valid three days, and only until it is used.
PASSWORD_RESET_TIMEOUT = 3 * 24 * 60 * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint reports each rendering step at INFO: only its warnings (a missing font, a refused resource) matter.
    # django-axes reports each login at INFO: its warnings (failures, lockouts) are what matter.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# The Caisse des Dépôts' schema for the holders' declaration: replace the file when the CDC publishes a new kit
# (each flux records the name, version and SHA-256 of the schema that validated it).
CDC_XSD_PATH = os.environ.get("CDC_XSD_PATH") or str(BASE_DIR / "declarations" / "data" / "cdc" / "cpf-1.1.2.xsd")
