"""The live session page on the nurse's tablet: the page, the part of it that is polled, and its chart; the
helpers that find a session or a patient for the session pages.

The actions the page posts are ``infusions.action_views``; the note, the printables (MAR, discharge
instructions) and the day board are ``infusions.record_views``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import User
from ketaclinic.audit.services import audit_read
from ketaclinic.consent.selectors import ConsentOnFile
from ketaclinic.core.access import Permission, Role
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.core.protocols.formulary import ROUTE_LABELS
from ketaclinic.core.protocols.monitoring import ChecklistKind
from ketaclinic.infusions import forms as f
from ketaclinic.infusions import selectors, services
from ketaclinic.infusions.charts import session_chart_svg_cached
from ketaclinic.infusions.models import InfusionSession, SessionNote
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get

LOCATION_UNKNOWN = "No location {value!r}."
STATES = {s.name: s.value for s in SessionState}  # templates call classes; a dict they only read
ACTION_LABELS = {
    "pause": "pause the infusion",
    "reduce_rate": "reduce the rate",
    "call_prescriber": "call the prescriber",
    "stop": "stop the infusion",
    "observe": "observe closely",
}
PADSS_LABELS = {
    "vital_signs": "Vital signs (against baseline)",
    "activity_mental_status": "Activity and mental status",
    "pain_nausea_vomiting": "Pain, nausea and vomiting (the worse)",
    "bleeding": "Surgical bleeding (not applicable)",
    "intake_output": "Intake and output",
}


def _session(
    request: AuthedRequest, external_id: str, permission: Permission = Permission.SESSION_VIEW
) -> InfusionSession:
    try:
        return selectors.session_get(user=request.user, external_id=str(external_id), permission=permission)
    except InfusionSession.DoesNotExist:
        raise Http404("No such session.") from None


def _patient(request: AuthedRequest, external_id: str, permission: Permission) -> Patient:
    try:
        return patient_get(user=request.user, external_id=str(external_id), permission=permission)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None


def _zone(session: InfusionSession) -> ZoneInfo:
    return ZoneInfo(session.location.timezone)


# --- the live page --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistRow:
    code: str
    question: str
    kind: str
    answer_form: str  # yes_no, pregnancy, weight, number or reading (ChecklistKind.answer_form)
    status: str
    detail: str
    may_override: bool
    answer: str
    value: Any
    override_reason: str
    overridden_by: Any
    consent: ConsentOnFile | None = None  # the consent item: the patient's consent on file, as checked


def _checklist_rows(session: InfusionSession, detail: selectors.SessionDetail) -> list[ChecklistRow]:
    if session.protocol_version.parsed.checklist is None or detail.checklist is None:
        return []
    results = {r.code: r for r in detail.checklist.items}
    responses = {r.code: r for r in session.checklist_responses.select_related("overridden_by")}
    rows = []
    for item in selectors.session_checklist(session).items:
        r, resp = results.get(item.code), responses.get(item.code)
        consent = item.kind is ChecklistKind.CONSENT
        rows.append(
            ChecklistRow(
                code=item.code,
                question=item.question,
                kind=item.kind.value,
                answer_form=item.kind.answer_form,
                status=r.status.value if r else "missing",
                detail=r.detail if r and not consent else "",
                may_override=item.prescriber_may_override and not consent,
                answer=resp.answer if resp else "",
                value=resp.value if resp else None,
                override_reason=resp.override_reason if resp else "",
                overridden_by=resp.overridden_by if resp else None,
                consent=selectors.session_consent(session) if consent else None,
            )
        )
    return rows


def _prescribers(session: InfusionSession) -> Any:
    return User.objects.filter(
        role=Role.PRESCRIBER.value, is_active=True, locations=session.location
    ).order_by("last_name")


def _blank_forms(request: HttpRequest, session: InfusionSession) -> dict[str, forms.Form]:
    v = {"expected_version": session.version}
    return {
        "check_in": f.AtForm(initial=v),
        "start": f.AtForm(initial=v),
        "vial_check": f.VialCheckForm(initial=v),
        "pause": f.ReasonAtForm(initial=v),
        "resume": f.ReasonAtForm(initial=v),
        "stop": f.ReasonAtForm(initial=v),
        "cancel": f.CancelForm(initial=v),
        "checklist": f.ChecklistAnswerForm(initial=v),
        "checklist_override": f.ChecklistOverrideForm(initial=v),
        "order_create": f.OrderCreateForm(initial=v),
        "order_sign": f.OrderSignForm(initial=v),
        "rate": f.RateChangeForm(initial=v, prescribers=_prescribers(session)),
        "vitals": f.VitalsForm(),
        "adverse": f.AdverseEventForm(initial=v),
        "administration": f.AdministrationForm(
            initial=v, medications=_rescue_meds(session), adverse_events=session.adverse_events.all()
        ),
        "discharge_assess": f.DischargeAssessForm(initial=v),
        "alert_ack": f.AlertAckForm(),
        "adverse_review": f.AdverseReviewForm(),
    }


def _rescue_meds(session: InfusionSession) -> tuple[Any, ...]:
    """The medications a nurse may record in this session: the protocol formulary's as-needed drugs (ketamine
    and esketamine are given only as their signed order says)."""
    return session.protocol_version.parsed.formulary.as_needed


def _live_context(request: AuthedRequest, session: InfusionSession) -> dict[str, Any]:
    detail = selectors.session_detail(user=request.user, session=session)
    status = _status_context(request, session, detail)
    doc = session.protocol_version.parsed
    return {
        **status,
        "S": STATES,
        "doc": doc,
        "checklist": _checklist_rows(session, detail),
        "forms": _blank_forms(request, session),
        "adverse_events": (adverse := list(session.adverse_events.select_related("reviewed_by"))),
        "log": selectors.session_log(
            detail.rate_events,
            list(session.alerts.select_related("acknowledged_by")),
            adverse,
            list(session.administrations.by_hand().select_related("created_by")),
        ),
        "formulary": [
            {**m.model_dump(), "route_words": ", ".join(ROUTE_LABELS.get(r, r) for r in m.routes)}
            for m in _rescue_meds(session)
        ],
        "note": SessionNote.objects.filter(session=session).first(),
        "padss_rows": [(PADSS_LABELS.get(k, k), v) for k, v in detail.discharge_assessment.scores.items()]
        if detail.discharge_assessment
        else [],
        "chart_key": f"{session.version}-{len(detail.vitals)}",
        "do": selectors.session_actions(request.user, session),
        "can": {
            "run": request.user.can(Permission.SESSION_RUN),
            "sign": request.user.can(Permission.ORDER_SIGN),
            "note_sign": request.user.can(Permission.NOTE_SIGN),
            "mar": request.user.can(Permission.MAR_VIEW),
        },
    }


def _render_live(
    request: AuthedRequest,
    session: InfusionSession,
    *,
    status: int = 200,
    failed: str = "",
    bound: forms.Form | None = None,
    error: str = "",
    changed: bool = False,
    notice: str = "",
) -> HttpResponse:
    with timezone.override(_zone(session)):
        ctx = _live_context(request, session)
        if bound is not None:
            ctx["forms"][failed] = bound
        for key, form in ctx["forms"].items():  # one page holds many forms: ids unique per form
            form.auto_id = f"{key.replace('_', '-')}-%s"
        ctx.update(
            {
                "failed": failed,
                "failed_form": bound,
                "error": error,
                "changed": changed,
                "notice": notice,
                "action_row": ("check_in", "start", "pause", "resume", "stop", "complete", "discharge"),
            }
        )
        response = render(request, "infusions/session.html", ctx, status=status)
    if request.headers.get(
        "HX-Request"
    ):  # the address bar keeps the session's page, never an action's POST address
        response["HX-Replace-Url"] = reverse("infusions:session", kwargs={"external_id": session.external_id})
    return response


@login_required
@require_GET
def session_page(request: AuthedRequest, external_id: str) -> HttpResponse:
    return _render_live(request, _session(request, external_id))


@login_required
@require_GET
def session_status(request: AuthedRequest, external_id: str) -> HttpResponse:
    """The part of the live page that changes by itself (overdue vitals, alerts, elapsed time): polled."""
    try:
        session = selectors.session_polled_get(user=request.user, external_id=str(external_id))
    except InfusionSession.DoesNotExist:
        raise Http404("No such session.") from None
    with timezone.override(_zone(session)):
        return render(request, "infusions/_status.html", _status_context(request, session))


def _status_context(
    request: AuthedRequest, session: InfusionSession, detail: selectors.SessionDetail | None = None
) -> dict[str, Any]:
    """What the status box shows, and only that: the poll runs every 15 s on every open live page, so it
    builds neither the whole page's context (the checklist, forms, formulary, medications...) nor reads
    rows that have not changed since the last poll (``selectors.session_status``). The whole page gives
    its ``detail``."""
    if detail is None:
        polled = selectors.session_status(user=request.user, session=session)
        d: selectors.SessionDetail | selectors.SessionStatus = polled
        flags = polled.safety_flags
    else:
        d = detail
        flags = list(
            SafetyFlag.objects.filter(patient=session.patient, status=SafetyFlag.Status.OPEN).order_by(
                "raised_at"
            )
        )
    overdue = d.vitals_due is not None and d.vitals_due.overdue
    if overdue and not any(a.rule == services.OVERDUE_RULE for a in d.open_alerts):  # one open at a time
        raised = services.vitals_overdue_alert_raise(session=session, due=d.vitals_due)
        if raised is not None:
            d.open_alerts.append(raised)
    audit_read(session.patient, "infusion session")
    doc = session.protocol_version.parsed
    thresholds = {t.code: t for t in (doc.monitoring.thresholds if doc.monitoring else ())}
    return {
        "session": session,
        "d": d,
        "state": session.state_enum,
        "open_alerts": [
            (a, thresholds.get(a.rule), ACTION_LABELS.get(a.suggested_action, a.suggested_action))
            for a in d.open_alerts
        ],
        "safety_flags": flags,
        "observation_min": doc.discharge.observation_min if doc.discharge else None,
        "can": {"run": request.user.can(Permission.SESSION_RUN)},
    }


@login_required
@require_GET
def session_chart(request: AuthedRequest, external_id: str) -> HttpResponse:
    session = _session(request, external_id)
    audit_read(session.patient, "vital signs chart")
    svg = session_chart_svg_cached(
        selectors.chart_version(session),
        lambda: (selectors.vitals_chart(user=request.user, session=session), list(session.rate_events.all())),
        tz=_zone(session),
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "no-store, private"
    return response
