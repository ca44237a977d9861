"""Infusion session actions: one function per thing a person does, transactional, audited, permission-checked.

Every action that changes a session takes ``expected_version`` (the ``version`` the person's page showed)
and refuses with :data:`CHANGED_MEANWHILE` when someone else changed the session in between; posting
vital signs does not (readings are append-only and idempotent by ``client_id``). State changes are decided
by ``ketaclinic.core.infusion.state``; rules on vitals, checklist, dose and discharge live in the core too.
Actions that record something that already happened take ``at`` (default now): never in the future,
never before the previous event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import can_access_patient, patient_for, require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.consent.selectors import ConsentOnFile, consent_on_file
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import (
    CONSENT_ITEM,
    ChecklistResult,
    ItemAnswer,
    answer_check,
    checklist_evaluate,
    item_get,
    override_check,
)
from ketaclinic.core.infusion.delivery import Delivery, RateEventKind, RatePoint, delivery
from ketaclinic.core.infusion.discharge import discharge_assess as core_discharge_assess
from ketaclinic.core.infusion.medications import medication_get
from ketaclinic.core.infusion.state import Guards, SessionAction, SessionState, transition
from ketaclinic.core.infusion.vitals import (
    Sedation,
    VitalReading,
    alerts_for,
    baseline_problems,
    reading_check,
)
from ketaclinic.core.medications import interactions_for
from ketaclinic.core.pharmacology.dosing import (
    MIN_OVERRIDE_REASON_CHARS,
    NO_WARNINGS_TO_OVERRIDE,
    OVERRIDE_TOO_SHORT,
    DoseCalculation,
    dose_calculate,
)
from ketaclinic.core.pharmacology.models import pk_model_get
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen
from ketaclinic.core.pharmacology.simulation import simulate
from ketaclinic.core.pharmacology.units import Kind, quantity_parse
from ketaclinic.core.protocols import ProtocolDocument
from ketaclinic.core.protocols.monitoring import (
    ChecklistKind,
    ChecklistSection,
    DischargeSection,
    MonitoringSection,
)
from ketaclinic.infusions.models import (
    AdverseEvent,
    ChecklistItemResponse,
    DischargeAssessment,
    InfusionOrder,
    InfusionSession,
    MedicationAdministration,
    NoteAddendum,
    RateEvent,
    SessionNote,
    VitalAlert,
    VitalSigns,
)
from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.patients.services import measurement_record
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.web.models_base import clean_or_refuse

CHANGED_MEANWHILE = "This session was changed meanwhile by {who} at {when}; reload it and try again."
NO_SESSION_SECTIONS = ("Protocol {value} has no monitoring, checklist and discharge sections; "
                       "load a version that has them before running a session under it.")
CHAIR_OTHER_LOCATION = "Chair {value} is not at {location}."
HOME_AND_CHAIR = "A home infusion has no chair."
PLANNED_OTHER_PATIENT = "That planned infusion belongs to another patient."
PLANNED_HAS_SESSION = "That planned infusion already has a session."
CONSENT_REQUIRED = "The patient's consent is not on file ({problem}); collect the signature before the infusion."
PLANNED_ALREADY_CHECKED_IN = ("{patient} was already checked in for {label} at {when} (by {who}); "
                              "open the session from the board.")
PLANNED_PLAN_NOT_ACTIVE = "{label} belongs to a plan that is {status}; only a signed, active plan's infusions are given."
PLANNED_NOT_PLANNED = "{label} is {status}{reason}; it cannot be checked in."
PLANNED_NOT_TODAY = "{label} is planned on {day}, not today ({today}); move it to today first."
PLANNED_PATIENT_ELSEWHERE = ("This patient is cared for at {home}, which you do not work at; "
                             "the staff of {home} check them in.")
LOCATION_NOT_ALLOWED = "You do not work at {value}."
IN_FUTURE = "{what} at {value} is in the future."
BEFORE_PREVIOUS = "{what} at {value} is before the previous event of this session ({previous})."
BEFORE_CHECK_IN = "A reading taken at {value} is before the patient checked in ({check_in})."
NOT_CHECKED_IN = "Vital signs can be recorded once the patient has checked in."
SESSION_CLOSED = "This session is {state}; nothing more can be recorded on it."
CHECKLIST_CLOSED = "The checklist can be changed only before the infusion starts (the session is {state})."
CHECKLIST_FAILED = "The pre-infusion checklist has not passed: {items}."
CLIENT_ID_OTHER_SESSION = "Reading id {value} was already used for another session."
CLIENT_ID_REQUIRED = "A reading needs a client id (a UUID the device or page generates) so a retry never duplicates it."
NO_WEIGHT_TODAY = "Record today's weight on the checklist before calculating the order."
ORDER_ALREADY_SIGNED = "This session already has an order signed by {who} at {when}."
ORDER_NOT_CURRENT = "This order was replaced by a newer calculation; sign the current one."
ORDER_OTHER_SESSION = "That order belongs to another session."
ORDER_WRONG_STATE = "An order can be calculated or signed only before the infusion starts (the session is {state})."
OVERRIDE_REQUIRED = "This order goes beyond a soft limit ({warnings}); a prescriber must give an override reason to sign it."
NO_SIGNED_ORDER = "No signed order for this session."
RATE_NOT_POSITIVE = "A rate must be above 0 mg/h; to stop the pump use pause or stop."
RATE_ABOVE_MAX = "Rate {value:g} mg/h is above the protocol's maximum of {high:g} mg/h."
RATE_ABOVE_PUMP = "Rate {value:.1f} mL/h is above the pump's maximum of {high:g} mL/h."
NO_PUMP = "This session's order has no pump program ({route}); rates cannot be changed."
REASON_REQUIRED = "A reason is required."
SIGNER_NOT_PRESCRIBER = "{who} may not order a titration: only a prescriber signs rate changes."
SIGNER_OTHER_LOCATION = "{who} does not work at this patient's location."
ALERT_ACKNOWLEDGED = "This alert was already acknowledged by {who} at {when}."
OPEN_ALERTS = "Acknowledge the open alerts first: {rules}."
ADVERSE_KIND_UNKNOWN = "Adverse event {value!r} is unknown: allowed are {allowed}."
SEVERITY_UNKNOWN = "Severity {value!r} is unknown: allowed are mild, moderate, severe."
OTHER_NEEDS_NOTES = "Describe an adverse event of kind other in the notes."
ROUTE_UNKNOWN = "Route {value!r} is unknown: allowed are {allowed}."
ADVERSE_OTHER_SESSION = "That adverse event belongs to another session."
NOT_STARTED = "The infusion has not started."
NOT_RECOVERING = "A discharge assessment is taken while the patient recovers (the session is {state})."
NOTE_WRONG_STATE = "The note is written once the patient is discharged (the session is {state})."
NOTE_ALREADY_SIGNED = "The note was signed by {who} at {when}; add an addendum instead."
NOTE_MISSING = "No note has been generated for this session yet."
NOTE_NOT_SIGNED = "Addenda are for signed notes; the note is not signed yet (regenerate it instead)."
CANCEL_REASON_REQUIRED = "Say why the session is cancelled."
NO_PROTOCOL = "A session needs a protocol version (or a planned infusion of a plan)."
NO_DOSING = "Protocol {value} has no dosing section."
RATE_WHILE_RUNNING = "The rate can be changed while the infusion runs (the session is {state})."
ADDENDUM_TEXT_REQUIRED = "An addendum needs its text."
ACTION_AFTER_STOP_SKEW = timedelta(minutes=1)  # clocks of tablets and gateways may be a little ahead


class ChangedMeanwhile(ValidationError):
    """Optimistic concurrency: the session changed since the person loaded it."""


def _doc(session: InfusionSession) -> ProtocolDocument:
    doc = session.protocol_version.parsed
    if doc.monitoring is None or doc.checklist is None or doc.discharge is None:
        raise ValidationError(NO_SESSION_SECTIONS.format(value=str(session.protocol_version)), field="protocol",
                              value=str(session.protocol_version))
    return doc


def _sections(session: InfusionSession) -> tuple[MonitoringSection, ChecklistSection, DischargeSection]:
    doc = _doc(session)
    if doc.monitoring is None or doc.checklist is None or doc.discharge is None:  # _doc refused already
        raise ValidationError(NO_SESSION_SECTIONS.format(value=doc.id), field="protocol", value=doc.id)
    return doc.monitoring, doc.checklist, doc.discharge


def _lock(user: User, session: InfusionSession, permission: Permission, expected_version: int | None) -> InfusionSession:
    """Re-read the session FOR UPDATE, check the permission and the version the person saw."""
    require(user, permission)
    locked = (InfusionSession.objects.select_for_update(of=("self",))
              .select_related("patient", "protocol_version", "location", "updated_by").get(pk=session.pk))
    patient_for(user, locked.patient, permission)
    if expected_version is not None and locked.version != expected_version:
        when = timezone.localtime(locked.updated_at).strftime("%H:%M:%S")
        raise ChangedMeanwhile(CHANGED_MEANWHILE.format(who=locked.updated_by or "someone", when=when),
                               field="expected_version", value=expected_version)
    return locked


def _save(session: InfusionSession, user: User, *fields: str) -> InfusionSession:
    session.version += 1
    session.updated_by = user
    session.save(update_fields=["version", "updated_by", "updated_at", *fields])
    return session


def _when(at: datetime | None, what: str, *, not_before: datetime | None = None) -> datetime:
    now = timezone.now()
    at = at or now
    if at > now + ACTION_AFTER_STOP_SKEW:
        raise ValidationError(IN_FUTURE.format(what=what, value=at.isoformat(timespec="minutes")), field="at", value=at)
    if not_before is not None and at < not_before:
        raise ValidationError(BEFORE_PREVIOUS.format(what=what, value=at.isoformat(timespec="minutes"),
                                                     previous=not_before.isoformat(timespec="minutes")),
                              field="at", value=at)
    return at


def _audit(user: User, session: InfusionSession, summary: str, action: str = AuditEntry.Action.UPDATE,
           **detail: Any) -> None:
    audit_record(action=action, actor=user, patient=session.patient, summary=summary,
                 detail={"session": str(session.external_id), "version": session.version, **detail})


def _move(session: InfusionSession, action: SessionAction, guards: Guards | None = None) -> None:
    session.state = transition(session.state_enum, action, guards).value


# --- scheduling -------------------------------------------------------------------------------------


@transaction.atomic
def session_schedule(
    *,
    user: User,
    patient: Patient,
    scheduled_start: datetime,
    location: Location | None = None,
    chair: Chair | None = None,
    at_home: bool = False,
    planned_infusion: PlannedInfusion | None = None,
    protocol_version: ProtocolVersion | None = None,
) -> InfusionSession:
    """Open a session for a day's infusion (from a planned infusion of the plan, or directly)."""
    patient_for(user, patient, Permission.SCHEDULE_MANAGE)
    if planned_infusion is not None:
        planned_infusion = _planned_usable(planned_infusion, patient)
        protocol_version = protocol_version or planned_infusion.plan.protocol_version
        location = location or planned_infusion.location
        chair = chair or planned_infusion.chair
        at_home = at_home or planned_infusion.at_home
    if protocol_version is None:
        raise ValidationError(NO_PROTOCOL, field="protocol", value=None)
    location = location or patient.location
    if location.pk not in set(user.locations.values_list("pk", flat=True)):
        raise ValidationError(LOCATION_NOT_ALLOWED.format(value=location), field="location", value=location.code)
    if chair is not None and chair.location_id != location.pk:
        raise ValidationError(CHAIR_OTHER_LOCATION.format(value=chair.name, location=location), field="chair", value=chair.name)
    if at_home and chair is not None:
        raise ValidationError(HOME_AND_CHAIR, field="chair", value=chair.name)
    session = InfusionSession(patient=patient, planned_infusion=planned_infusion, protocol_version=protocol_version,
                              location=location, chair=chair, at_home=at_home, scheduled_start=scheduled_start,
                              created_by=user, updated_by=user)
    _doc(session)
    clean_or_refuse(session, exclude=["planned_infusion"])  # checked above; the database has the last word
    try:
        with transaction.atomic():  # a savepoint: the constraint refuses a second session that is not cancelled
            session.save()
    except IntegrityError:
        if planned_infusion is not None and (InfusionSession.objects.filter(planned_infusion=planned_infusion)
                                             .exclude(state=SessionState.CANCELLED.value).exists()):
            raise ValidationError(PLANNED_HAS_SESSION, field="planned_infusion",
                                  value=str(planned_infusion.external_id)) from None
        raise
    _audit(user, session, f"Scheduled infusion session {scheduled_start:%Y-%m-%d %H:%M} ({protocol_version})"
           + (f" from {planned_infusion.label} of the plan" if planned_infusion is not None else ""),
           AuditEntry.Action.CREATE,
           **({"planned_infusion": str(planned_infusion.external_id)} if planned_infusion is not None else {}))
    return session


