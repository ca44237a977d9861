"""Sign-in, second factor (TOTP via django-otp), enrolment, sign-out, and the review queue of break-glass
accesses (opening one is a page about a patient: ``ketaclinic.web.pages``)."""

from __future__ import annotations

import base64
import math
import time
import uuid
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.forms import StaffForm
from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.middleware import LAST_SEEN, LOGOUT_REASON
from ketaclinic.accounts.models import BreakGlassAccess, User
from ketaclinic.accounts.permissions import require
from ketaclinic.accounts.selectors import (
    break_glass_queue,
    licences_needing_attention,
    second_factor_enrolled_ids,
    staff_directory,
)
from ketaclinic.accounts.services import (
    REVIEW_NOT_IN_QUEUE,
    break_glass_review,
    staff_create,
    staff_set_active,
)
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError, ValidationError

INVALID_CODE = "That code is not valid. Enter the current 6-digit code from your authenticator app."
CODE_THROTTLED = (
    "After {count} wrong code(s), codes are not checked for a moment: wait {seconds} s, "
    "then enter the current code."
)


@receiver(user_logged_in)
def _audit_login(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = time.time()  # the idle clock starts at sign-in, not at the next page
    audit_record(action=AuditEntry.Action.LOGIN, actor=user, summary="Signed in (password)")


@receiver(user_logged_out)
def _audit_logout(sender: object, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(
            action=AuditEntry.Action.LOGOUT, actor=user, summary=getattr(request, LOGOUT_REASON, "Signed out")
        )


@receiver(user_login_failed)
def _audit_login_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    audit_record(
        action=AuditEntry.Action.LOGIN_FAILED,
        summary=f"Failed sign-in for {credentials.get('username', '?')!r}"[:300],
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "lockout_minutes": int(settings.AXES_COOLOFF_TIME * 60),
        }


def _safe_next(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return reverse("web:dashboard")


def _code_throttled(user: User) -> str:
    """django-otp throttles a device after a wrong code (1 s, 2 s, 4 s, ...) and meanwhile refuses even
    the right code: say so, rather than call a right code wrong. Empty when codes are being checked."""

    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            seconds = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
            return CODE_THROTTLED.format(count=data.get("failure_count", 1), seconds=seconds)
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: AuthedRequest) -> HttpResponse:
    """Second step of sign-in: a TOTP code from an enrolled device."""
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect(f"{reverse('accounts:otp_setup')}?next={_safe_next(request)}")
    error = ""
    if request.method == "POST":
        token = request.POST.get("token", "").strip().replace(" ", "")
        throttled = _code_throttled(user)
        devices = () if throttled else TOTPDevice.objects.devices_for_user(user, confirmed=True)
        device = next((d for d in devices if d.verify_token(token)), None)
        if device is not None:
            otp_login(request, device)
            audit_record(action=AuditEntry.Action.LOGIN, actor=user, summary="Second factor verified (TOTP)")
            return redirect(_safe_next(request))
        error = throttled or INVALID_CODE
        audit_record(
            action=AuditEntry.Action.LOGIN_FAILED,
            actor=user,
            summary="Second-factor code not checked (throttled)" if throttled else "Wrong second-factor code",
        )
    return render(
        request,
        "accounts/otp_verify.html",
        {"error": error, "next": _safe_next(request)},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: AuthedRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, confirm with a code."""
    user = request.user
    if user_has_device(user, confirmed=True):
        return redirect("accounts:otp_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=False
    )
    error = ""
    if request.method == "POST":
        if device.verify_token(request.POST.get("token", "").strip().replace(" ", "")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            audit_record(
                action=AuditEntry.Action.SYSTEM, actor=user, summary="Enrolled an authenticator app (TOTP)"
            )
            messages.success(request, "Authenticator enrolled.")
            return redirect(_safe_next(request))
        error = INVALID_CODE
        audit_record(
            action=AuditEntry.Action.LOGIN_FAILED,
            actor=user,
            summary="Wrong code while enrolling a second factor",
        )
    img = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buf = BytesIO()
    img.save(buf)
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "qr_svg": buf.getvalue().decode(),
            "secret": secret,
            "error": error,
            "next": _safe_next(request),
        },
        status=400 if error else 200,
    )


def _access_or_none(external_id: str) -> BreakGlassAccess | None:
    try:
        return BreakGlassAccess.objects.filter(external_id=uuid.UUID(external_id)).first()
    except ValueError:  # not an id at all
        return None


@login_required
@require_http_methods(["GET", "POST"])
def break_glass_reviews(request: AuthedRequest) -> HttpResponse:
    queue = break_glass_queue(user=request.user)
    error = ""
    if request.method == "POST":
        access = _access_or_none(request.POST.get("access", ""))
        try:
            if access is None:
                raise ValidationError(
                    REVIEW_NOT_IN_QUEUE, field="access", value=request.POST.get("access", "")
                )
            break_glass_review(
                user=request.user,
                access=access,
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Review recorded.")
            return redirect("accounts:break_glass_reviews")
    return render(
        request,
        "accounts/break_glass_reviews.html",
        {"queue": queue, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_list(request: AuthedRequest) -> HttpResponse:
    """Clinic admins: staff accounts, their roles, locations, second-factor status and licences to renew;
    create or deactivate (editing one is ``staff_views.staff_edit``)."""

    require(request.user, Permission.STAFF_MANAGE)
    form = StaffForm(request.POST or None) if request.POST.get("action") == "create" else StaffForm()
    if request.method == "POST":
        try:
            if request.POST.get("action") == "create":
                if form.is_valid():
                    member = staff_create(user=request.user, **form.cleaned_data)
                    messages.success(request, f"Created {member.username}.")
                    return redirect("accounts:staff")
            else:
                member = get_object_or_404(User, external_id=request.POST.get("staff"))
                staff_set_active(
                    user=request.user, staff_member=member, active=request.POST.get("action") == "activate"
                )
                messages.success(request, "Saved.")
                return redirect("accounts:staff")
        except DomainError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
    return render(
        request,
        "accounts/staff.html",
        {
            "staff": staff_directory(user=request.user),
            "enrolled": second_factor_enrolled_ids(),
            "form": form,
            "alerts": licences_needing_attention(user=request.user, today=timezone.localdate()),
        },
        status=400 if form.errors else 200,
    )
