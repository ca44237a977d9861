"""Patient list and search, registration (with duplicate warning), chart, measurements, allergies, meds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.services import audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.core.input_rules import QUERY_MAX
from ketaclinic.patients import selectors, services
from ketaclinic.patients.forms import AllergyForm, MeasurementForm, MedicationForm, PatientForm
from ketaclinic.patients.models import Patient


def _patient(
    request: AuthedRequest, external_id: str, permission: Permission = Permission.PATIENT_VIEW
) -> Patient:
    try:
        return selectors.patient_get(user=request.user, external_id=external_id, permission=permission)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None


def form_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Attach a domain refusal to the field it names, or to the form."""
    field = exc.field if exc.field in form.fields else None
    if field is None and exc.field and f"{exc.field}_value" in form.fields:
        field = f"{exc.field}_value"
    form.add_error(field, exc.message)


@login_required
def patient_list(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    template = "patients/_results.html" if request.headers.get("HX-Request") else "patients/list.html"
    if len(query) > QUERY_MAX:  # a search is a name, a date or an MRN: never run a pasted page as a query
        return render(
            request,
            template,
            {
                "patients": [],
                "q": query[:QUERY_MAX],
                "elsewhere": None,
                "refused": f"Search has {len(query):,} characters; it may have at most {QUERY_MAX}.",
            },
            status=200 if request.headers.get("HX-Request") else 400,
        )  # htmx swaps only a 200 into the page
    patients = selectors.patient_search(user=request.user, query=query)
    elsewhere = (
        selectors.patient_find_elsewhere(user=request.user, mrn=query) if not patients and query else None
    )
    return render(request, template, {"patients": patients, "q": query, "elsewhere": elsewhere})


@login_required
@require_http_methods(["GET", "POST"])
def patient_new(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.PATIENT_REGISTER)
    form = PatientForm(request.POST or None, user=request.user)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        duplicates = selectors.duplicates_find(
            user=request.user,
            given_name=d["given_name"],
            family_name=d["family_name"],
            birth_date=d["birth_date"],
            phone=d.get("phone", ""),
            email=d.get("email", ""),
        )
        if not duplicates or request.POST.get("confirm_not_duplicate") == "yes":
            fields = {
                k: v
                for k, v in d.items()
                if k
                not in {
                    "given_name",
                    "family_name",
                    "birth_date",
                    "sex_at_birth",
                    "location",
                    "weight_value",
                    "weight_unit",
                    "height_value",
                    "height_unit",
                }
            }
            try:
                patient = services.patient_register(
                    user=request.user,
                    location=d["location"],
                    given_name=d["given_name"],
                    family_name=d["family_name"],
                    birth_date=d["birth_date"],
                    sex_at_birth=d["sex_at_birth"],
                    weight=(d["weight_value"], d["weight_unit"])
                    if d.get("weight_value") is not None
                    else None,
                    height=(d["height_value"], d["height_unit"])
                    if d.get("height_value") is not None
                    else None,
                    **fields,
                )
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, f"Registered {patient.display_name} ({patient.mrn}).")
                return redirect("patients:chart", external_id=patient.external_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "patients/form.html",
        {"form": form, "duplicates": duplicates, "creating": True},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: AuthedRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id, Permission.PATIENT_REGISTER)
    audit_read(patient, "demographics (edit form)")
    form = PatientForm(request.POST or None, instance=patient, user=request.user, with_measurements=False)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k != "location"}
        try:
            services.patient_update(user=request.user, patient=Patient.objects.get(pk=patient.pk), **changes)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("patients:chart", external_id=patient.external_id)
    return render(
        request,
        "patients/form.html",
        {"form": form, "patient": patient, "creating": False},
        status=400 if request.method == "POST" else 200,
    )


def _chart_action(
    request: AuthedRequest,
    external_id: str,
    form_class: type[forms.Form],
    action: Callable[[User, Patient, dict[str, Any]], object],
) -> HttpResponse:
    patient = _patient(request, external_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(request.user, Patient.objects.get(pk=patient.pk), form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Recorded.")
    else:
        messages.error(
            request, "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        )
    return redirect("patients:chart", external_id=patient.external_id)


@login_required
@require_POST
def measurement_add(request: AuthedRequest, external_id: str) -> HttpResponse:
    return _chart_action(
        request,
        external_id,
        MeasurementForm,
        lambda u, p, d: services.measurement_record(
            user=u, patient=p, kind=d["kind"], value=d["value"], unit=d["unit"]
        ),
    )


@login_required
@require_POST
def allergy_add(request: AuthedRequest, external_id: str) -> HttpResponse:
    return _chart_action(
        request, external_id, AllergyForm, lambda u, p, d: services.allergy_record(user=u, patient=p, **d)
    )


@login_required
@require_POST
def medication_add(request: AuthedRequest, external_id: str) -> HttpResponse:
    return _chart_action(
        request,
        external_id,
        MedicationForm,
        lambda u, p, d: services.medication_record(user=u, patient=p, **d),
    )