def _planned_usable(planned: PlannedInfusion, patient: Patient) -> PlannedInfusion:
    """The planned slot, locked, if a session may be made from it: the patient's, of an active (signed)
    plan, still planned (not cancelled or done), without a session yet that is not cancelled (a mistaken
    check-in that was cancelled gives the slot back)."""
    planned = (PlannedInfusion.objects.select_for_update(of=("self",))
               .select_related("plan", "location", "chair").get(pk=planned.pk))
    value = str(planned.external_id)
    if planned.plan.patient_id != patient.id:
        raise ValidationError(PLANNED_OTHER_PATIENT, field="planned_infusion", value=value)
    existing = (InfusionSession.objects.filter(planned_infusion=planned).exclude(state=SessionState.CANCELLED.value)
                .select_related("created_by", "location").first())
    if existing is not None:
        if existing.checked_in_at is not None:
            raise ValidationError(PLANNED_ALREADY_CHECKED_IN.format(
                patient=patient.display_name, label=planned.label, who=existing.created_by or "someone",
                when=timezone.localtime(existing.checked_in_at, ZoneInfo(existing.location.timezone)).strftime("%H:%M")),
                field="planned_infusion", value=value)
        raise ValidationError(PLANNED_HAS_SESSION, field="planned_infusion", value=value)
    if planned.plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(PLANNED_PLAN_NOT_ACTIVE.format(label=planned.label,
                                                             status=planned.plan.get_status_display().lower()),
                              field="plan", value=planned.plan.status)
    if planned.status != PlannedInfusion.Status.PLANNED:
        reason = f" ({planned.cancel_reason})" if planned.cancel_reason else ""
        raise ValidationError(PLANNED_NOT_PLANNED.format(label=planned.label, status=planned.get_status_display().lower(),
                                                         reason=reason), field="status", value=planned.status)
    return planned


