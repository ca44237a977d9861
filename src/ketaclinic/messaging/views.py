"""Pages' actions on messages: a patient's opt-outs (from the chart) and sending a failed message again (from
the page that lists it). Both need the permission to edit a patient's contacts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.messaging import selectors, services
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get

UNKNOWN_MESSAGE = "That message is not among this patient's messages."


def _patient(request: AuthedRequest, external_id: str) -> Patient:
    try:
        return patient_get(
            user=request.user, external_id=str(external_id), permission=Permission.PATIENT_REGISTER
        )
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None


def _back(request: AuthedRequest, patient: Patient) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("patients:chart", external_id=patient.external_id)


@login_required
@require_POST
def preferences(request: AuthedRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id)
    services.contact_preference_set(
        user=request.user,
        patient=patient,
        sms_opted_out=request.POST.get("sms_opted_out") == "on",
        email_opted_out=request.POST.get("email_opted_out") == "on",
    )
    messages.success(request, "Message preferences saved.")
    return _back(request, patient)


@login_required
@require_POST
def resend(request: AuthedRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id)
    message = selectors.message_for_patient(patient, request.POST.get("message", ""))
    if message is None:
        messages.error(request, UNKNOWN_MESSAGE)
        return _back(request, patient)
    try:
        services.message_resend(user=request.user, message=message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The {message.get_channel_display().lower()} is queued to be sent again.")
    return _back(request, patient)
