"""Production: PostgreSQL, HTTPS only, secrets from the environment (refuses to start without them)."""

import os

from django.core.exceptions import ImproperlyConfigured

from ketaclinic.web.settings.base import *  # noqa: F403
from ketaclinic.web.settings.base import env_bool

for _name in ("DJANGO_SECRET_KEY", "KETACLINIC_AUDIT_KEY", "DATABASE_URL", "KETACLINIC_REDIS_URL"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"{_name} must be set in production.")

if "replica" in DATABASES and not DATABASES["replica"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    raise ImproperlyConfigured(
        "DATABASE_REPLICA_URL must name a PostgreSQL streaming replica of DATABASE_URL."
    )

DEBUG = False
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Questionnaire links go out by email through SMTP, configured by the environment.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("KETACLINIC_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KETACLINIC_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("KETACLINIC_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KETACLINIC_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("KETACLINIC_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 30
# ``send_due_links`` refuses to run until KETACLINIC_BASE_URL is the clinic's https:// address.
# Text messages to patients: KETACLINIC_SMS_SENDER=twilio with TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
# TWILIO_FROM_NUMBER (base.py, docs/messaging.md); until then they print on the console.

# Probes come over plain HTTP from the load balancer, inside the network: no redirect to https for them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Each server thread keeps its database connection (checked before reuse) instead of opening one a request.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

# Static files from the server itself (WhiteNoise, a kept library): ``ketaclinic serve`` runs collectstatic
# first, which names every file by its content's hash and writes gzip copies (static_files.py); served
# with a year's cache and the compressed copy the browser accepts.
MIDDLEWARE = [  # noqa: F405
    *MIDDLEWARE[:2],  # noqa: F405  (the request id, then SecurityMiddleware)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[2:],  # noqa: F405
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "ketaclinic.web.static_files.GzipManifestStaticFilesStorage"},
}

# Logs: one JSON object a line on stderr (python-json-logger, a kept formatter), each with the request's id;
# the server's own lines (gunicorn's access and error logs) come out the same way (ketaclinic.web.logs).
LOGGING["formatters"] = {  # noqa: F405
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(levelname)s %(name)s %(request_id)s %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",  # UTC, ISO 8601
    }
}
LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405