@transaction.atomic
def session_check_in(*, user: User, session: InfusionSession, expected_version: int,
                     at: datetime | None = None) -> InfusionSession:
    session = _lock(user, session, Permission.SCHEDULE_MANAGE, expected_version)
    _move(session, SessionAction.CHECK_IN)
    session.checked_in_at = _when(at, "Check-in")
    _save(session, user, "state", "checked_in_at")
    _audit(user, session, "Checked in for the infusion")
    return session


@transaction.atomic
def session_check_in_planned(*, user: User, planned_infusion: PlannedInfusion,
                             at: datetime | None = None) -> InfusionSession:
    """The patient arrives for today's planned infusion: open the session from the slot (its plan's protocol
    version, location, chair or home visit, time) and check the patient in, in one transaction.

    Refused, with nothing saved, when the patient is cared for at a location the user does not work at, the plan
    is not signed and active, the slot is cancelled or done, is not today, or already has a session that is not
    cancelled (two people pressing "Check in" at once: the slot's row lock and the partial unique constraint let
    only one through)."""
    require(user, Permission.SCHEDULE_MANAGE)
    planned = PlannedInfusion.objects.select_related("plan__patient__location", "location").get(pk=planned_infusion.pk)
    patient = planned.plan.patient
    if not can_access_patient(user, patient):
        raise ValidationError(PLANNED_PATIENT_ELSEWHERE.format(home=patient.location.name),
                              field="patient", value=str(patient.external_id))
    tz = ZoneInfo(planned.location.timezone)
    today = timezone.now().astimezone(tz).date()
    if planned.scheduled_start.astimezone(tz).date() != today:
        raise ValidationError(PLANNED_NOT_TODAY.format(label=planned.label, day=planned.scheduled_start.astimezone(tz).date(),
                                                       today=today), field="scheduled_start", value=planned.scheduled_start)
    session = session_schedule(user=user, patient=patient, scheduled_start=planned.scheduled_start,
                               planned_infusion=planned)
    return session_check_in(user=user, session=session, expected_version=session.version, at=at)


@transaction.atomic
def session_cancel(*, user: User, session: InfusionSession, expected_version: int, reason: str) -> InfusionSession:
    session = _lock(user, session, Permission.SCHEDULE_MANAGE, expected_version)
    if not reason.strip():
        raise ValidationError(CANCEL_REASON_REQUIRED, field="reason", value=reason)
    _move(session, SessionAction.CANCEL)
    session.cancelled_at, session.cancel_reason = timezone.now(), reason.strip()[:200]
    _save(session, user, "state", "cancelled_at", "cancel_reason")
    _audit(user, session, f"Cancelled the infusion session: {session.cancel_reason}")
    return session


# --- checklist ---------------------------------------------------------------------------------------


def baseline_reading(session: InfusionSession) -> VitalReading | None:
    """The last reading before the infusion started (the baseline), as the core's value."""
    v = session.vitals.filter(phase=VitalSigns.Phase.BASELINE).order_by("-taken_at", "-id").first()
    return None if v is None else reading_of(v)


def reading_of(v: VitalSigns) -> VitalReading:
    return VitalReading(
        systolic_mmhg=v.systolic_mmhg, diastolic_mmhg=v.diastolic_mmhg, heart_rate_bpm=v.heart_rate_bpm,
        spo2_percent=v.spo2_percent, respiratory_rate_per_min=v.respiratory_rate_per_min,
        sedation=Sedation.parse(v.sedation) if v.sedation else None,
    )


def session_consent(session: InfusionSession) -> ConsentOnFile:
    """The patient's consent the checklist's consent item is checked against (never the nurse's word alone):
    now until the infusion starts (the start re-checks it); once started, as it stood when the checklist was
    completed (a real clock time; ``started_at`` may be backdated by the nurse)."""
    started = session.started_at is not None and session.prechecks_done_at is not None
    return consent_on_file(session.patient, at=session.prechecks_done_at if started else timezone.now())


def _consent_problem(consent: ConsentOnFile) -> str | None:
    return None if consent.ok else (consent.message if consent.missing else f"{consent.label}: no consent document is loaded")


def _consent_required(session: InfusionSession) -> None:
    """Refuse unless the patient's consent is on file now, whatever the protocol's checklist says: a checklist
    without the consent item must not let the pre-checks pass or an infusion start without consent."""
    problem = _consent_problem(consent_on_file(session.patient, at=timezone.now()))
    if problem is not None:
        raise ValidationError(CONSENT_REQUIRED.format(problem=problem), field="consent", value=problem)


def checklist_result(session: InfusionSession) -> ChecklistResult:
    """The checklist as it stands (answers, overrides, the baseline reading and the consent on file), evaluated by the core."""
    monitoring, checklist, _ = _sections(session)
    answers = {r.code: ItemAnswer(r.code, r.answer, None if r.value is None else float(r.value), r.override_reason)
               for r in session.checklist_responses.all()}
    return checklist_evaluate(checklist, answers, sex=session.patient.sex_at_birth,
                              baseline_problems=baseline_problems(baseline_reading(session), monitoring),
                              consent_problem=_consent_problem(session_consent(session)))


def interacting_medications(patient: Patient) -> list[str]:
    """The patient's current medications that interact with ketamine, with the advice (``core.medications``)."""
    return [f"{m.name}: {i.advice}" for m in patient.medications.filter(stopped_at__isnull=True)
            for i in interactions_for(m.name)]


def _checklist_open(session: InfusionSession) -> None:
    if session.state not in (SessionState.CHECKED_IN, SessionState.PRECHECKS_DONE):
        raise ValidationError(CHECKLIST_CLOSED.format(state=session.get_state_display().lower()),
                              field="state", value=session.state)


def _reopen_if_failing(session: InfusionSession) -> None:
    if session.state == SessionState.PRECHECKS_DONE and not checklist_result(session).passed:
        _move(session, SessionAction.PRECHECKS_REOPEN)
        session.prechecks_done_at = None


