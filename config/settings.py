"""Trellis settings: one module, read from the environment.

Every variable is documented in README.md ("Configuration"). Parsing is strict: a
boolean that is not a boolean, or a production setting without its secret, stops
the process with one line that names the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
import pghistory
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import embedded, localfiles

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# An optional .env beside manage.py, for local overrides; real environment wins.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable; anything but true/false/1/0/yes/no/on/off is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_secret(name: str) -> str | None:
    """A secret from NAME, or from the file that NAME_FILE points at (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE cannot be read: {exc.strerror}") from None
    return os.environ.get(name) or None


DEBUG = env_bool("DEBUG", False)

LOCAL_DIR = Path(os.environ.get("TRELLIS_LOCAL_DIR") or BASE_DIR / ".local")

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    # Development only: a random key of this installation's own, kept in .local/. A fixed
    # key would be public, and anyone could forge a link against a `./trellis run` demo.
    try:
        SECRET_KEY = localfiles.development_secret_key(LOCAL_DIR)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and no development key can be kept in {LOCAL_DIR}: "
            f"{exc.strerror}"
        ) from None
    except ValueError as exc:
        raise ImproperlyConfigured(f"SECRET_KEY is not set and {exc}") from None

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -----------------------------------------------------------------------

INSTALLED_APPS = [
    # Our apps first so their templates and management commands win.
    "config",
    "schools",
    "partnerships",
    "referrals",
    "screening",
    "evaluation",
    # django.contrib.admin with our site: MFA required, changes audited (schools/admin_site.py).
    "schools.admin_config.TrellisAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # Django's widget templates, for FORM_RENDERER below
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "guardian",
    "pgtrigger",
    "pghistory",
    "csp",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
]

# Change history keeps who and from which request beside each district's event rows
# (JSON in the event, under the event table's row-level security), never in pghistory's
# shared context table, which every district could read.
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "schools.request_id.RequestIdMiddleware",  # early, so every later layer sees the id
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, but a session that cannot be saved for want of a database is a 503, not a 400.
    "config.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After sign-in is known: no-store on signed-in pages, Clear-Site-Data on sign-out.
    "config.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "schools.middleware.TenantMiddleware",
    # After the district is known: change history records who changed what, from where.
    "schools.history.HistoryContextMiddleware",
]

ROOT_URLCONF = "config.urls"
# Forms render with our templates: a field's as_field_group is templates/components/field.html.
FORM_RENDERER = "core.forms.FormRenderer"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "schools.context_processors.tenant",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        _runtime = env.db_url("DATABASE_URL")
        _owner = env.db_url("DATABASE_OWNER_URL") if os.environ.get("DATABASE_OWNER_URL") else None
    except Exception as exc:  # environ raises several kinds for a malformed URL
        raise ImproperlyConfigured(
            f"DATABASE_URL (or DATABASE_OWNER_URL) is not valid: {exc}"
        ) from None
    if "postgresql" not in _runtime["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL server (postgres://...)")
    EMBEDDED_POSTGRES = False
else:
    try:
        _pg = embedded.postgres(LOCAL_DIR)
    except embedded.EmbeddedServerError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not set and {exc}") from None
    _runtime = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": embedded.DATABASE_NAME,
        "USER": embedded.RUNTIME_ROLE,
        "PASSWORD": "",
        "HOST": _pg.socket_dir,
        "PORT": str(_pg.port),
    }
    _owner = {**_runtime, "USER": embedded.OWNER_ROLE}
    EMBEDDED_POSTGRES = True

# Point every process at another database of the same server (used by the worker test).
if os.environ.get("DATABASE_NAME"):
    _runtime["NAME"] = os.environ["DATABASE_NAME"]
