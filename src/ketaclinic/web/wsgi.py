"""The WSGI application the production server runs (``ketaclinic serve`` starts gunicorn on it)."""

import os

from ketaclinic.base.math_threads import math_threads_limit

math_threads_limit()  # before Django loads anything that imports numpy

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.web.settings.production")
application = get_wsgi_application()