@transaction.atomic
def checklist_record(*, user: User, session: InfusionSession, expected_version: int, code: str, answer: str = "",
                     value: Any = None, unit: str | None = None) -> ChecklistItemResponse:
    """Answer one item (again: the new answer replaces the old, both audited). Weight needs its unit."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _checklist_open(session)
    item = item_get(_sections(session)[1], code)
    number: float | None = None
    if item.kind is ChecklistKind.WEIGHT:
        m = measurement_record(user=user, patient=session.patient, kind="weight", value=value, unit=unit)
        number = float(m.value_si)
        session.weight_kg = m.value_si
    elif item.kind is ChecklistKind.NUMBER:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    consent = _consent_problem(session_consent(session)) if code == CONSENT_ITEM else None
    checked = answer_check(item, answer.strip().lower(), number, consent_problem=consent)
    detail = "; ".join(interacting_medications(session.patient)) if code == "medications_reviewed" else ""
    if item.kind is ChecklistKind.NUMBER and item.code == "phq9_today" and checked.value is not None:
        session.phq9_total = int(checked.value)
    response, _ = ChecklistItemResponse.objects.update_or_create(
        session=session, code=code,
        defaults={"answer": checked.answer, "value": None if checked.value is None else Decimal(str(checked.value)),
                  "detail": detail[:300], "recorded_by": user, "recorded_at": timezone.now(), "override_reason": "",
                  "overridden_by": None,
                  "overridden_at": None},
    )
    _reopen_if_failing(session)
    _save(session, user, "weight_kg", "phq9_total", "state", "prechecks_done_at")
    _audit(user, session, f"Checklist: {item.question} — {checked.answer or checked.value}",
           item=code, answer=checked.answer, value=checked.value)
    return response


@transaction.atomic
def checklist_override(*, user: User, session: InfusionSession, expected_version: int, code: str,
                       reason: str) -> ChecklistItemResponse:
    """A prescriber overrides a failed (or unanswerable) item with a reason; some items cannot be overridden."""
    session = _lock(user, session, Permission.ORDER_SIGN, expected_version)
    _checklist_open(session)
    item = item_get(_sections(session)[1], code)
    text = override_check(item, reason, consent_problem=_consent_problem(session_consent(session))
                          if code == CONSENT_ITEM else None)
    now = timezone.now()
    response, _ = ChecklistItemResponse.objects.get_or_create(
        session=session, code=code, defaults={"recorded_by": user, "recorded_at": now})
    response.override_reason, response.overridden_by, response.overridden_at = text, user, now
    response.save()
    _save(session, user)
    _audit(user, session, f"Overrode checklist item {item.question}: {text}", item=code, reason=text)
    return response


@transaction.atomic
def checklist_complete(*, user: User, session: InfusionSession, expected_version: int) -> InfusionSession:
    """Mark the pre-checks done; refused while any item fails or is missing (naming them)."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    result = checklist_result(session)
    if not result.passed:
        raise ValidationError(CHECKLIST_FAILED.format(items=", ".join(result.failures)), field="checklist",
                              value=list(result.failures))
    _consent_required(session)  # even when the protocol's checklist has no consent item
    _move(session, SessionAction.PRECHECKS_PASS)
    session.prechecks_done_at = timezone.now()
    _save(session, user, "state", "prechecks_done_at")
    _audit(user, session, "Pre-infusion checklist passed" + (
        f" (overridden: {', '.join(result.overridden)})" if result.overridden else ""))
    return session


# --- the order ---------------------------------------------------------------------------------------


def order_prediction(model_name: str | None, calc: DoseCalculation, *, step_min: float = 5.0) -> dict[str, Any] | None:
    """Predicted plasma concentration for the pump program (the protocol's PK model): summary and curve."""
    if model_name is None or calc.pump is None or calc.duration_min is None:
        return None
    model = pk_model_get(model_name)
    regimen = Regimen.of([Infusion(calc.pump.run_time_min, rate_mg_per_min=calc.pump.delivered_rate_mg_per_h / 60.0)])
    until = max(180.0, calc.pump.run_time_min + 90.0)
    sim = simulate(model, calc.dosing_weight.actual_kg, regimen, until_min=until, step_min=step_min)
    s = sim.summary
    return {"model": model.name, "unit": "ng/mL", "cmax_ng_per_ml": s.cmax_ng_per_ml, "tmax_min": s.tmax_min,
            "plasma_at_end_of_infusion_ng_per_ml": s.plasma_at_end_of_infusion_ng_per_ml,
            "note": f"model prediction ({model.label}, {model.parameter_source}) at actual body weight",
            "curve": [[round(float(t), 2), round(float(c), 2)] for t, c in zip(sim.t_min, sim.plasma_ng_per_ml, strict=True)]}


def current_order(session: InfusionSession) -> InfusionOrder | None:
    return session.orders.filter(superseded=False).order_by("-created_at", "-id").first()


