"""PDF copies of the printable pages, laid out by WeasyPrint from the very template the page uses.

The page and its PDF cannot drift: a printable template extends ``base_template`` (``base.html`` in the
browser, ``web/pdf_base.html`` here), so the PDF carries the same content block, styled by the site's
print CSS plus ``css/pdf.css`` (US Letter, running head, "Page n of N"). WeasyPrint fetches nothing:
the stylesheets are read from the static files here and passed in, and any other URL a template might
name (an image, a font, a remote stylesheet) stops the rendering instead of being fetched, so a PDF
never reaches the network or the file system on a template's say-so.

A printable that is asked for again unchanged (the MAR) is laid out once: ``pdf_response_reused`` keeps the
PDF's bytes in Django's cache under a digest of the very HTML it is laid out from, with the time the copy was
made left out, so whatever the page shows (an entry, a stop, a name) gives a new key and a fresh PDF, and
nothing needs invalidating.

WeasyPrint needs Debian's Pango (``libpango-1.0-0``, ``libpangoft2-1.0-0``); ``make system-deps``
installs them. It is imported when a PDF is asked for, so the rest of the site runs without them.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.core.cache import cache as django_cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

PDF_BASE_TEMPLATE = "web/pdf_base.html"
STYLESHEETS = ("css/ketaclinic.css", "css/pdf.css")
# A reused PDF carries a patient's record: kept one clinic day in the site's cache (Redis in production, which
# the production settings require and which must be the clinic's private instance; this process's memory
# otherwise), then laid out again.
PDF_CACHE_SECONDS = 12 * 3600
FETCH_REFUSED = "A PDF fetches nothing: {url!r} is not allowed (inline it or drop it from the template)."


@cache
def _stylesheets() -> tuple[str, ...]:
    out = []
    for name in STYLESHEETS:
        found = finders.find(name)
        if not found:
            raise FileNotFoundError(f"Static file {name} not found: the PDF cannot be styled.")
        out.append(Path(str(found)).read_text(encoding="utf-8"))
    return tuple(out)


def _refusing_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class RefusingFetcher(URLFetcher):
        def __init__(self) -> None:
            URLFetcher.__init__(self, fail_on_errors=True)

        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(FETCH_REFUSED.format(url=url))

    return RefusingFetcher()


def pdf_filename(*parts: str) -> str:
    """A safe file name: the parts joined by '-', anything but letters, digits, '.', '_' and '-' dropped."""
    name = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "", name.replace(" ", "-")) + ".pdf"


def pdf_from_html(html: str) -> bytes:
    """Lay ``html`` out as a PDF with the site's stylesheets; any URL it names stops the rendering."""
    from weasyprint import CSS, HTML

    fetcher = _refusing_fetcher()
    sheets = [CSS(string=css, url_fetcher=fetcher) for css in _stylesheets()]
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=sheets))


def pdf_bytes(template_name: str, context: dict[str, Any], *, request: HttpRequest | None = None) -> bytes:
    """Render ``template_name`` (which extends ``base_template``) as a PDF."""
    return pdf_from_html(
        render_to_string(
            template_name, {**context, "pdf": True, "base_template": PDF_BASE_TEMPLATE}, request=request
        )
    )


def pdf_response(
    request: HttpRequest, template_name: str, context: dict[str, Any], *, filename: str
) -> HttpResponse:
    """The PDF inline (the browser's viewer prints it), never cached: it carries a patient's record."""
    response = HttpResponse(
        pdf_bytes(template_name, context, request=request), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


def pdf_bytes_reused(
    template_name: str, context: dict[str, Any], *, stamp: str, request: HttpRequest | None = None
) -> bytes:
    """The PDF of ``template_name``, laid out once per content. The key is a digest of the HTML the PDF is
    laid out from, rendered with ``context[stamp]`` (the time the copy was made) left empty; a copy served
    again shows the time it was made, when the record was already as it is now."""
    pdf_context = {**context, "pdf": True, "base_template": PDF_BASE_TEMPLATE}
    content = render_to_string(template_name, {**pdf_context, stamp: None}, request=request)
    key = "pdf:" + hashlib.sha256(f"{template_name}\0{content}".encode()).hexdigest()
    kept = django_cache.get(key)
    if isinstance(kept, bytes):
        return kept
    body = pdf_from_html(render_to_string(template_name, pdf_context, request=request))
    django_cache.set(key, body, timeout=PDF_CACHE_SECONDS)
    return body


def pdf_response_reused(
    request: HttpRequest, template_name: str, context: dict[str, Any], *, filename: str, stamp: str
) -> HttpResponse:
    """As :func:`pdf_response`, the bytes laid out once per content (:func:`pdf_bytes_reused`); the browser
    is still told to keep nothing."""
    body = pdf_bytes_reused(template_name, context, stamp=stamp, request=request)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response
