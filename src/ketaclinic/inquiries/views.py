"""The public page "Request a free assessment" (no account) and the intake coordinator's queue: each request
becomes a patient and a referral in one step, or is closed with a reason."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.anonymous import anonymous_limited
from ketaclinic.audit.services import audit_anonymous_refusal
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.inquiries import selectors, services
from ketaclinic.inquiries.forms import CloseForm, ConvertForm, InquiryForm
from ketaclinic.inquiries.models import Inquiry
from ketaclinic.patients.selectors import duplicates_find


def _form_error(form: forms.Form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@never_cache
@csrf_protect
@anonymous_limited("inquiry", what="the request page")
@anonymous_limited(
    "inquiry-send",
    rate_setting="KETACLINIC_INQUIRY_RATE",
    method="POST",
    what="the request page (requests sent)",
    template="inquiries/too_many.html",
)
@require_http_methods(["GET", "POST"])
def public_request(request: HttpRequest) -> HttpResponse:
    """Open to anyone (the rate limits above are its guard): a request for a free assessment."""
    form = InquiryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.pop("website"):  # the honeypot was filled: answer as if sent, keep nothing
            audit_anonymous_refusal("honeypot", "A request for an assessment was refused (filled by a robot)")
            return redirect("inquiries:thanks")
        try:
            services.inquiry_submit(**data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return redirect("inquiries:thanks")
    return render(request, "inquiries/public_form.html", {"form": form}, status=400 if form.errors else 200)


@anonymous_limited("inquiry", what="the request page")
@require_http_methods(["GET"])
def public_thanks(request: HttpRequest) -> HttpResponse:
    """Thanks, and nothing of what was typed."""
    return render(request, "inquiries/thanks.html")


@login_required
@require_http_methods(["GET"])
def queue(request: AuthedRequest) -> HttpResponse:
    """Open requests of the user's locations, oldest first, with how long each has waited."""
    queues = selectors.inquiry_queue(user=request.user, now=timezone.now())
    return render(request, "inquiries/queue.html", {"queues": queues})


def _inquiry(request: AuthedRequest, external_id: uuid.UUID) -> Inquiry:
    try:
        return selectors.inquiry_get(user=request.user, external_id=str(external_id))
    except Inquiry.DoesNotExist:
        raise Http404("No such request.") from None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def detail(request: AuthedRequest, external_id: uuid.UUID) -> HttpResponse:
    """One request: turn it into a patient and a referral (with the duplicate check), or close it."""
    require(request.user, Permission.INQUIRY_MANAGE)
    inquiry = _inquiry(request, external_id)
    action = request.POST.get("action", "")
    convert = ConvertForm(
        request.POST if action == "convert" else None,
        initial={
            "indication": inquiry.interest,
            "referrer_role": inquiry.referred_by,
            "referrer_name": f"{inquiry.given_name} {inquiry.family_name}"
            if inquiry.referred_by == "self"
            else "",
        },
    )
    close = CloseForm(request.POST if action == "close" else None)
    if request.method == "POST":
        done = _act(request, inquiry, action, convert, close)
        if done is not None:
            return done
    can_convert = request.user.can(Permission.PATIENT_REGISTER) and request.user.can(
        Permission.REFERRAL_RECORD
    )
    duplicates = []
    if can_convert and inquiry.status == Inquiry.Status.OPEN:
        birth = convert.cleaned_data.get("birth_date") if convert.is_bound and convert.is_valid() else None
        duplicates = duplicates_find(
            user=request.user,
            given_name=inquiry.given_name,
            family_name=inquiry.family_name,
            birth_date=birth,
            phone=inquiry.phone,
            email=inquiry.email,
        )
    return render(
        request,
        "inquiries/detail.html",
        {
            "inquiry": inquiry,
            "convert": convert,
            "close": close,
            "can_convert": can_convert,
            "duplicates": duplicates,
            "location_zone": inquiry.location.timezone,
        },
        status=400 if convert.errors or close.errors else 200,
    )


def _act(
    request: AuthedRequest, inquiry: Inquiry, action: str, convert: ConvertForm, close: CloseForm
) -> HttpResponse | None:
    try:
        if action == "convert":
            require(request.user, Permission.PATIENT_REGISTER)
            require(request.user, Permission.REFERRAL_RECORD)
            if convert.is_valid():
                patient, _ = services.inquiry_convert(
                    user=request.user, inquiry=inquiry, **convert.cleaned_data
                )
                messages.success(
                    request, f"Registered {patient.display_name} ({patient.mrn}) with a referral."
                )
                return redirect("patients:chart", external_id=patient.external_id)
        elif action == "close":
            if close.is_valid():
                services.inquiry_close(user=request.user, inquiry=inquiry, **close.cleaned_data)
                messages.success(request, "Request closed.")
                return redirect("inquiries:queue")
        else:
            raise Http404("Unknown action.")
    except DomainError as exc:
        _form_error(convert if action == "convert" else close, exc)
    return None
