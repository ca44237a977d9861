"""Settings shared by every environment; configured by environment variables (cookiecutter-django).

``DATABASE_URL`` chooses the database: unset means the embedded SQLite file ``var/ketaclinic.sqlite3``;
``postgres://user@host:5432/name`` means PostgreSQL (production and the second test run).
``DATABASE_REPLICA_URL`` (optional, PostgreSQL) names a streaming replica the reports read from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parents[4]  # the checkout (src/ketaclinic/web/settings -> ..)
PACKAGE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("KETACLINIC_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_ratelimit",
    "django_guid",  # request ids (below)
    "ninja",  # serves Swagger UI from its own static files (no CDN: clinics may run offline)
    "django_tasks",  # Django's Tasks API (backport); tasks are stored in the database (docs/jobs.md)
    "django_tasks_db",
    "ketaclinic.accounts",
    "ketaclinic.audit",
    "ketaclinic.protocols",
    "ketaclinic.patients",
    "ketaclinic.messaging",
    "ketaclinic.screening",
    "ketaclinic.inquiries",
    "ketaclinic.plans",
    "ketaclinic.consent",
    "ketaclinic.infusions",
    "ketaclinic.outcomes",
    "ketaclinic.reminders",
    "ketaclinic.scheduling",
    "ketaclinic.billing",
    "ketaclinic.jobs",
    "ketaclinic.web",
]

MIDDLEWARE = [
    # first, so every log line of the request carries its id (DJANGO_GUID below)
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    # a page about a patient activates their location's zone
    "ketaclinic.base.time_zones.ResetTimeZoneMiddleware",
    "csp.middleware.CSPMiddleware",
    "ketaclinic.web.security_headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Control characters and impossible numbers are refused here, before any view or audit write sees them
    # (cookies first, so the session is read only once they are clean).
    "ketaclinic.web.input_hygiene.InputHygieneMiddleware",
    # Before the sign-in guards, so their sign-outs and refusals carry the request (who, from where) and
    # a 403 they answer is audited like any other.
    "ketaclinic.audit.middleware.AuditRequestMiddleware",
    "ketaclinic.accounts.middleware.InactivityLogoutMiddleware",
    "ketaclinic.accounts.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ketaclinic.web.urls"
WSGI_APPLICATION = "ketaclinic.web.wsgi.application"
ASGI_APPLICATION = "ketaclinic.web.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ketaclinic.accounts.context_processors.staff_context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'ketaclinic.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL's JIT compiles "expensive" plans: for the outcomes dashboard's report query it costs more
    # (~1 s) than the query itself (benchmarks/outcomes.py). Short clinic queries never gain from it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# A PostgreSQL streaming replica (hot standby) that reports read from (ketaclinic.base.db_routing): the
# outcomes dashboard and its CSV and API, and the audit trail's list. Writes, migrations and every other
# read stay on the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=DATABASES["default"].get("CONN_MAX_AGE", 0)
    )
    # a replica that does not answer in 3 s is skipped: the reports read the primary (db_routing)
    DATABASES["replica"].setdefault("OPTIONS", {}).update(options="-c jit=off", connect_timeout=3)
KETACLINIC_REPORTS_DATABASE = "replica" if "replica" in DATABASES else "default"
DATABASE_ROUTERS = ["ketaclinic.base.db_routing.PrimaryRouter"]
# Background jobs live in the database itself (SQLite or PostgreSQL): a task enqueued inside a transaction is
# sent only if that transaction commits. `ketaclinic manage jobs_worker` runs them (docs/jobs.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# argon2 first (argon2-cffi): the OWASP-recommended password hash.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# django-axes: lock an account+address after repeated failures (HIPAA person authentication).
AXES_FAILURE_LIMIT = int(os.environ.get("KETACLINIC_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Behind N reverse proxies, the client is the N-th X-Forwarded-For address from the right
# (ketaclinic.audit.client_ip); the audit trail, consent signatures and the lockout all use that one rule.
KETACLINIC_PROXY_COUNT = int(os.environ.get("KETACLINIC_PROXY_COUNT", "0"))
KETACLINIC_TRUSTED_PROXIES = [
    v for v in os.environ.get("KETACLINIC_TRUSTED_PROXIES", "").split(",") if v.strip()
]
AXES_CLIENT_IP_CALLABLE = "ketaclinic.audit.client_ip.client_ip"

# Automatic logoff after inactivity (HIPAA §164.312(a)(2)(iii)).
KETACLINIC_IDLE_LOGOUT_SECONDS = int(os.environ.get("KETACLINIC_IDLE_LOGOUT_SECONDS", str(15 * 60)))
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

OTP_TOTP_ISSUER = "ketaclinic"

# The audit chain is sealed with a keyed hash (HMAC-SHA256) so a row edited in the database cannot be
# re-sealed without this key. Production must set it; it defaults to SECRET_KEY.
KETACLINIC_AUDIT_KEY = os.environ.get("KETACLINIC_AUDIT_KEY", "")
# The audit trail: sixteen chains (appends never queue on one row); a read repeated by the same person within
# these minutes (a page polling) is one entry; checkpoints exported outside the database by audit_checkpoint.
# Anonymous pages (a patient's questionnaire or consent link): at most this many requests a minute from one
# address (django-ratelimit, counted in the cache); refusals of unknown links are audited once per address and
# ten minutes, with the count, not one entry each. The counts must be shared by every server process: Redis
# (KETACLINIC_REDIS_URL; production requires it), else this process's memory (the demo's single server).
KETACLINIC_ANONYMOUS_RATE = os.environ.get("KETACLINIC_ANONYMOUS_RATE", "30/m")
# The public "Request a free assessment" page: at most this many requests sent from one address (the page
# itself is under the anonymous limit above).
KETACLINIC_INQUIRY_RATE = os.environ.get("KETACLINIC_INQUIRY_RATE", "5/h")
KETACLINIC_REDIS_URL = os.environ.get("KETACLINIC_REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": KETACLINIC_REDIS_URL}
        if KETACLINIC_REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# With the shared cache, a signed-in request reads its session from Redis, not the database (every request
# reads it; the database stays the record: cached_db writes both, and sign-out deletes both).
if KETACLINIC_REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
RATELIMIT_USE_CACHE = "default"
# W001: django-ratelimit's list of backends predates Django's own RedisCache, which increments atomically.
# E003 (a cache only this process sees) is silenced only when there is no Redis: the demo's one server
# process.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + (
    [] if KETACLINIC_REDIS_URL else ["django_ratelimit.E003"]
)
KETACLINIC_AUDIT_SHARDS = int(os.environ.get("KETACLINIC_AUDIT_SHARDS", "16"))
KETACLINIC_AUDIT_READ_REPEAT_MINUTES = int(os.environ.get("KETACLINIC_AUDIT_READ_REPEAT_MINUTES", "5"))
# Off only to measure what auditing reads costs (benchmarks/audit_load.py); never in a clinic.
KETACLINIC_AUDIT_READS = env_bool("KETACLINIC_AUDIT_READS", True)
KETACLINIC_AUDIT_CHECKPOINT_FILE = os.environ.get(
    "KETACLINIC_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.jsonl")
)
# each a dotted path, or (dotted path, keyword arguments): ("ketaclinic.audit.checkpoints.SyslogSink", {...})
KETACLINIC_AUDIT_CHECKPOINT_SINKS: list[str | tuple[str, dict[str, Any]]] = [
    "ketaclinic.audit.checkpoints.FileSink"
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "web" / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Request ids (django-guid, a kept library: middleware, a log filter, sync and async): an incoming
# X-Request-ID that is a UUID (a proxy's) is kept, anything else replaced by a new one; the response echoes it
# and every log line written while the request runs carries it as ``request_id``.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "UUID_LENGTH": 32,
}

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    # a refusal (403) is one line in the log, never a traceback
    "filters": {
        "refusals_one_line": {"()": "ketaclinic.web.security_headers.RefusalsOneLine"},
        "link_tokens_masked": {"()": "ketaclinic.web.security_headers.LinkTokensMasked"},
        "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "refusals_one_line", "link_tokens_masked"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KETACLINIC_LOG_LEVEL", "WARNING")},
}

# SQLite serialises writers: take the write lock when a transaction starts (Django 5.1+), so two
# concurrent actions queue instead of failing with "database is locked" half-way through.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})

# The crisis line a patient sees after answering through a link when the location has no phone number;
# 988 (the US Suicide & Crisis Lifeline) is always shown beside it.
KETACLINIC_CRISIS_LINE = os.environ.get("KETACLINIC_CRISIS_LINE", "")

# Email: questionnaire links (``ketaclinic manage send_due_links`` and "Send link now"). Local and demo
# print messages on the console; production sends through SMTP (production.py); tests keep them in memory.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("KETACLINIC_EMAIL_FROM", "ketaclinic <no-reply@localhost>")
# The address patients' links start with (scheme and host), for the daily job and "Send link now"; unset,
# "Send link now" uses the address the page was opened at and, with DEBUG on, the job http://127.0.0.1:8000.
KETACLINIC_BASE_URL = os.environ.get("KETACLINIC_BASE_URL", "")

# Messages to patients (ketaclinic.messaging): the sender of each channel, a dotted path to a class with
# ``send(message) -> provider reference``. Out of the box: ConsoleSender (prints), EmailSender (EMAIL_BACKEND
# above) and TwilioSmsSender (text messages through Twilio). Text messages print on the console until the
# clinic's Twilio account is configured (KETACLINIC_SMS_SENDER=twilio and the three TWILIO_ values).
MESSAGE_SENDERS = {
    "sms": (
        "ketaclinic.messaging.senders.TwilioSmsSender"
        if os.environ.get("KETACLINIC_SMS_SENDER", "console") == "twilio"
        else "ketaclinic.messaging.senders.ConsoleSender"
    ),
    "email": "ketaclinic.messaging.senders.EmailSender",
}
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")  # E.164, e.g. +16175550100

# Content-Security-Policy (django-csp: a kept library, with report-only mode and per-view overrides): scripts
# only from our own static files (no inline script or handler anywhere; htmx needs no eval here); inline style
# attributes allowed (htmx's indicator styles and a few templates). The API's Swagger UI page (ninja's own
# static files and an inline start-up script) is excluded.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
KETACLINIC_PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)

# Card payments (ketaclinic.billing.processors): the fake processor until a clinic sets
# KETACLINIC_PAYMENT_PROCESSOR=stripe and STRIPE_SECRET_KEY.
BILLING_PAYMENT_PROCESSOR = (
    "ketaclinic.billing.processors.StripeProcessor"
    if os.environ.get("KETACLINIC_PAYMENT_PROCESSOR", "fake") == "stripe"
    else "ketaclinic.billing.processors.FakeProcessor"
)
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