_runtime.update(
    {
        # Persistent connections, checked before reuse: a database restart costs no request.
        "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**_runtime.get("OPTIONS", {}), "connect_timeout": 5},
        "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME") or f"test_{_runtime['NAME']}"},
    }
)
DATABASES = {"default": _runtime}
# Credentials that config.db.as_owner() swaps in for migrations. Without
# DATABASE_OWNER_URL the runtime credentials are used (and a database check warns).
DATABASE_OWNER = {key: (_owner or _runtime)[key] for key in ("USER", "PASSWORD", "HOST", "PORT")}
# Used only by `manage.py db_bootstrap` to create the roles and the database.
DATABASE_SUPERUSER_URL = os.environ.get("DATABASE_SUPERUSER_URL", "")
DATABASE_ROLE_NAMES = {
    "runtime": _runtime["USER"],
    "owner": DATABASE_OWNER["USER"],
    "maintenance": env.str("DATABASE_MAINTENANCE_ROLE", default=embedded.MAINTENANCE_ROLE),
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    try:
        REDIS_URL = embedded.redis_server(LOCAL_DIR)
    except embedded.EmbeddedServerError as exc:
        raise ImproperlyConfigured(f"REDIS_URL is not set and {exc}") from None
elif not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")


def _kombu_url(url: str) -> str:
    # Kombu spells a Unix socket redis+socket:///path; redis-py spells it unix:///path.
    return "redis+socket://" + url.removeprefix("unix://") if url.startswith("unix://") else url


CACHES = {
    "default": {
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "trellis",
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    }
}

CELERY_BROKER_URL = _kombu_url(REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The database row is the source of truth; results are not kept.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues by task name: urgent for risk alerts, reports for PDF, the HSDS export and the
# roster import (long work a person waits for on a progress page); the rest is default.
CELERY_TASK_ROUTES = {
    "*.tasks.alert_*": {"queue": "urgent"},
    "*.tasks.render_*": {"queue": "reports"},
    "schools.tasks.run_roster_import": {"queue": "reports"},
}
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Longer than any task's hard limit, so Redis never redelivers a task still running.
# Connect and socket timeouts bound how long a request can wait on a broker that hangs
# (enqueuing gives up quickly and leaves the row to the sweep, see core/jobs.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    "expire-roster-previews": {
        "task": "schools.tasks.expire_roster_previews",
        "schedule": 3600.0,
    },
    # The outbox: interrupted sends resolved, lost or delayed messages handed over again.
    # (Keyed by its old name: django-celery-beat updates the stored entry in place.)
    "requeue-stuck-email": {
        "task": "schools.tasks.email_sweep",
        "schedule": 60.0,
    },
    # MOU statuses along the calendar and the 60/30-day renewal emails (sent once each).
    "mou-renewal-sweep": {
        "task": "partnerships.tasks.mou_renewal_sweep",
        "schedule": 3600.0,
    },
    # MOU PDFs whose message was lost: enqueued again after 10 minutes in "queued".
    "requeue-stuck-mou-pdfs": {
        "task": "partnerships.tasks.requeue_stuck_mou_pdfs",
        "schedule": 300.0,
    },
    # HSDS exports and confirmed roster imports whose message was lost (10 minutes queued).
    "requeue-stuck-directory-exports": {
        "task": "partnerships.tasks.requeue_stuck_directory_exports",
        "schedule": 300.0,
    },
    "requeue-stuck-roster-imports": {
        "task": "schools.tasks.requeue_stuck_roster_imports",
        "schedule": 300.0,
    },
    # Meeting reminders: the due ones claimed and sent once each; one query when none is due.
    "meeting-reminder-sweep": {
        "task": "partnerships.tasks.meeting_reminder_sweep",
        "schedule": 60.0,
    },
    # Reminders of long series planned on as their 60-day plan runs out.
    "meeting-reminders-extend": {
        "task": "partnerships.tasks.meeting_reminders_extend",
        "schedule": 3600.0,
    },
    # Each owner's weekly digest of overdue action items (claimed once per week and owner).
    "action-item-digest": {
        "task": "partnerships.tasks.action_item_digest",
        "schedule": 3600.0,
    },
    # Referrals not answered in time: the partner reminded, then the counselor (once each).
    "referral-overdue-sweep": {
        "task": "referrals.tasks.referral_overdue_sweep",
        "schedule": 900.0,
    },
}

# --- Authentication ---------------------------------------------------------------------