@transaction.atomic
def order_create(*, user: User, session: InfusionSession, expected_version: int, dose: str | None = None,
                 duration_min: float | None = None, vial_mg_per_ml: float | None = None,
                 bag_ml: float | None = None) -> InfusionOrder:
    """Calculate the order from today's weight with the dose engine (hard limits refused for anyone)."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    if session.state not in (SessionState.CHECKED_IN, SessionState.PRECHECKS_DONE):
        raise ValidationError(ORDER_WRONG_STATE.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    signed = session.orders.filter(signed_at__isnull=False).select_related("signed_by").first()
    if signed is not None:
        raise ValidationError(ORDER_ALREADY_SIGNED.format(who=signed.signed_by, when=f"{timezone.localtime(signed.signed_at):%H:%M}"),
                              field="order", value=str(signed.external_id))
    if session.weight_kg is None:
        raise ValidationError(NO_WEIGHT_TODAY, field="weight", value=None)
    doc = _doc(session)
    if doc.dosing is None:
        raise ValidationError(NO_DOSING.format(value=doc.id), field="protocol", value=doc.id)
    height = session.patient.measurements.filter(kind=BodyMeasurement.Kind.HEIGHT).first()
    sex = session.patient.sex_at_birth if session.patient.sex_at_birth in ("male", "female") else None
    parsed = None if not dose else quantity_parse(dose, Kind.RATE if doc.dosing.basis.is_rate else Kind.DOSE, field="dose")
    calc = dose_calculate(doc.dosing, weight_kg=float(session.weight_kg),
                          height_cm=None if height is None else float(height.value_si), sex=sex, dose=parsed,
                          duration_min=duration_min, vial_mg_per_ml=vial_mg_per_ml, bag_ml=bag_ml,
                          require_height=True)
    session.orders.filter(signed_at__isnull=True, superseded=False).update(superseded=True)
    p = calc.pump
    order = InfusionOrder(
        session=session, weight_kg=session.weight_kg, dosing_weight_kg=calc.dosing_weight.kg,
        dosing_weight_basis=calc.dosing_weight.basis.value, dose_mg=calc.dose_mg, dose_mg_per_kg=calc.dose_mg_per_kg,
        route=calc.route.value, duration_min=calc.duration_min,
        rate_mg_per_h=None if p is None else p.delivered_rate_mg_per_h, rate_ml_per_h=None if p is None else p.rate_ml_per_h,
        concentration_mg_per_ml=None if p is None else p.concentration_mg_per_ml,
        calculation=calc.as_dict(), prediction=order_prediction(doc.dosing.pk_model, calc),
        warnings=[w.message for w in calc.warnings], created_by=user, updated_by=user,
    )
    clean_or_refuse(order)
    order.save()
    _save(session, user)
    _audit(user, session, f"Calculated infusion order: {calc.dose_mg:.1f} mg ({calc.dose_mg_per_kg:.3g} mg/kg)"
           + (f", {len(calc.warnings)} soft-limit warning(s)" if calc.warnings else ""), AuditEntry.Action.CREATE,
           order=str(order.external_id), warnings=order.warnings)
    return order


@transaction.atomic
def order_sign(*, user: User, order: InfusionOrder, expected_version: int, override_reason: str = "") -> InfusionOrder:
    """A prescriber signs; beyond a soft limit the override reason is required (hard limits never got here)."""
    session = _lock(user, order.session, Permission.ORDER_SIGN, expected_version)
    order = InfusionOrder.objects.select_for_update(of=("self",)).select_related("signed_by").get(pk=order.pk)
    if order.signed:
        raise ValidationError(ORDER_ALREADY_SIGNED.format(who=order.signed_by, when=f"{timezone.localtime(order.signed_at):%H:%M}"),
                              field="order", value=str(order.external_id))
    if order.superseded:
        raise ValidationError(ORDER_NOT_CURRENT, field="order", value=str(order.external_id))
    if session.state not in (SessionState.CHECKED_IN, SessionState.PRECHECKS_DONE):
        raise ValidationError(ORDER_WRONG_STATE.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    reason = (override_reason or "").strip()
    if order.warnings and not reason:
        raise ValidationError(OVERRIDE_REQUIRED.format(warnings="; ".join(order.warnings)), field="override_reason",
                              value=override_reason)
    if reason and not order.warnings:
        raise ValidationError(NO_WARNINGS_TO_OVERRIDE, field="override_reason", value=override_reason)
    if reason and len(reason) < MIN_OVERRIDE_REASON_CHARS:
        raise ValidationError(OVERRIDE_TOO_SHORT.format(low=MIN_OVERRIDE_REASON_CHARS, value=override_reason),
                              field="override_reason", value=override_reason)
    order.override_reason, order.signed_by, order.signed_at, order.updated_by = reason, user, timezone.now(), user
    order.save()
    _save(session, user)
    _audit(user, session, f"Signed infusion order {order.dose_mg:.1f} mg" + (f" (override: {reason})" if reason else ""),
           AuditEntry.Action.SIGN, order=str(order.external_id))
    return order


def signed_order(session: InfusionSession) -> InfusionOrder | None:
    return session.orders.filter(signed_at__isnull=False).first()


# --- the running infusion ----------------------------------------------------------------------------


def _last_event_at(session: InfusionSession) -> datetime | None:
    last = session.rate_events.order_by("-at", "-id").first()
    return None if last is None else last.at


def rate_points(session: InfusionSession) -> list[RatePoint]:
    return [RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h) for e in session.rate_events.all()]


def session_delivery(session: InfusionSession, now: datetime | None = None) -> Delivery:
    return delivery(rate_points(session), now or timezone.now())


def _event(session: InfusionSession, user: User, kind: str, at: datetime, *, rate_mg: float = 0.0, rate_ml: float = 0.0,
           reason: str = "", signer: User | None = None) -> RateEvent:
    event = RateEvent(session=session, kind=kind, at=at, rate_mg_per_h=rate_mg, rate_ml_per_h=rate_ml, reason=reason,
                      recorded_by=user, signer=signer)
    clean_or_refuse(event)
    event.save()
    return event


@transaction.atomic
def infusion_start(*, user: User, session: InfusionSession, expected_version: int,
                   at: datetime | None = None) -> RateEvent:
    """Start the pump at the signed order's rate; refused without a signed order or a passed checklist."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    order = signed_order(session)
    result = checklist_result(session)
    _move(session, SessionAction.START, Guards(order_signed=order is not None, checklist_failures=result.failures))
    if order is None:  # the guard refused already
        raise ValidationError(NO_SIGNED_ORDER, field="order", value=None)
    when = _when(at, "Start", not_before=session.checked_in_at)
    _consent_required(session)  # at the real clock time (``when`` may be backdated), even without a consent item
    session.started_at = when
    event = _event(session, user, RateEvent.Kind.START, when, rate_mg=order.rate_mg_per_h or 0.0,
                   rate_ml=order.rate_ml_per_h or 0.0)
    _save(session, user, "state", "started_at")
    _audit(user, session, f"Started the infusion at {event.rate_mg_per_h:.1f} mg/h ({event.rate_ml_per_h:.1f} mL/h)")
    return event


@transaction.atomic
def infusion_pause(*, user: User, session: InfusionSession, expected_version: int, reason: str = "",
                   at: datetime | None = None) -> RateEvent:
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.PAUSE)
    event = _event(session, user, RateEvent.Kind.PAUSE, _when(at, "Pause", not_before=_last_event_at(session)),
                   reason=reason.strip())
    _save(session, user, "state")
    _audit(user, session, "Paused the infusion" + (f": {reason.strip()}" if reason.strip() else ""))
    return event


