"""Pages anyone can open (a patient's questionnaire or consent link): limited per address with
django-ratelimit (counted in the shared cache), so that nobody can guess links at speed or slow the clinic
down from outside. A limited request gets a page in words (429, Retry-After) and an aggregated audit entry."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from ketaclinic.audit.client_ip import client_ip
from ketaclinic.audit.services import audit_anonymous_refusal


def _address(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def anonymous_limited(
    group: str,
    *,
    rate_setting: str = "KETACLINIC_ANONYMOUS_RATE",
    method: object = ALL,
    what: str = "patient links",
    template: str = "web/too_many.html",
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """At most ``settings.<rate_setting>`` requests (of ``method``) per address to the view, counted per
    ``group``; over it, a page in words (429, Retry-After) and an aggregated audit entry naming ``what``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            rate = getattr(settings, rate_setting)
            if is_ratelimited(
                request,
                group=f"anonymous:{group}",
                key=_address,
                rate=rate,
                method=method,
                increment=True,
            ):
                audit_anonymous_refusal(
                    "rate-limit", f"Too many requests to {what} (limit {rate} per address)"
                )
                response = render(request, template, {"rate": rate}, status=429)
                response["Retry-After"] = "60"
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
