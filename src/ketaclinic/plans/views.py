"""Treatment plan pages: draft (series proposed), the plan with its slots, sign, revise; move, cancel,
booster; the nurse's day route for home visits."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Location
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.services import audit_list
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get
from ketaclinic.patients.views import form_error
from ketaclinic.plans import selectors, services
from ketaclinic.plans.forms import BoosterForm, CancelForm, MoveForm, PlanForm, ReviseForm
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.plans.selectors.route import home_route_for


def _plan(request: AuthedRequest, external_id: str) -> TreatmentPlan:
    try:
        return selectors.plan_get(user=request.user, external_id=external_id)
    except TreatmentPlan.DoesNotExist:
        raise Http404("No such plan.") from None


def _infusion(request: AuthedRequest, external_id: str) -> PlannedInfusion:
    try:
        return selectors.infusion_get(
            user=request.user, external_id=external_id, permission=Permission.SCHEDULE_MANAGE
        )
    except PlannedInfusion.DoesNotExist:
        raise Http404("No such planned infusion.") from None


def _local(form: forms.Form, key: str = "start") -> datetime:
    """A datetime-local field read in the chosen location's time zone."""
    naive: datetime = form.cleaned_data[key].replace(tzinfo=None)
    return naive.replace(tzinfo=ZoneInfo(form.cleaned_data["location"].timezone))


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: AuthedRequest, external_id: str) -> HttpResponse:
    try:
        patient = patient_get(user=request.user, external_id=external_id, permission=Permission.PLAN_WRITE)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None
    form = PlanForm(request.POST or None, patient=patient, initial={"start": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.plan_draft(
                user=request.user,
                patient=patient,
                screening=d["screening"],
                start=d["start"],
                weekdays=d["weekdays"],
                at=d["at"],
                location=d["location"],
                chair=d["chair"],
                at_home=d["at_home"],
                closed=d["closed"],
                notes=d["notes"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Plan drafted: review the proposed dates, then a prescriber signs it.")
            return redirect("plans:detail", external_id=plan.external_id)
    return render(
        request,
        "plans/plan_form.html",
        {"form": form, "patient": patient},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_detail(request: AuthedRequest, external_id: str) -> HttpResponse:
    """The plan and its slots; POST signs it (``plan.sign``)."""
    if request.method == "POST":
        require(request.user, Permission.PLAN_SIGN)  # refuse naming the action tried, before reading
    plan = _plan(request, external_id)
    if request.method == "POST":
        patient_for(request.user, plan.patient, Permission.PLAN_SIGN)
        try:
            services.plan_sign(user=request.user, plan=plan)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Plan signed.")
        return redirect("plans:detail", external_id=plan.external_id)
    revise = ReviseForm(initial={f: getattr(plan, f) for f in ReviseForm.base_fields})
    return render(
        request,
        "plans/plan_detail.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "revise_form": revise,
            "cancel_form": CancelForm(),
            "tz": ZoneInfo(plan.patient.location.timezone),
            # the zone's abbreviation(s) on the slots' dates (EST, EDT) in the table's heading
            "slot_starts": list(plan.infusions.values_list("scheduled_start", flat=True)),
        },
    )


@login_required
@require_POST
def plan_revise(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.PLAN_WRITE)
    plan = _plan(request, external_id)
    form = ReviseForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        )
        return redirect("plans:detail", external_id=plan.external_id)
    try:
        draft = services.plan_revise(user=request.user, plan=plan, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("plans:detail", external_id=plan.external_id)
    messages.success(request, "Revision drafted: a prescriber signs it to replace the current plan.")
    return redirect("plans:detail", external_id=draft.external_id)


@login_required
@require_http_methods(["GET", "POST"])
def infusion_move(request: AuthedRequest, external_id: str) -> HttpResponse:
    infusion = _infusion(request, external_id)
    tz = ZoneInfo(infusion.location.timezone)
    form = MoveForm(
        request.POST or None,
        initial={
            "start": infusion.scheduled_start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "location": infusion.location,
            "chair": infusion.chair,
            "at_home": infusion.at_home,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.infusion_move(
                user=request.user,
                infusion=infusion,
                start=_local(form),
                location=d["location"],
                chair=d["chair"],
                at_home=d["at_home"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"{infusion.label} moved.")
            return redirect("plans:detail", external_id=infusion.plan.external_id)
    return render(
        request,
        "plans/slot_form.html",
        {"form": form, "infusion": infusion, "plan": infusion.plan, "title": f"Move {infusion.label}"},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def infusion_cancel(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.SCHEDULE_MANAGE)
    infusion = _infusion(request, external_id)
    form = CancelForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(services.REASON_REQUIRED, field="reason")
        services.infusion_cancel(user=request.user, infusion=infusion, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{infusion.label} cancelled.")
    return redirect("plans:detail", external_id=infusion.plan.external_id)


@login_required
@require_http_methods(["GET", "POST"])
def booster_new(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.SCHEDULE_MANAGE)
    plan = _plan(request, external_id)
    patient_for(request.user, plan.patient, Permission.SCHEDULE_MANAGE)
    form = BoosterForm(request.POST or None, initial={"location": plan.patient.location})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.booster_add(
                user=request.user,
                plan=plan,
                start=_local(form),
                location=d["location"],
                chair=d["chair"],
                at_home=d["at_home"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Booster planned.")
            return redirect("plans:detail", external_id=plan.external_id)
    return render(
        request,
        "plans/slot_form.html",
        {"form": form, "plan": plan, "title": "Plan a booster"},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def home_route(request: AuthedRequest) -> HttpResponse:
    """The nurse's day route for a mobile location's home visits (the board's permission and locations)."""
    require(request.user, Permission.BOARD_VIEW)
    location = Location.objects.filter(code=request.GET.get("location", "")).first()
    if location is None:
        raise Http404("No such location.")
    day: date | None = None
    if request.GET.get("date"):
        try:
            day = date.fromisoformat(request.GET["date"])
        except ValueError:
            raise Http404("The date must look like 2026-11-25.") from None
    route = home_route_for(user=request.user, location=location, day=day)
    audit_list(route.patients, f"home visit route {location.code}")
    with timezone.override(ZoneInfo(location.timezone)):
        return render(request, "plans/home_route.html", {"route": route, "location": location})