@transaction.atomic
def infusion_resume(*, user: User, session: InfusionSession, expected_version: int, reason: str = "",
                    at: datetime | None = None) -> RateEvent:
    """Resume at the rate in effect before the pause."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.RESUME)
    last_rate = session.rate_events.filter(kind__in=["start", "resume", "rate"]).order_by("-at", "-id").first()
    if last_rate is None:  # paused implies started
        raise ValidationError(NOT_STARTED, field="state", value=session.state)
    event = _event(session, user, RateEvent.Kind.RESUME, _when(at, "Resume", not_before=_last_event_at(session)),
                   rate_mg=last_rate.rate_mg_per_h, rate_ml=last_rate.rate_ml_per_h, reason=reason.strip())
    _save(session, user, "state")
    _audit(user, session, f"Resumed the infusion at {event.rate_mg_per_h:.1f} mg/h")
    return event


@transaction.atomic
def infusion_rate_change(*, user: User, session: InfusionSession, expected_version: int, rate_mg_per_h: float,
                         reason: str, signer: User, at: datetime | None = None) -> RateEvent:
    """Titration: a new rate with its reason, ordered by a prescriber (the signer; may be the user)."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    if session.state != SessionState.RUNNING:
        raise ValidationError(RATE_WHILE_RUNNING.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    if not signer.can(Permission.ORDER_SIGN):
        raise ValidationError(SIGNER_NOT_PRESCRIBER.format(who=signer), field="signer", value=str(signer.external_id))
    if not can_access_patient(signer, session.patient):
        raise ValidationError(SIGNER_OTHER_LOCATION.format(who=signer), field="signer", value=str(signer.external_id))
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    order = signed_order(session)
    if order is None or not order.concentration_mg_per_ml:
        raise ValidationError(NO_PUMP.format(route=order.route if order else "no order"), field="order", value=None)
    if not rate_mg_per_h > 0:
        raise ValidationError(RATE_NOT_POSITIVE, field="rate_mg_per_h", value=rate_mg_per_h)
    dosing = _doc(session).dosing
    if dosing is not None and dosing.max_rate_mg_per_h is not None and rate_mg_per_h > dosing.max_rate_mg_per_h:
        raise ValidationError(RATE_ABOVE_MAX.format(value=rate_mg_per_h, high=dosing.max_rate_mg_per_h),
                              field="rate_mg_per_h", value=rate_mg_per_h)
    rate_ml = round(rate_mg_per_h / order.concentration_mg_per_ml, 1)
    pump_max = dosing.pump.max_rate_ml_per_h if dosing is not None and dosing.pump is not None else None
    if pump_max is not None and rate_ml > pump_max:
        raise ValidationError(RATE_ABOVE_PUMP.format(value=rate_ml, high=pump_max), field="rate_mg_per_h", value=rate_mg_per_h)
    event = _event(session, user, RateEvent.Kind.RATE, _when(at, "Rate change", not_before=_last_event_at(session)),
                   rate_mg=rate_mg_per_h, rate_ml=rate_ml, reason=reason.strip(), signer=signer)
    _save(session, user)
    _audit(user, session, f"Changed the rate to {rate_mg_per_h:g} mg/h ({rate_ml:g} mL/h), ordered by {signer}: "
           f"{reason.strip()}", signer=str(signer.external_id))
    return event


@transaction.atomic
def infusion_stop(*, user: User, session: InfusionSession, expected_version: int, reason: str = "",
                  at: datetime | None = None) -> RateEvent:
    """Stop the pump: recovery (and the observation clock) begins; the ketamine given goes on the MAR."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.STOP)
    when = _when(at, "Stop", not_before=_last_event_at(session))
    event = _event(session, user, RateEvent.Kind.STOP, when, reason=reason.strip())
    session.ended_at = when
    given = session_delivery(session, when)
    order = signed_order(session)
    if round(given.delivered_mg, 3) > 0:  # an intranasal session's doses are recorded as administrations instead
        MedicationAdministration.objects.create(
            session=session, medication="ketamine", rxnorm=medication_get("ketamine").rxnorm,
            dose=Decimal(str(round(given.delivered_mg, 3))), unit="mg", route=order.route if order else "iv",
            at=session.started_at, ended_at=when, reason="Infusion per signed order", created_by=user, updated_by=user,
        )
    _save(session, user, "state", "ended_at")
    _audit(user, session, f"Stopped the infusion after {given.elapsed_min:.0f} min: {given.delivered_mg:.1f} mg given"
           + (f" ({reason.strip()})" if reason.strip() else ""), delivered_mg=round(given.delivered_mg, 3))
    return event


# --- vital signs and alerts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VitalsPosted:
    reading: VitalSigns
    created: bool  # False when a retried post returned the reading already stored
    alerts: tuple[VitalAlert, ...]


def _phase(session: InfusionSession, taken_at: datetime) -> str:
    if session.started_at is None or taken_at < session.started_at:
        return VitalSigns.Phase.BASELINE
    if session.ended_at is None or taken_at < session.ended_at:
        return VitalSigns.Phase.INFUSION
    return VitalSigns.Phase.RECOVERY


def vitals_record(
    *,
    user: User,
    session: InfusionSession,
    client_id: str,
    taken_at: datetime | None = None,
    systolic_mmhg: float | None = None,
    diastolic_mmhg: float | None = None,
    heart_rate_bpm: float | None = None,
    spo2_percent: float | None = None,
    respiratory_rate_per_min: float | None = None,
    sedation: str = "",
    source: str = "manual",
) -> VitalsPosted:
    """Record one reading, committed at once; a retry with the same ``client_id`` returns the stored reading."""
    client_id = (client_id or "").strip()
    if not client_id:
        raise ValidationError(CLIENT_ID_REQUIRED, field="client_id", value=client_id)
    try:
        with transaction.atomic():
            return _vitals_record(user=user, session=session, client_id=client_id, taken_at=taken_at,
                                  reading=VitalReading(systolic_mmhg, diastolic_mmhg, heart_rate_bpm, spo2_percent,
                                                       respiratory_rate_per_min,
                                                       Sedation.parse(sedation) if sedation else None),
                                  source=source)
    except IntegrityError:  # a concurrent retry stored it first: answer with that one
        existing = VitalSigns.objects.filter(client_id=client_id).first()
        if existing is None:
            raise
        return _existing(user, session, existing)


def _existing(user: User, session: InfusionSession, existing: VitalSigns) -> VitalsPosted:
    patient_for(user, session.patient, Permission.SESSION_RUN)
    if existing.session_id != session.pk:
        raise ValidationError(CLIENT_ID_OTHER_SESSION.format(value=existing.client_id), field="client_id",
                              value=existing.client_id)
    return VitalsPosted(existing, False, tuple(existing.alerts.all()))


def _vitals_record(*, user: User, session: InfusionSession, client_id: str, taken_at: datetime | None,
                   reading: VitalReading, source: str) -> VitalsPosted:
    session = _lock(user, session, Permission.SESSION_RUN, None)
    existing = VitalSigns.objects.filter(client_id=client_id).first()
    if existing is not None:
        return _existing(user, session, existing)
    if session.state_enum.closed:
        raise ValidationError(SESSION_CLOSED.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    if session.checked_in_at is None:
        raise ValidationError(NOT_CHECKED_IN, field="state", value=session.state)
    when = _when(taken_at, "A reading taken")
    if when < session.checked_in_at:
        raise ValidationError(BEFORE_CHECK_IN.format(value=when.isoformat(timespec="minutes"),
                                                     check_in=session.checked_in_at.isoformat(timespec="minutes")),
                              field="taken_at", value=when)
    monitoring = _sections(session)[0]
    reading_check(reading, monitoring)
    phase = _phase(session, when)
    v = VitalSigns(
        external_id=uuid.uuid4(), client_id=client_id, session=session, phase=phase, taken_at=when,
        systolic_mmhg=reading.systolic_mmhg, diastolic_mmhg=reading.diastolic_mmhg, heart_rate_bpm=reading.heart_rate_bpm,
        spo2_percent=reading.spo2_percent, respiratory_rate_per_min=reading.respiratory_rate_per_min,
        sedation="" if reading.sedation is None else reading.sedation.name.lower(), source=source[:20] or "manual",
        recorded_by=user,
    )
    v.save()
    alerts = []
    if phase != VitalSigns.Phase.BASELINE:
        for a in alerts_for(reading, monitoring):
            alerts.append(VitalAlert.objects.create(
                external_id=uuid.uuid4(), session=session, vitals=v, rule=a.rule, vital=a.vital.value, value=a.value,
                limit=a.limit, suggested_action=a.action.value, message=a.message, raised_at=when))
    _audit(user, session, f"Recorded vital signs ({phase})" + (f", {len(alerts)} alert(s)" if alerts else ""),
           AuditEntry.Action.CREATE, vitals=str(v.external_id), alerts=[a.rule for a in alerts])
    return VitalsPosted(v, True, tuple(alerts))


@transaction.atomic
def alert_acknowledge(*, user: User, alert: VitalAlert, note: str = "") -> VitalAlert:
    """Acknowledge an alert (once; the second nurse is told who did it first)."""
    _lock(user, alert.session, Permission.SESSION_RUN, None)
    alert = VitalAlert.objects.select_for_update(of=("self",)).select_related("acknowledged_by", "session__patient").get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        raise ValidationError(ALERT_ACKNOWLEDGED.format(who=alert.acknowledged_by,
                                                        when=f"{timezone.localtime(alert.acknowledged_at):%H:%M}"),
                              field="alert", value=str(alert.external_id))
    alert.acknowledged_by, alert.acknowledged_at, alert.acknowledgement_note = user, timezone.now(), note.strip()
    alert.save()
    _audit(user, alert.session, f"Acknowledged alert {alert.rule}" + (f": {alert.acknowledgement_note}" if note.strip() else ""),
           alert=str(alert.external_id))
    return alert


# --- adverse events and administrations ---------------------------------------------------------------


def _recordable(session: InfusionSession) -> None:
    if session.state in (SessionState.SCHEDULED, SessionState.CANCELLED, SessionState.DISCHARGED):
        raise ValidationError(SESSION_CLOSED.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)


@transaction.atomic
def adverse_event_record(*, user: User, session: InfusionSession, expected_version: int, kind: str, severity: str,
                         at: datetime | None = None, notes: str = "") -> AdverseEvent:
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _recordable(session)
    if kind not in AdverseEvent.Kind.values:
        raise ValidationError(ADVERSE_KIND_UNKNOWN.format(value=kind, allowed=", ".join(AdverseEvent.Kind.values)),
                              field="kind", value=kind)
    if severity not in AdverseEvent.Severity.values:
        raise ValidationError(SEVERITY_UNKNOWN.format(value=severity), field="severity", value=severity)
    if kind == AdverseEvent.Kind.OTHER and not notes.strip():
        raise ValidationError(OTHER_NEEDS_NOTES, field="notes", value=notes)
    event = AdverseEvent(session=session, kind=kind, severity=severity,
                         at=_when(at, "The adverse event", not_before=session.checked_in_at), notes=notes.strip(),
                         created_by=user, updated_by=user)
    clean_or_refuse(event)
    event.save()
    _save(session, user)
    _audit(user, session, f"Adverse event: {event.get_kind_display()} ({severity})", AuditEntry.Action.CREATE,
           adverse_event=str(event.external_id))
    return event


@transaction.atomic
def administration_record(*, user: User, session: InfusionSession, expected_version: int, medication: str,
                          dose: Any, unit: str, route: str, at: datetime | None = None, reason: str = "",
                          adverse_event: AdverseEvent | None = None) -> MedicationAdministration:
    """A rescue medication (or an intranasal dose) given in the session, for the MAR."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _recordable(session)
    med = medication_get(medication)
    amount = med.dose_check(dose, unit)
    if route not in MedicationAdministration.Route.values:
        raise ValidationError(ROUTE_UNKNOWN.format(value=route, allowed=", ".join(MedicationAdministration.Route.values)),
                              field="route", value=route)
    med.route_check(route)
    if adverse_event is not None and adverse_event.session_id != session.pk:
        raise ValidationError(ADVERSE_OTHER_SESSION, field="adverse_event", value=str(adverse_event.external_id))
    given = MedicationAdministration(
        session=session, medication=med.code, rxnorm=med.rxnorm, dose=amount, unit=unit, route=route,
        at=_when(at, "The administration", not_before=session.checked_in_at), reason=reason.strip()[:200],
        adverse_event=adverse_event, created_by=user, updated_by=user,
    )
    clean_or_refuse(given)
    given.save()
    _save(session, user)
    _audit(user, session, f"Gave {med.label} {amount} {unit} {route}" + (f" ({given.reason})" if given.reason else ""),
           AuditEntry.Action.CREATE, administration=str(given.external_id))
    return given


# --- recovery and discharge ---------------------------------------------------------------------------


def _minutes_since_end(session: InfusionSession, now: datetime) -> float | None:
    return None if session.ended_at is None else (now - session.ended_at).total_seconds() / 60.0


@transaction.atomic
def discharge_assess(*, user: User, session: InfusionSession, expected_version: int, activity_mental_status: int,
                     pain: int, nausea_vomiting: int, intake_output: int, escort_present: bool,
                     instructions_given: bool, escort_name: str = "") -> DischargeAssessment:
    """Score PADSS with the latest vitals against baseline; the core decides fit or not, with reasons."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    if session.state != SessionState.RECOVERING:
        raise ValidationError(NOT_RECOVERING.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    section = _sections(session)[2]
    now = timezone.now()
    latest = session.vitals.exclude(phase=VitalSigns.Phase.BASELINE).order_by("-taken_at", "-id").first()
    decision = core_discharge_assess(
        section,
        scores={"activity_mental_status": activity_mental_status, "pain": pain, "nausea_vomiting": nausea_vomiting,
                "intake_output": intake_output},
        baseline=baseline_reading(session), latest=None if latest is None else reading_of(latest),
        escort_present=escort_present, instructions_given=instructions_given,
        minutes_since_infusion_end=_minutes_since_end(session, now),
    )
    a = DischargeAssessment(session=session, assessed_at=now, scores=decision.scores, total=decision.total,
                            deviation_percent=decision.deviation_percent, escort_present=escort_present,
                            escort_name=escort_name.strip()[:120], instructions_given=instructions_given, fit=decision.fit,
                            reasons=list(decision.reasons), created_by=user, updated_by=user)
    clean_or_refuse(a)
    a.save()
    _save(session, user)
    _audit(user, session, f"Discharge assessment: PADSS {decision.total}/10, "
           + ("fit for discharge" if decision.fit else "not yet fit: " + "; ".join(decision.reasons)),
           AuditEntry.Action.CREATE, assessment=str(a.external_id))
    return a


@transaction.atomic
def session_discharge(*, user: User, session: InfusionSession, expected_version: int) -> InfusionSession:
    """Discharge: after the observation minimum, with a fit assessment and every alert acknowledged."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    open_alerts = list(session.alerts.filter(acknowledged_at__isnull=True).values_list("rule", flat=True))
    if open_alerts:
        raise ValidationError(OPEN_ALERTS.format(rules=", ".join(open_alerts)), field="alerts", value=open_alerts)
    section = _sections(session)[2]
    now = timezone.now()
    last = session.discharge_assessments.order_by("-assessed_at", "-id").first()
    failures = ("no assessment",) if last is None else tuple(last.reasons) if not last.fit else ()
    _move(session, SessionAction.DISCHARGE, Guards(minutes_since_infusion_end=_minutes_since_end(session, now),
                                                   observation_min=section.observation_min,
                                                   discharge_failures=failures))
    session.discharged_at = now
    _save(session, user, "state", "discharged_at")
    if session.planned_infusion_id:
        PlannedInfusion.objects.filter(pk=session.planned_infusion_id).update(status=PlannedInfusion.Status.DONE)
    _audit(user, session, "Discharged home" + (f" with {last.escort_name}" if last and last.escort_name else ""))
    return session


# --- the note ----------------------------------------------------------------------------------------


def _note_text(session: InfusionSession) -> str:
    """The note, from what was recorded (times in the location's zone)."""
    def t(dt: datetime | None) -> str:
        return "—" if dt is None else timezone.localtime(dt).strftime("%H:%M")

    order = signed_order(session)
    given = session_delivery(session, session.ended_at or timezone.now())
    vitals = list(session.vitals.all())
    lines = [
        f"Infusion session {timezone.localtime(session.scheduled_start):%Y-%m-%d}, {session.location.name}"
        + (" (home)" if session.at_home else f", {session.chair.name}" if session.chair else ""),
        f"Patient: {session.patient.display_name} (MRN {session.patient.mrn}). Protocol {session.protocol_version}.",
        f"Checked in {t(session.checked_in_at)}; checklist passed {t(session.prechecks_done_at)}"
        + (f"; overridden: {', '.join(checklist_result(session).overridden)}" if checklist_result(session).overridden else "")
        + (f"; PHQ-9 today {session.phq9_total}" if session.phq9_total is not None else "") + ".",
    ]
    reviewed = session.checklist_responses.filter(code="medications_reviewed").exclude(detail="").first()
    if reviewed is not None:
        lines.append(f"Interacting medications reviewed: {reviewed.detail}")
    if order is not None:
        lines.append(f"Order: ketamine {order.dose_mg:.1f} mg ({order.dose_mg_per_kg:.2f} mg/kg, dosing weight "
                     f"{order.dosing_weight_kg:.1f} kg) over {order.duration_min or 0:g} min, signed by {order.signed_by} "
                     f"at {t(order.signed_at)}" + (f"; soft-limit override: {order.override_reason}" if order.override_reason else "") + ".")
    lines.append(f"Infusion {t(session.started_at)}–{t(session.ended_at)}: {given.delivered_mg:.1f} mg "
                 f"({given.delivered_ml:.1f} mL) over {given.infusing_min:.0f} min running, {given.paused_min:.0f} min paused.")
    for e in session.rate_events.all():
        if e.kind == RateEvent.Kind.RATE:
            lines.append(f"  {t(e.at)} rate changed to {e.rate_mg_per_h:g} mg/h, ordered by {e.signer}: {e.reason}")
        elif e.kind in (RateEvent.Kind.PAUSE, RateEvent.Kind.RESUME) :
            lines.append(f"  {t(e.at)} {e.get_kind_display().lower()}" + (f": {e.reason}" if e.reason else ""))
    if vitals:
        def span(name: str) -> str:
            xs = [getattr(v, name) for v in vitals if getattr(v, name) is not None]
            return f"{min(xs)}–{max(xs)}" if xs else "—"
        lines.append(f"Vital signs: {len(vitals)} readings; BP systolic {span('systolic_mmhg')}, diastolic "
                     f"{span('diastolic_mmhg')} mmHg; HR {span('heart_rate_bpm')}/min; SpO2 {span('spo2_percent')}%; "
                     f"RR {span('respiratory_rate_per_min')}/min.")
    for a in session.alerts.select_related("acknowledged_by"):
        lines.append(f"  Alert {t(a.raised_at)}: {a.message} Acknowledged by {a.acknowledged_by} at {t(a.acknowledged_at)}"
                     + (f" ({a.acknowledgement_note})" if a.acknowledgement_note else "") + ".")
    for ev in session.adverse_events.all():
        lines.append(f"Adverse event {t(ev.at)}: {ev.get_kind_display()} ({ev.severity})" + (f" — {ev.notes}" if ev.notes else ""))
    for m in session.administrations.exclude(medication="ketamine"):
        lines.append(f"Given {t(m.at)}: {m.medication} {m.dose.normalize()} {m.unit} {m.route}" + (f" ({m.reason})" if m.reason else ""))
    last = session.discharge_assessments.order_by("-assessed_at", "-id").first()
    if last is not None:
        lines.append(f"Discharge assessment {t(last.assessed_at)}: PADSS {last.total}/10"
                     + (f", vitals within {last.deviation_percent:.0f}% of baseline" if last.deviation_percent is not None else "")
                     + f"; escort {'present' if last.escort_present else 'absent'}"
                     + (f" ({last.escort_name})" if last.escort_name else "")
                     + f"; instructions {'given' if last.instructions_given else 'not given'}.")
    lines.append(f"Discharged {t(session.discharged_at)}.")
    return "\n".join(lines)


@transaction.atomic
def note_generate(*, user: User, session: InfusionSession, expected_version: int) -> SessionNote:
    """Write (or rewrite, while unsigned) the note from what happened."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    if session.state != SessionState.DISCHARGED:
        raise ValidationError(NOTE_WRONG_STATE.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    note = SessionNote.objects.filter(session=session).select_related("signed_by").first()
    if note is not None and note.signed:
        raise ValidationError(NOTE_ALREADY_SIGNED.format(who=note.signed_by, when=f"{timezone.localtime(note.signed_at):%Y-%m-%d %H:%M}"),
                              field="note", value=str(note.external_id))
    text = _note_text(session)
    if note is None:
        note = SessionNote.objects.create(session=session, text=text, created_by=user, updated_by=user)
    else:
        note.text, note.updated_by = text, user
        note.save()
    _save(session, user)
    _audit(user, session, "Generated the session note", AuditEntry.Action.CREATE, note=str(note.external_id))
    return note


@transaction.atomic
def note_sign(*, user: User, session: InfusionSession, expected_version: int) -> SessionNote:
    """Sign the note; it is locked from then on (the database refuses changes)."""
    session = _lock(user, session, Permission.NOTE_SIGN, expected_version)
    note = SessionNote.objects.select_for_update(of=("self",)).filter(session=session).first()
    if note is None:
        raise ValidationError(NOTE_MISSING, field="note", value=None)
    if note.signed:
        raise ValidationError(NOTE_ALREADY_SIGNED.format(who=note.signed_by, when=f"{timezone.localtime(note.signed_at):%Y-%m-%d %H:%M}"),
                              field="note", value=str(note.external_id))
    note.signed_by, note.signed_at, note.updated_by = user, timezone.now(), user
    note.save()
    _save(session, user)
    _audit(user, session, "Signed the session note", AuditEntry.Action.SIGN, note=str(note.external_id))
    return note


@transaction.atomic
def note_addendum_add(*, user: User, session: InfusionSession, text: str, reason: str) -> NoteAddendum:
    """A correction or addition to a signed note, with why; the note itself never changes."""
    session = _lock(user, session, Permission.NOTE_SIGN, None)
    note = SessionNote.objects.filter(session=session).first()
    if note is None:
        raise ValidationError(NOTE_MISSING, field="note", value=None)
    if not note.signed:
        raise ValidationError(NOTE_NOT_SIGNED, field="note", value=str(note.external_id))
    if not text.strip():
        raise ValidationError(ADDENDUM_TEXT_REQUIRED, field="text", value=text)
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    addendum = NoteAddendum.objects.create(note=note, text=text.strip(), reason=reason.strip()[:300], created_by=user,
                                           updated_by=user)
    _audit(user, session, f"Added an addendum to the session note: {addendum.reason}", AuditEntry.Action.CREATE,
           addendum=str(addendum.external_id))
    return addendum
