"""Headers every response carries (beyond Django's SecurityMiddleware and django-csp's
Content-Security-Policy).

* ``Cache-Control: no-store`` on every response but static files: pages, fragments, the API, PDFs and patient
  links all carry (or may carry) patient data, which no browser or proxy cache should keep.
* ``Permissions-Policy`` turning off the browser features the clinic never uses (camera, microphone,
  location...).

And a log filter: a refused request (403) is logged in one line, without the traceback Django attaches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ketaclinic.base.tokens import text_for_records


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            response["Cache-Control"] = "no-store, private"
        response.setdefault("Permissions-Policy", settings.KETACLINIC_PERMISSIONS_POLICY)
        return response


class LinkTokensMasked(logging.Filter):
    """No patient's link token in a log line: Django logs a refused or missing page with its address."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = text_for_records(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(text_for_records(a) if isinstance(a, str) else a for a in record.args)
        return True


class RefusalsOneLine(logging.Filter):
    """A 403 is a refusal working as intended: keep its one-line message, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
