"""The live page's actions: one table (``ACTIONS``) of what a person does on the page (who may, the form it
reads, the service it calls, what it says), the view that runs them, and the independent check of the bag
on its own page. The live page itself is ``infusions.views``.

Thin: each action parses its form and calls one service; a refusal (DomainError) is shown on the page next to
the form that caused it, and a "changed meanwhile" refusal offers a reload. With htmx the live page is
swapped in place (the response is the page itself, status 400/409 on refusal); without it, success redirects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions import forms as f
from ketaclinic.infusions import selectors, services
from ketaclinic.infusions.models import AdverseEvent, InfusionOrder, InfusionSession, VitalAlert
from ketaclinic.infusions.views import _prescribers, _render_live, _rescue_meds, _session, _zone

Runner = Callable[[User, InfusionSession, dict[str, Any]], Any]


@dataclass(frozen=True)
class Action:
    """One thing a person does on the live page: who may, the form it reads, the service it calls, what it
    says."""

    permission: Permission
    form: str  # key in the live page's forms
    make: Callable[[Any, InfusionSession], forms.Form]
    run: Runner
    done: str | Callable[[Any], str]


def _order(session: InfusionSession, external_id: Any) -> InfusionOrder:
    order = InfusionOrder.objects.filter(session=session, external_id=external_id).first()
    if order is None:
        raise Http404("No such order.")
    return order


def _alert(session: InfusionSession, external_id: Any) -> VitalAlert:
    alert = (
        VitalAlert.objects.filter(session=session, external_id=external_id).select_related("session").first()
    )
    if alert is None:
        raise Http404("No such alert.")
    return alert


def _rate_event(session: InfusionSession, number: int) -> Any:
    """The session's ``number``-th pump event (1-based, in time order): how pages and the API name one."""
    event = selectors.rate_event_get(session=session, number=number)
    if event is None:
        raise ValidationError(services.NO_SUCH_RATE_EVENT.format(value=number), field="event", value=number)
    return event


def _adverse(session: InfusionSession, external_id: str) -> AdverseEvent | None:
    return (
        None
        if not external_id
        else AdverseEvent.objects.filter(session=session, external_id=external_id).first()
    )


def _adverse_or_404(session: InfusionSession, external_id: str) -> AdverseEvent:
    event = _adverse(session, external_id)
    if event is None:
        raise Http404("No such adverse event in this session.")
    return event


def _vitals_done(posted: services.VitalsPosted) -> str:
    if not posted.created:
        return "This reading was already recorded (sent twice); it is stored once."
    if posted.alerts:
        return f"Vital signs recorded — {len(posted.alerts)} alert(s) to acknowledge."
    return "Vital signs recorded."


def _vial_checked(check: Any) -> str:
    if check.match:
        return "Independent check recorded: the vial and the volume drawn match the order."
    return "Independent check recorded: it DOES NOT match the order; do not start. " + " ".join(
        check.problems
    )


def _form(cls: type[forms.Form]) -> Callable[[Any, InfusionSession], forms.Form]:
    return lambda data, session: cls(data)


