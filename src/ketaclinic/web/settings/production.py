"""Production: PostgreSQL, HTTPS only, secrets from the environment (refuses to start without them)."""

import os

from django.core.exceptions import ImproperlyConfigured

from ketaclinic.web.settings.base import *  # noqa: F403

for _name in ("DJANGO_SECRET_KEY", "KETACLINIC_AUDIT_KEY", "DATABASE_URL"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"{_name} must be set in production.")

DEBUG = False
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
