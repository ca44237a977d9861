"""The ASGI application, for servers that speak ASGI."""

import os

from ketaclinic.base.math_threads import math_threads_limit

math_threads_limit()  # before Django loads anything that imports numpy

from django.core.asgi import get_asgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.web.settings.production")
application = get_asgi_application()
