"""Pages that gather several apps, so they live in the roof: the patient's chart (demographics, clinical
lists, referrals, screenings, plans, consent), opening a chart with break-glass access, and the audit trail.

Their addresses keep their apps' names (``patients:chart``, ``accounts:break_glass``, ``audit:log``):
``ketaclinic.web.urls`` adds them to those apps' URL lists.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.checkpoints import checkpoint_last
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.selectors import audit_chain_verify, audit_entries, audit_page
from ketaclinic.base.db_routing import report_database
from ketaclinic.consent.selectors import consent_status
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.messaging.selectors import contact_preference_get
from ketaclinic.patients import selectors as patient_selectors
from ketaclinic.patients.access import break_glass_open
from ketaclinic.patients.forms import AllergyForm, MeasurementForm, MedicationForm
from ketaclinic.patients.models import Patient
from ketaclinic.plans.selectors import plans_for_patient
from ketaclinic.scheduling.feeds import feed_live
from ketaclinic.scheduling.upcoming import upcoming_appointments
from ketaclinic.screening.selectors import referrals_for_patient, screenings_for_patient


@login_required
def patient_chart(request: AuthedRequest, external_id: str) -> HttpResponse:
    try:
        patient = patient_selectors.patient_get(
            user=request.user, external_id=external_id, permission=Permission.PATIENT_VIEW
        )
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None
    chart = patient_selectors.patient_chart_get(user=request.user, patient=patient)
    ctx = {
        "chart": chart,
        "patient": patient,
        "measurement_form": MeasurementForm(),
        "allergy_form": AllergyForm(),
        "medication_form": MedicationForm(),
        "contact_preference": contact_preference_get(patient),
        "can_edit_contacts": request.user.can(Permission.PATIENT_REGISTER),
        "upcoming": upcoming_appointments(patient),
        "calendar_feed": feed_live(patient=patient),
    }
    if request.user.can(Permission.CLINICAL_VIEW):
        ctx["referrals"] = referrals_for_patient(user=request.user, patient=patient)
        ctx["screenings"] = screenings_for_patient(user=request.user, patient=patient)
        ctx["plans"] = plans_for_patient(user=request.user, patient=patient)
        ctx["consent"] = consent_status(user=request.user, patient=patient)
    return render(request, "patients/chart.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def break_glass(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.BREAK_GLASS)  # the form itself names the patient and location
    patient = get_object_or_404(Patient.objects.select_related("location"), external_id=external_id)
    error = ""
    if request.method == "POST":
        try:
            break_glass_open(user=request.user, patient=patient, reason=request.POST.get("reason", ""))
        except DomainError as exc:
            error = exc.message
        else:
            messages.warning(
                request, "Emergency access granted for 4 hours. It is recorded and will be reviewed."
            )
            return redirect("patients:chart", external_id=patient.external_id)
    return render(
        request,
        "accounts/break_glass.html",
        {"patient": patient, "error": error},
        status=400 if error else 200,
    )


def _place(text: str | None) -> int | None:
    """A page's boundary from the address (an entry's number); anything else means the newest page."""
    return int(text) if text and text.isdigit() else None


@login_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.AUDIT_VIEW)
    action = request.GET.get("action", "")
    patient = request.GET.get("patient", "").strip()
    try:
        patient_id = str(uuid.UUID(patient)) if patient else ""
    except ValueError:  # not a patient id: show everything rather than fail
        patient_id = ""
    # the list is a report (the replica when there is one); verifying reads the primary, which the
    # checkpoint was taken from: a replica a moment behind it would report entries missing
    qs = audit_entries(action=action, patient_external_id=patient_id).using(report_database())
    page = audit_page(qs, before=_place(request.GET.get("before")), after=_place(request.GET.get("after")))
    verified = None
    if request.GET.get("verify"):
        checkpoint = checkpoint_last()
        count, problems = audit_chain_verify(checkpoint=checkpoint)
        verified = {"count": count, "problems": problems[:20], "ok": not problems, "checkpoint": checkpoint}
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "actions": AuditEntry.Action.choices,
            "action": action,
            "patient": patient,
            "verified": verified,
        },
    )
