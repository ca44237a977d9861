"""The JSON API (django-ninja): OpenAPI at /api/openapi.json, interactive docs at /api/docs.

Same permissions as the pages (the same services and selectors do the checks); session auth with CSRF.
One error shape for the whole API: ``{"error": {"code", "message", "field", "value"}}`` (``ApiError``), which
every operation declares for the 4xx answers it can give (:func:`errors_declare`).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation
from ninja.security import django_auth

from ketaclinic.audit.services import audit_denied
from ketaclinic.core.errors import DomainError
from ketaclinic.core.input_rules import shown
from ketaclinic.patients.access import OutsideLocations
from ketaclinic.web.errors import ApiError, error_body


class _Api(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Named after the app's API (``ketaclinic_infusions_api_infusion_start``), not the module inside
        it that holds the operation: an API split into modules (``ketaclinic.infusions.api.running``) keeps
        its operation ids."""
        module = re.sub(r"\.api\..*$", ".api", operation.view_func.__module__)
        return f"{module}_{operation.view_func.__name__}".replace(".", "_")


api = _Api(
    title="ketaclinic API",
    version="1",
    description="Patients, referrals, screening and eligibility for an IV ketamine clinic. "
    "Authenticate with a staff session (sign in at /accounts/login/); send the CSRF token on writes.",
    auth=django_auth,
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, field: str | None = None, value: object = None
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, field, value), status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, 400, "invalid", exc.message, exc.field, exc.value)


@api.exception_handler(OutsideLocations)
def _outside(request: HttpRequest, exc: OutsideLocations) -> HttpResponse:
    audit_denied(
        reason=f"{request.method} {request.path}: {exc}",
        status=403,
        patient=exc.patient,
        location_code=exc.patient.location.code,
    )
    return _error(request, 403, "outside_locations", str(exc))


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or "Forbidden.")


@api.exception_handler(ObjectDoesNotExist)
def _missing(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(Http404)
def _no_such(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "Sign in first.")


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", []) if p not in ("body", "payload", "query")]
    field = ".".join(loc) or None
    message = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}" for e in exc.errors
    )
    given = first.get("input")
    value = shown(given) if isinstance(given, str | int | float) and field else None
    return _error(request, 422, "invalid", message, field, value)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))


api.add_router("/patients", "ketaclinic.patients.api.router")
api.add_router("/screening", "ketaclinic.screening.api.router")
api.add_router("/protocols", "ketaclinic.protocols.api.router")
api.add_router("/plans", "ketaclinic.plans.api.router")
api.add_router("/consent", "ketaclinic.consent.api.router")
api.add_router("/sessions", "ketaclinic.infusions.api.router")
api.add_router("/outcomes", "ketaclinic.outcomes.api.router")
api.add_router("/desk", "ketaclinic.scheduling.api.router")
api.add_router("/billing", "ketaclinic.billing.api.router")


def error_statuses(operation: Any) -> list[int]:
    """The 4xx answers an operation can give: 400 (input refused, by the request filter or a rule), 401 and
    403 (not signed in; CSRF, permission or another location), 404 (a record named in the path or body that is
    missing or not yours) and 422 (parameters or body not matching the schema)."""
    has_params = bool(operation.signature.params)
    names_a_record = "{" in operation.path or any(
        p.source.__class__.__name__ in ("Body", "Query") for p in operation.signature.params
    )
    statuses = [400]
    if operation.auth_callbacks:
        statuses += [401, 403]
    if names_a_record:
        statuses.append(404)
    if has_params:
        statuses.append(422)
    return statuses


def errors_declare() -> None:
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                for status in error_statuses(operation):
                    operation.response_models.setdefault(status, operation._create_response_model(ApiError))


errors_declare()