S_RUN, S_SCHED, S_SIGN = Permission.SESSION_RUN, Permission.SCHEDULE_MANAGE, Permission.ORDER_SIGN
ACTIONS: dict[str, Action] = {
    "check_in": Action(
        S_SCHED,
        "check_in",
        _form(f.AtForm),
        lambda u, s, d: services.session_check_in(
            user=u, session=s, expected_version=d["expected_version"], at=d["at"]
        ),
        "Checked in.",
    ),
    "cancel": Action(
        S_SCHED,
        "cancel",
        _form(f.CancelForm),
        lambda u, s, d: services.session_cancel(
            user=u, session=s, expected_version=d["expected_version"], reason=d["reason"]
        ),
        "Session cancelled.",
    ),
    "checklist": Action(
        S_RUN,
        "checklist",
        _form(f.ChecklistAnswerForm),
        lambda u, s, d: services.checklist_record(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            code=d["code"],
            answer=d["answer"] or "",
            value=d["value"] or None,
            unit=d["unit"] or None,
            confirm_weight=d["confirm_weight"],
        ),
        "Checklist answer recorded.",
    ),
    "checklist_override": Action(
        S_SIGN,
        "checklist_override",
        _form(f.ChecklistOverrideForm),
        lambda u, s, d: services.checklist_override(
            user=u, session=s, expected_version=d["expected_version"], code=d["code"], reason=d["reason"]
        ),
        "Checklist item overridden.",
    ),
    "checklist_complete": Action(
        S_RUN,
        "complete",
        _form(f.VersionForm),
        lambda u, s, d: services.checklist_complete(
            user=u, session=s, expected_version=d["expected_version"]
        ),
        "Pre-infusion checklist passed.",
    ),
    "order_create": Action(
        S_RUN,
        "order_create",
        _form(f.OrderCreateForm),
        lambda u, s, d: services.order_create(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            dose=d["dose"] or None,
            duration_min=d["duration_min"],
        ),
        "Order calculated; a prescriber signs it.",
    ),
    "order_sign": Action(
        S_SIGN,
        "order_sign",
        _form(f.OrderSignForm),
        lambda u, s, d: services.order_sign(
            user=u,
            order=_order(s, d["order"]),
            expected_version=d["expected_version"],
            override_reason=d["override_reason"],
        ),
        "Order signed.",
    ),
    "vial_check": Action(
        S_RUN,
        "vial_check",
        _form(f.VialCheckForm),
        lambda u, s, d: services.vial_check_record(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            vial_mg_per_ml=d["vial_mg_per_ml"],
            drawn_ml=d["drawn_ml"],
        ),
        _vial_checked,
    ),
    "start": Action(
        S_RUN,
        "start",
        _form(f.AtForm),
        lambda u, s, d: services.infusion_start(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            at=d["at"],
            backdate_reason=d["backdate_reason"] or "",
        ),
        "Infusion started.",
    ),
    "pause": Action(
        S_RUN,
        "pause",
        _form(f.ReasonAtForm),
        lambda u, s, d: services.infusion_pause(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            reason=d["reason"],
            at=d["at"],
            backdate_reason=d["backdate_reason"] or "",
        ),
        "Infusion paused.",
    ),
    "resume": Action(
        S_RUN,
        "resume",
        _form(f.ReasonAtForm),
        lambda u, s, d: services.infusion_resume(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            reason=d["reason"],
            at=d["at"],
            backdate_reason=d["backdate_reason"] or "",
        ),
        "Infusion resumed.",
    ),
    "rate": Action(
        S_RUN,
        "rate",
        lambda data, s: f.RateChangeForm(data, prescribers=_prescribers(s)),
        lambda u, s, d: services.infusion_rate_change(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            rate_mg_per_h=d["rate_mg_per_h"],
            reason=d["reason"],
            signer=d["signer"],
            read_back=d["read_back"],
            override_reason=d["override_reason"],
            at=d["at"],
            backdate_reason=d["backdate_reason"] or "",
        ),
        "Rate changed.",
    ),
    "titration_cosign": Action(
        S_SIGN,
        "titration_cosign",
        _form(f.CosignForm),
        lambda u, s, d: services.titration_cosign(user=u, event=_rate_event(s, d["event"])),
        "Verbal order co-signed.",
    ),
    "stop": Action(
        S_RUN,
        "stop",
        _form(f.ReasonAtForm),
        lambda u, s, d: services.infusion_stop(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            reason=d["reason"],
            at=d["at"],
            backdate_reason=d["backdate_reason"] or "",
        ),
        "Infusion stopped; recovery and the observation time begin.",
    ),
    "vitals": Action(
        S_RUN,
        "vitals",
        _form(f.VitalsForm),
        lambda u, s, d: services.vitals_record(
            user=u,
            session=s,
            client_id=d["client_id"],
            taken_at=d["taken_at"],
            systolic_mmhg=d["systolic_mmhg"],
            diastolic_mmhg=d["diastolic_mmhg"],
            heart_rate_bpm=d["heart_rate_bpm"],
            spo2_percent=d["spo2_percent"],
            respiratory_rate_per_min=d["respiratory_rate_per_min"],
            sedation=d["sedation"],
            backdate_reason=d["backdate_reason"] or "",
        ),
        _vitals_done,
    ),
    "alert_ack": Action(
        S_RUN,
        "alert_ack",
        _form(f.AlertAckForm),
        lambda u, s, d: services.alert_acknowledge(user=u, alert=_alert(s, d["alert"]), note=d["note"]),
        "Alert acknowledged.",
    ),
    "adverse_event": Action(
        S_RUN,
        "adverse",
        _form(f.AdverseEventForm),
        lambda u, s, d: services.adverse_event_record(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            kind=d["kind"],
            severity=d["severity"],
            at=d["at"],
            notes=d["notes"],
        ),
        "Adverse event recorded.",
    ),
    "adverse_review": Action(
        S_SIGN,
        "adverse_review",
        _form(f.AdverseReviewForm),
        lambda u, s, d: services.adverse_event_review(
            user=u, event=_adverse_or_404(s, d["event"]), note=d["note"]
        ),
        "Adverse event reviewed.",
    ),
    "administration": Action(
        S_RUN,
        "administration",
        lambda data, s: f.AdministrationForm(
            data, medications=_rescue_meds(s), adverse_events=s.adverse_events.all()
        ),
        lambda u, s, d: services.administration_record(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            medication=d["medication"],
            dose=d["dose"],
            unit=d["unit"],
            route=d["route"],
            at=d["at"],
            reason=d["reason"],
            override_reason=d["override_reason"],
            adverse_event=_adverse(s, d["adverse_event"]),
        ),
        "Medication given recorded on the MAR.",
    ),
    "discharge_assess": Action(
        S_RUN,
        "discharge_assess",
        _form(f.DischargeAssessForm),
        lambda u, s, d: services.discharge_assess(
            user=u,
            session=s,
            expected_version=d["expected_version"],
            activity_mental_status=d["activity_mental_status"],
            pain=d["pain"],
            nausea_vomiting=d["nausea_vomiting"],
            intake_output=d["intake_output"],
            escort_present=d["escort_present"],
            instructions_given=d["instructions_given"],
            escort_name=d["escort_name"],
        ),
        "Discharge assessment recorded.",
    ),
    "discharge": Action(
        S_RUN,
        "discharge",
        _form(f.VersionForm),
        lambda u, s, d: services.session_discharge(user=u, session=s, expected_version=d["expected_version"]),
        "Discharged.",
    ),
}


