"""Automatic logoff after inactivity, and the second factor that prescribers and admins must pass."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

LAST_SEEN = "ketaclinic_last_seen"
# The idle clock is moved on at most this often. Each move rewrites the whole session, and a request that
# loaded the session before another request stored something in it (a picture the page asked for, still
# drawing when the nurse posts a form) would write the old copy back over it: a one-time link shown "only
# now" went missing that way. Within this window no request writes the session for the clock, so only the
# requests that change it do. The cost: a sign-out may come up to this much before the idle limit.
LAST_SEEN_EVERY_SECONDS = 30
OPEN_PATHS = (
    "/accounts/login/",
    "/accounts/logout/",
    "/static/",
    "/api/openapi.json",
    "/api/docs",
    "/healthz",
    "/readyz",
)
IDLE_SIGNED_OUT = "Signed out after inactivity."
SECOND_FACTOR_REQUIRED = "Second factor required: verify your authenticator code."
PASSWORD_CHANGE_REQUIRED = "Your password was reset: sign in on the web pages and choose a new one first."
PASSWORD_CHANGE_PATH = "/accounts/password/"
# The user_logged_out receiver (accounts.views) writes the audit entry with this reason.
LOGOUT_REASON = "_ketaclinic_logout_reason"


def api_error(status: int, code: str, message: str) -> JsonResponse:
    """The API's one error shape (see ketaclinic.web.api), for answers given before the API is reached."""
    return JsonResponse(
        {"error": {"code": code, "message": message, "field": None, "value": None}}, status=status
    )


class InactivityLogoutMiddleware:
    """Sign a user out after KETACLINIC_IDLE_LOGOUT_SECONDS without a request (HIPAA automatic logoff)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()  # the wall clock (not the test clock tests move for infusions)
            last = request.session.get(LAST_SEEN)
            if last is not None and now - float(last) > settings.KETACLINIC_IDLE_LOGOUT_SECONDS:
                setattr(request, LOGOUT_REASON, "Signed out after inactivity")
                logout(request)
                if request.path.startswith("/api/"):
                    return api_error(401, "signed_out", IDLE_SIGNED_OUT)
                login = f"{reverse('accounts:login')}?{urlencode({'timeout': 1, 'next': _page_of(request)})}"
                if request.headers.get(
                    "HX-Request"
                ):  # a poll or a form on the page: the whole page goes to sign-in
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = login
                    return response
                return redirect(login)
            if last is None or (
                now - float(last) >= LAST_SEEN_EVERY_SECONDS and not is_background_poll(request)
            ):
                request.session[LAST_SEEN] = now
        elif request.headers.get("HX-Request") and not request.path.startswith(
            ("/accounts/", "/api/", "/static/")
        ):
            # signed out meanwhile (another tab timed out or signed out): the whole page goes to sign-in,
            # never the sign-in form swapped into a status box
            response = HttpResponse(status=204)
            response["HX-Redirect"] = f"{reverse('accounts:login')}?{urlencode({'next': _page_of(request)})}"
            return response
        return self.get_response(request)


# Requests a page makes by itself (the session page's status box, the day board's refresh) are not activity:
# the server decides from the address it serves, so an unattended tablet signs out like any other screen.
BACKGROUND_POLLS = {"infusions:status"}  # always a poll
BACKGROUND_WHEN_HTMX = {"infusions:board"}  # opening the board is a page; an htmx GET of it is its refresh


def is_background_poll(request: HttpRequest) -> bool:
    if request.method != "GET":
        return False
    try:
        name = resolve(request.path_info).view_name
    except Resolver404:
        return False
    return name in BACKGROUND_POLLS or (
        name in BACKGROUND_WHEN_HTMX and bool(request.headers.get("HX-Request"))
    )


def _page_of(request: HttpRequest) -> str:
    """Where to come back after signing in: the page, not the fragment a poll asked for."""
    current = request.headers.get("HX-Current-URL", "")
    if current:
        path = urlsplit(current).path
        if path.startswith("/") and not path.startswith("//"):
            return path
    return request.path


class RequireSecondFactorMiddleware:
    """Prescribers and admins must verify a TOTP device (django-otp) before anything else; those without
    one are sent to enrol. Then a user whose password an admin reset must choose a new one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.needs_second_factor
            and not user.is_verified()
            and not request.path.startswith(OPEN_PATHS)
            and not request.path.startswith("/accounts/2fa/")
        ):
            if request.path.startswith("/api/"):
                return api_error(403, "second_factor_required", SECOND_FACTOR_REQUIRED)
            return redirect(f"{reverse('accounts:otp_verify')}?{urlencode({'next': request.path})}")
        if (
            user is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith(OPEN_PATHS)
            and not request.path.startswith(("/accounts/2fa/", PASSWORD_CHANGE_PATH))
        ):
            if request.path.startswith("/api/"):
                return api_error(403, "password_change_required", PASSWORD_CHANGE_REQUIRED)
            return redirect(PASSWORD_CHANGE_PATH)
        return self.get_response(request)
