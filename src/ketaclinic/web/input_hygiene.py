"""The request filter: control characters and impossible numbers are refused before any view runs.

Looks at everything a person or a program can type into a request: the address, the query string, the
cookies, form fields and JSON strings, keys and numbers (rules in :mod:`ketaclinic.core.input_rules`).
A NUL byte would otherwise reach PostgreSQL, which refuses it with an error (a 500, and the refusal's
own audit entry failing with it). The answer is 400: the API's one error shape for ``/api/``, a page
naming the field for the rest; either way one audit entry records the refusal, with the value's
invisible characters spelled out so that the entry itself can be written.

It runs after the session and sign-in middleware are installed but before anything reads the session:
cookies are checked first, so the signed-in user is looked up only once they are clean.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from ketaclinic.audit.client_ip import client_ip
from ketaclinic.audit.context import RequestContext, current
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.tokens import path_for_records
from ketaclinic.core import input_rules
from ketaclinic.core.errors import ValidationError
from ketaclinic.web.errors import error_body

logger = logging.getLogger("ketaclinic.input")


class _Reject(Exception):
    def __init__(self, error: ValidationError) -> None:
        self.error = error


def _text(value: str, field: str, label: str, *, multiline: bool) -> None:
    found = input_rules.control_character(value, multiline=multiline)
    if found:
        position, ch = found
        raise _Reject(
            ValidationError(
                input_rules.CONTROL_CHARACTER.format(
                    label=input_rules.shown(label, 60),
                    code=f"U+{ord(ch):04X}",
                    position=position,
                    breaks=" and line breaks" if multiline else " (no line breaks)",
                ),
                field=input_rules.shown(field, 60),
                value=input_rules.shown(value),
            )
        )


def _walk_json(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield child + " (name)", key
            yield from _walk_json(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_json(value, f"{path}.{i}" if path else str(i))
    else:
        yield path or "body", node


def _not_finite(constant: str) -> float:
    return math.nan  # NaN, Infinity, -Infinity: Python's json accepts them; JSON does not


def request_check(request: HttpRequest) -> None:
    """Raise :class:`_Reject` for the first value of the request that breaks a rule."""
    for name, value in request.COOKIES.items():
        _text(name + value, f"cookie {name}", "A cookie", multiline=False)
    _text(request.path, "address", "The address", multiline=False)
    for name, values in request.GET.lists():
        _text(name, name, "A search field's name", multiline=False)
        for value in values:
            _text(value, name, input_rules.label_for(name), multiline=False)
    content_type = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for name, values in request.POST.lists():
                _text(name, name, "A form field's name", multiline=False)
                for value in values:
                    _text(value, name, input_rules.label_for(name), multiline=True)
        elif content_type == "application/json" and request.body:
            try:
                data = json.loads(request.body, parse_constant=_not_finite)
            except (ValueError, UnicodeDecodeError):
                return  # not JSON at all: the API's own parser refuses it (422) naming the body
            for field, value in _walk_json(data, ""):
                key = field.removesuffix(" (name)")
                if isinstance(value, str):
                    _text(value, key, input_rules.label_for(key.rsplit(".", 1)[-1]), multiline=True)
                elif isinstance(value, float | int) and not isinstance(value, bool):
                    try:
                        input_rules.number_check(
                            value, field=key, label=input_rules.label_for(key.rsplit(".", 1)[-1])
                        )
                    except ValidationError as exc:
                        raise _Reject(exc) from None


def _refusal_audited(request: HttpRequest, error: ValidationError, user: Any) -> None:
    path = path_for_records(request.path)  # a patient's link token is never kept
    ctx = RequestContext(
        ip_address=client_ip(request),
        user_agent=input_rules.shown(request.META.get("HTTP_USER_AGENT", ""), 300),
        path=input_rules.shown(path, 290),
        method=request.method or "",
        actor=user,
    )
    token = current.set(ctx)
    try:
        audit_record(
            action=AuditEntry.Action.DENIED,
            summary=f"400 {request.method} {input_rules.shown(path, 120)}: {error.message}",
            detail={"status": 400, "field": error.field, "value": error.value},
        )
    finally:
        current.reset(token)


class InputHygieneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request_check(request)
        except _Reject as reject:
            return self.refuse(request, reject.error)
        return self.get_response(request)

    def refuse(self, request: HttpRequest, error: ValidationError) -> HttpResponse:
        cookie_refused = (error.field or "").startswith("cookie ")
        user = None if cookie_refused else getattr(request, "user", None)
        logger.warning(
            "input refused: %s %s field=%s",
            request.method,
            input_rules.shown(path_for_records(request.path), 120),
            input_rules.shown(error.field or "", 60),
        )
        _refusal_audited(request, error, user)
        if request.path.startswith("/api/"):
            return JsonResponse(error_body("invalid", error.message, error.field, error.value), status=400)
        html = render_to_string(
            "web/input_refused.html",
            {"message": error.message, "field": error.field},
            request=None if cookie_refused else request,
        )
        return HttpResponse(html, status=400)
