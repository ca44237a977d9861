"""Sets the audit context for each request, flushes the reads it collected, records denials (403/404)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ketaclinic.audit.client_ip import client_ip
from ketaclinic.audit.context import RequestContext, current
from ketaclinic.audit.services import audit_denied, audit_flush_reads
from ketaclinic.base.tokens import path_for_records


class AuditRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = path_for_records(request.path)  # a patient's link token is never kept
        ctx = RequestContext(
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            path=path[:300],
            method=request.method or "",
            actor=getattr(request, "user", None),
        )
        token = current.set(ctx)
        try:
            response = self.get_response(request)
            if response.status_code in (403, 404) and not request.path.startswith("/static/"):
                ctx.reads.clear()
                audit_denied(reason=f"{request.method} {path}", status=response.status_code)
            elif response.status_code < 500:
                # A refused form (400) still showed the record it was about: its reads count too.
                audit_flush_reads()
            return response
        finally:
            current.reset(token)
