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
