"""Referral entry, the screening form (questions from the protocol), the decision and its signature."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get
from ketaclinic.patients.views import form_error
from ketaclinic.protocols.selectors import protocol_for_indication
from ketaclinic.screening import selectors, services
from ketaclinic.screening.forms import ReferralForm, ScreeningForm, SignForm, TrialFormSet
from ketaclinic.screening.models import ReferralDocument, Screening


def _patient(request: AuthedRequest, external_id: str, permission: Permission) -> Patient:
    try:
        return patient_get(user=request.user, external_id=external_id, permission=permission)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None


@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: AuthedRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id, Permission.REFERRAL_RECORD)
    form = ReferralForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        upload, title = d.pop("document"), d.pop("document_title")
        try:
            services.referral_record(
                user=request.user, patient=patient, documents=[(title, upload)] if upload else [], **d
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Referral recorded.")
            return redirect("patients:chart", external_id=patient.external_id)
    return render(
        request,
        "screening/referral_form.html",
        {"form": form, "patient": patient},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def screening_new(request: AuthedRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id, Permission.SCREENING_RECORD)
    data = request.POST if request.method == "POST" else None
    indication = (data or request.GET).get("indication")
    if indication is None and (ref := patient.referrals.filter(status="received").first()):
        indication = ref.indication  # first opening: start from the open referral; a choice of "" stays ""
    indication = indication or ""
    protocol, protocol_error = None, ""
    if indication:
        try:
            protocol = protocol_for_indication(indication)
        except DomainError as exc:
            protocol_error = exc.message
    questions = protocol.parsed.eligibility.contraindications if protocol else ()
    form = ScreeningForm(data, patient=patient, questions=questions, initial={"indication": indication})
    trials = TrialFormSet(data, prefix="trials")
    if request.method == "POST" and protocol and form.is_valid() and trials.is_valid():
        d = form.cleaned_data
        try:
            screening = services.screening_record(
                user=request.user,
                patient=patient,
                indication=d["indication"],
                referral=d["referral"],
                substance_use=d["substance_use"],
                substance_use_notes=d["substance_use_notes"],
                failed_pain_treatments_notes=d["failed_pain_treatments_notes"],
                contraindications=form.contraindications(),
                trials=[t for t in trials.cleaned_data if t and t.get("name")],
                protocol_version=protocol,
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            return redirect("screening:detail", external_id=screening.external_id)
    template = (
        "screening/_questions.html" if request.headers.get("HX-Request") else "screening/screening_form.html"
    )
    return render(
        request,
        template,
        {
            "form": form,
            "trials": trials,
            "patient": patient,
            "protocol": protocol,
            "protocol_error": protocol_error,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def screening_detail(request: AuthedRequest, external_id: str) -> HttpResponse:
    if request.method == "POST":
        require(request.user, Permission.SCREENING_SIGN)  # refuse naming the action tried, before reading
    try:
        screening = selectors.screening_get(user=request.user, external_id=external_id)
    except Screening.DoesNotExist:
        raise Http404("No such screening.") from None
    form = SignForm(request.POST or None, indication=screening.indication)
    if request.method == "POST":
        patient_for(request.user, screening.patient, Permission.SCREENING_SIGN)
        if form.is_valid():
            try:
                services.screening_sign(
                    user=request.user,
                    screening=screening,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                    diagnosis=form.cleaned_data["diagnosis"],
                )
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, "Decision signed.")
                return redirect("screening:detail", external_id=screening.external_id)
    return render(
        request,
        "screening/screening_detail.html",
        {"screening": screening, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def referral_document(request: AuthedRequest, external_id: str) -> HttpResponse:
    """A referral document, opened from the chart: only for staff who may see the patient's clinical
    record (documents are at most 10 MB: sent whole)."""
    try:
        document = selectors.referral_document_get(user=request.user, external_id=str(external_id))
    except ReferralDocument.DoesNotExist:
        raise Http404("No such document.") from None
    with document.file.open("rb") as f:
        body = f.read()
    response = HttpResponse(body, content_type=document.content_type or "application/octet-stream")
    name = (document.file.name or "").rsplit("/", 1)[-1]
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