@login_required
@require_POST
def session_action(request: AuthedRequest, external_id: str, action: str) -> HttpResponse:
    spec = ACTIONS[action]
    require(request.user, spec.permission)  # refuse naming the action tried, before reading anything
    session = _session(request, external_id, spec.permission)
    with timezone.override(_zone(session)):
        form = spec.make(request.POST, session)
        error, changed = "", False
        if form.is_valid():
            try:
                result = spec.run(request.user, session, form.cleaned_data)
                notice = spec.done if isinstance(spec.done, str) else spec.done(result)
            except services.ChangedMeanwhile as exc:
                error, changed = exc.message, True
            except DomainError as exc:
                error = exc.message
                if exc.field in form.fields and not isinstance(
                    form.fields[exc.field].widget, forms.HiddenInput
                ):
                    form.add_error(exc.field, exc.message)
            else:
                return _after(request, session, notice)
        else:
            error = "Please correct the highlighted fields."
    status = 409 if changed else 400
    if not request.user.can(Permission.SESSION_VIEW):  # the front desk checks in from the board
        messages.error(request, error)
        return redirect(f"{reverse('infusions:board')}?location={session.location.code}")
    return _render_live(
        request,
        selectors.session_get(user=request.user, external_id=str(session.external_id)),
        status=status,
        failed=spec.form,
        bound=form,
        error=error,
        changed=changed,
    )


@login_required
def bag_check(request: AuthedRequest, external_id: str) -> HttpResponse:
    """The independent check of the bag on its own page: the second clinician types the vial strength and the
    volume drawn they read, on a page that never shows the order's numbers (the session page does)."""
    require(request.user, Permission.SESSION_RUN)
    session = _session(request, external_id, Permission.SESSION_RUN)
    with timezone.override(_zone(session)):
        order = selectors.signed_order(session)
        problem, error, status = "", "", 200
        if session.state not in (SessionState.CHECKED_IN, SessionState.PRECHECKS_DONE):
            problem = (
                f"This session is {session.get_state_display().lower()}: the bag is checked before the start."
            )
        elif order is None or order.vtbi_ml is None:
            problem = "There is no signed order with a bag to check yet."
        elif order.created_by_id == request.user.pk:
            problem = (
                "You calculated this order and prepared the bag: a second clinician must check it. "
                "Ask a colleague to open this page."
            )
        form = f.VialCheckForm(
            request.POST if request.method == "POST" else None, initial={"expected_version": session.version}
        )
        if request.method == "POST" and not problem:
            if form.is_valid():
                try:
                    check = services.vial_check_record(
                        user=request.user,
                        session=session,
                        expected_version=form.cleaned_data["expected_version"],
                        vial_mg_per_ml=form.cleaned_data["vial_mg_per_ml"],
                        drawn_ml=form.cleaned_data["drawn_ml"],
                    )
                except DomainError as exc:
                    error = exc.message
                else:
                    (messages.success if check.match else messages.error)(request, _vial_checked(check))
                    return redirect("infusions:session", external_id=session.external_id)
            else:
                error = "Please correct the highlighted fields."
            status = 400
        return render(
            request,
            "infusions/bag_check.html",
            {"session": session, "form": form, "problem": problem, "error": error},
            status=status,
        )


def _after(request: AuthedRequest, session: InfusionSession, notice: str) -> HttpResponse:
    if not request.user.can(Permission.SESSION_VIEW):
        messages.success(request, notice)
        return redirect(f"{reverse('infusions:board')}?location={session.location.code}")
    if request.headers.get("HX-Request"):
        return _render_live(
            request,
            selectors.session_get(user=request.user, external_id=str(session.external_id)),
            notice=notice,
        )
    messages.success(request, notice)
    return redirect("infusions:session", external_id=session.external_id)