AUTH_USER_MODEL = "schools.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Roles that see students are signed out after this long without a request.
STUDENT_ROLE_IDLE_SECONDS = 30 * 60
# Demo districts (slugs, comma separated in TRELLIS_DEMO_DISTRICTS): their administrators
# sign in without two-factor authentication, and every page there says so. Only
# `./trellis run` sets it, for the seeded demo; empty by default and never set in production.
DEMO_DISTRICTS = [
    slug.strip() for slug in os.environ.get("TRELLIS_DEMO_DISTRICTS", "").split(",") if slug.strip()
]
SESSION_COOKIE_AGE = 12 * 60 * 60
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "schools.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
# allauth would mail unknown addresses an invitation to sign up; sign-up is closed
# (invitation only), so that mail would mislead and lets anyone send mail from us.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Trellis] "
ACCOUNT_RATE_LIMITS_ENABLED = env_bool("ACCOUNT_RATE_LIMITS_ENABLED", True)
# Failed sign-ins are limited per address only, and strictly, so an attacker's address is
# what gets stopped. allauth's per-account ("key") limit would let anyone lock a person
# out with five wrong passwords; schools.adapters adds a short, growing per-account delay
# instead (OWASP: slow down, do not lock out). Merged over allauth's other defaults.
ACCOUNT_RATE_LIMITS = {"login_failed": "5/15m/ip"} if ACCOUNT_RATE_LIMITS_ENABLED else False
# Behind N proxies the client address is the Nth from the right of X-Forwarded-For;
# without this every user shares the proxy's address and one rate limit.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Trellis"

# No anonymous guardian user: every object grant belongs to a real person.
ANONYMOUS_USER_NAME = None

# --- Email ------------------------------------------------------------------------------

# Where people reach Trellis: every link in mail is built on it (core.mail.absolute_url),
# never on a request's address, so a sweep and a request write the same link. Required
# with DEBUG off: found missing at start-up, not when a request first sends mail.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not DEBUG and not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        "SITE_URL is required when DEBUG is off (for example https://trellis.example.org): "
        "links in mail are built on it"
    )
EMAIL_URL = os.environ.get("EMAIL_URL", "")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Trellis <no-reply@trellis.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_OUTBOX_DIR = Path(os.environ.get("EMAIL_OUTBOX_DIR") or LOCAL_DIR / "outbox")
if EMAIL_URL:
    try:
        globals().update(env.email_url("EMAIL_URL"))
    except Exception as exc:
        raise ImproperlyConfigured(f"EMAIL_URL is not valid: {exc}") from None
else:
    # Development and demo: every message is written to .local/outbox (see /dev/outbox/).
    EMAIL_BACKEND = "config.mail.OutboxBackend"
# A message the mail server cannot take (unreachable, busy) is tried again with a growing
# wait, up to this many hours after its first attempt; then it is marked "not delivered"
# for a coordinator (or platform staff) to retry. Mail servers refusing it fail at once.
EMAIL_RETRY_HOURS = env_int("EMAIL_RETRY_HOURS", 24)
# Message-IDs are <...@host of SITE_URL>; this is the host when SITE_URL has none.
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default="trellis.invalid")

# --- Security ---------------------------------------------------------------------------

# Served over HTTPS (default whenever DEBUG is off): secure cookies, HSTS, redirects.
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy the original scheme arrives in this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A Trellis page in the reader's language that says what to do, not Django's English one.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
# Only our own files: no inline script or style (htmx's indicator styles are turned
# off in base.html), images also as data: URIs (the authenticator QR code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
SILENCED_SYSTEM_CHECKS = [
    # Joining the browsers' HSTS preload list is a decision for the domain's owner,
    # made with SECURE_HSTS_PRELOAD=true, not a default.
    "security.W021",
    # User.email is unique case-insensitively (constraint user_email_unique_ci), which
    # this check cannot see.
    "auth.W004",
]

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date and time style across pages, emails and PDFs (Django's en writes "p.m.").
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or LOCAL_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Until `collectstatic` has run (development, tests) files are served from the source tree.
WHITENOISE_USE_FINDERS = DEBUG or not (STATIC_ROOT / "css").is_dir()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root

# --- Logging ----------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # key=value lines: easy to grep and to ship; never request bodies or student data.
        "kv": {"format": "time=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}
