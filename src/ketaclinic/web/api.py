"""The JSON API (django-ninja): OpenAPI at /api/openapi.json, interactive docs at /api/docs.

Same permissions as the pages (the same services and selectors do the checks); session auth with CSRF.
One error shape for the whole API: ``{"error": {"code", "message", "field", "value"}}``.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from ketaclinic.accounts.permissions import OutsideLocations
from ketaclinic.audit.services import audit_denied
from ketaclinic.core.errors import DomainError

api = NinjaAPI(
    title="ketaclinic API",
    version="1",
    description="Patients, referrals, screening and eligibility for an IV ketamine clinic. "
    "Authenticate with a staff session (sign in at /accounts/login/); send the CSRF token on writes.",
    auth=django_auth,
)


def _error(request: HttpRequest, status: int, code: str, message: str, field: str | None = None,
           value: object = None) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "field": field,
                      "value": None if value is None else str(value)}}
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, 400, "invalid", exc.message, exc.field, exc.value)


@api.exception_handler(OutsideLocations)
def _outside(request: HttpRequest, exc: OutsideLocations) -> HttpResponse:
    audit_denied(reason=f"{request.method} {request.path}: {exc}", status=403, patient=exc.patient,
                 location_code=exc.patient.location.code)
    return _error(request, 403, "outside_locations", str(exc))


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or "Forbidden.")


@api.exception_handler(ObjectDoesNotExist)
def _missing(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "Sign in first.")


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", []) if p not in ("body", "payload", "query")]
    field = ".".join(loc) or None
    message = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}" for e in exc.errors)
    return _error(request, 422, "invalid", message, field)


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
