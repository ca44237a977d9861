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
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.consent.selectors import ConsentOnFile, consent_on_file
from ketaclinic.core.access import Permission
from ketaclinic.core.body import order_weight_problem, weight_confirmations, weight_measure
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
from ketaclinic.core.infusion.delivery import Delivery, RateEventKind, RatePoint, delivered_regimen, delivery
from ketaclinic.core.infusion.discharge import UNREVIEWED, TimedReading
from ketaclinic.core.infusion.discharge import assessment_voided as core_assessment_voided
from ketaclinic.core.infusion.discharge import discharge_assess as core_discharge_assess
from ketaclinic.core.infusion.discharge import recovery_evidence as core_recovery_evidence
from ketaclinic.core.infusion.discharge import review_required as core_review_required
from ketaclinic.core.infusion.event_times import BackdateLimits, event_time_check
from ketaclinic.core.infusion.medications import (
    PriorDose,
    administration_check,
    medication_get,
    order_allergy_check,
)
from ketaclinic.core.infusion.pathway import OpenFlag, PathwayFacts, pathway_message, pathway_problems
from ketaclinic.core.infusion.state import Guards, SessionAction, SessionState, transition
from ketaclinic.core.infusion.titration import (
    TITRATION_NO_WARNINGS,
    TitrationCheck,
    titration_check,
    titration_override,
)
from ketaclinic.core.infusion.vial_check import typed_values, vial_check_compare
from ketaclinic.core.infusion.vitals import (
    OVERDUE_ALERT,
    Sedation,
    VitalReading,
    VitalsDue,
    alerts_for,
    baseline_problems,
    open_alerts_problem,
    reading_check,
)
from ketaclinic.core.medications import interactions_for
from ketaclinic.core.medications import major_interactions as core_major_interactions
from ketaclinic.core.pharmacology.ceiling import order_peak_check
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
    ChecklistItem,
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
    VialCheck,
    VitalAlert,
    VitalSigns,
)
from ketaclinic.infusions.notifications import adverse_event_notify
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.patients.access import can_access_patient, patient_for
from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.patients.services import measurement_record
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion

CHANGED_MEANWHILE = "This session was changed meanwhile by {who} at {when}; reload it and try again."
NO_SESSION_SECTIONS = ("Protocol {value} has no monitoring, checklist and discharge sections; "
                       "load a version that has them before running a session under it.")
CHAIR_OTHER_LOCATION = "Chair {value} is not at {location}."
HOME_AND_CHAIR = "A home infusion has no chair."
PLANNED_OTHER_PATIENT = "That planned infusion belongs to another patient."
PLANNED_HAS_SESSION = "That planned infusion already has a session."
CHAIR_BUSY = ("{chair} is taken {other_start}-{other_end} by {what}; this session would need it {start}-{end} "
              "(the protocol's chair time, {minutes} min). Choose another chair or time.")
PATIENT_BUSY = ("The patient already has a session {other_start}-{other_end}; this one would be {start}-{end}. "
                "A patient is in one place at a time: cancel or move the other session first.")
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
SIGNER_NOT_SELF = ("A prescriber orders a titration as themselves: {user} cannot record it for {who}; "
                   "{who} signs in and orders it, or a nurse records it as a verbal order.")
SIGNER_REQUIRED = "Name the prescriber who gave this verbal order."
READ_BACK_REQUIRED = ("A verbal order is recorded only after reading it back to the prescriber: confirm the "
                      "read-back of {rate:g} mg/h to {who}.")
TITRATION_OVERRIDE_REQUIRED = ("This rate goes beyond a soft limit ({warnings}); the prescriber must give an "
                               "override reason to order it.")
COSIGN_NOT_VERBAL = "Only a verbal order is co-signed; this rate change was ordered by the prescriber in person."
NO_SUCH_RATE_EVENT = "This session has no pump event number {value}; reload the session."
COSIGN_ALREADY = "This verbal order was already co-signed by {who} at {when}."
ALERT_ACKNOWLEDGED = "This alert was already acknowledged by {who} at {when}."
OPEN_ALERTS = "Acknowledge the open alerts first: {rules}."
ADVERSE_KIND_UNKNOWN = "Adverse event {value!r} is unknown: allowed are {allowed}."
SEVERITY_UNKNOWN = "Severity {value!r} is unknown: allowed are mild, moderate, severe."
OTHER_NEEDS_NOTES = "Describe an adverse event of kind other in the notes."
ROUTE_UNKNOWN = "Route {value!r} is unknown: allowed are {allowed}."
ADVERSE_OTHER_SESSION = "That adverse event belongs to another session."
NOT_STARTED = "The infusion has not started."
ADVERSE_NO_REVIEW = "That adverse event needs no review, or a prescriber has reviewed it already."
REVIEW_NOTE_SHORT = "A review of a severe adverse event needs a note of at least {low} characters."
MIN_REVIEW_NOTE_CHARS = 10
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
TAKEN_AT_NAIVE = ("The time the reading was taken ({value}) has no time zone: send it with its offset, "
                  "e.g. 2026-12-02T09:30:00-05:00.")
VIAL_CHECK_REQUIRED = ("Before the start, a second clinician must check the vial strength and the volume drawn "
                       "against the order (the independent double check).")
VIAL_CHECK_MISMATCH = ("The last independent check of the bag by {who} at {when} did not match the order; the infusion "
                       "cannot start. Check the bag again (a new check by a second clinician), or prepare a new bag.")
VIAL_CHECK_SAME_PERSON = ("The independent check must be made by a second clinician: {who} prepared the order or "
                          "records the start.")
VIAL_CHECK_WRONG_STATE = "The bag is checked before the infusion starts (the session is {state})."
VIAL_CHECK_NO_BAG = "This session's order has no bag to check ({route})."
MAR_BAG_EMPTY = ("Infusion per signed order; the whole bag ({vtbi:.1f} mL) was given, the pump ran empty "
                 "before the stop (a second bag needs a new signed order)")
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
    # updated_by is not joined here: a request that waited for the row lock gets the row as the winner left it,
    # but PostgreSQL re-checks a joined row against the old version and would give updated_by as NULL. Read
    # lazily after the lock, it is the winner.
    locked = (InfusionSession.objects.select_for_update(of=("self",))
              .select_related("patient", "protocol_version", "location").get(pk=session.pk))
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
    added_reason: str = "",
) -> InfusionSession:
    """Open a session for a day's infusion (from a planned infusion of the plan, or added to the active plan with
    a reason); refused outside the pathway (core ``pathway_problems``)."""
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
    plan = active_plan(patient)
    session = InfusionSession(patient=patient, planned_infusion=planned_infusion, protocol_version=protocol_version,
                              location=location, chair=chair, at_home=at_home, scheduled_start=scheduled_start,
                              treatment_plan=plan, added_reason=added_reason.strip()[:300],
                              created_by=user, updated_by=user)
    _doc(session)
    problems = pathway_problems(pathway_facts(session, at=scheduled_start))
    if problems:
        raise ValidationError(pathway_message(problems), field="pathway", value=list(problems))
    minutes = _chair_minutes(protocol_version)
    session.scheduled_end = scheduled_start + timedelta(minutes=minutes)
    clean_or_refuse(session, exclude=["planned_infusion"])  # checked above; the database has the last word
    try:
        with transaction.atomic():  # the chair's row is locked: two requests for one chair and time queue here
            _place_free(session, minutes)
            session.save()
    except IntegrityError:
        if planned_infusion is not None and (InfusionSession.objects.filter(planned_infusion=planned_infusion)
                                             .exclude(state=SessionState.CANCELLED.value).exists()):
            raise ValidationError(PLANNED_HAS_SESSION, field="planned_infusion",
                                  value=str(planned_infusion.external_id)) from None
        with transaction.atomic():  # PostgreSQL's exclusion constraint caught a race the lock did not: say which
            _place_free(session, minutes)
        raise
    _audit(user, session, f"Scheduled infusion session {scheduled_start:%Y-%m-%d %H:%M} ({protocol_version})"
           + (f" from {planned_infusion.label} of the plan" if planned_infusion is not None else ""),
           AuditEntry.Action.CREATE,
           **({"planned_infusion": str(planned_infusion.external_id)} if planned_infusion is not None else {}))
    return session


def _chair_minutes(protocol_version: ProtocolVersion) -> int:
    series = getattr(protocol_version.parsed, "series", None)
    return int(series.chair_minutes) if series is not None else 120


def _window(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[str, str]:
    return f"{start.astimezone(tz):%a %Y-%m-%d %H:%M}", f"{end.astimezone(tz):%H:%M}"


def _place_free(session: InfusionSession, minutes: int) -> None:
    """A session's chair (and its patient) must be free from its start to its end: no other session that is not
    cancelled, and no planned infusion of another patient holding the chair. The chair's row is locked first (on
    PostgreSQL; SQLite serialises writers), and PostgreSQL's exclusion constraints have the last word."""
    start, end = session.scheduled_start, session.scheduled_end
    assert end is not None
    tz = ZoneInfo(session.location.timezone)
    near = (InfusionSession.objects.exclude(state=SessionState.CANCELLED.value).exclude(pk=session.pk)
            .filter(scheduled_start__lt=end, scheduled_start__gt=start - timedelta(hours=12))
            .select_related("protocol_version"))
    if session.planned_infusion_id is not None:  # a second session of the same slot: its own refusal (unique)
        near = near.exclude(planned_infusion_id=session.planned_infusion_id)
    when = dict(zip(("start", "end"), _window(start, end, tz), strict=True))
    if session.chair_id is not None:
        Chair.objects.select_for_update().filter(pk=session.chair_id).first()
        for other in near.filter(chair_id=session.chair_id):
            other_end = other.scheduled_end or other.scheduled_start + timedelta(minutes=_chair_minutes(other.protocol_version))
            if other_end > start:
                a, b = _window(other.scheduled_start, other_end, tz)
                raise ValidationError(CHAIR_BUSY.format(chair=session.chair.name, other_start=a, other_end=b,
                                                        what="another session", minutes=minutes, **when),
                                      field="chair", value=session.chair.name)
        held = (PlannedInfusion.objects.filter(chair_id=session.chair_id, status=PlannedInfusion.Status.PLANNED,
                                               scheduled_start__lt=end, scheduled_start__gt=start - timedelta(hours=12))
                .exclude(pk=session.planned_infusion_id or 0).exclude(plan__patient_id=session.patient_id))
        for slot in held:
            if slot.scheduled_end > start:
                a, b = _window(slot.scheduled_start, slot.scheduled_end, tz)
                raise ValidationError(CHAIR_BUSY.format(chair=session.chair.name, other_start=a, other_end=b,
                                                        what="another patient's planned infusion", minutes=minutes,
                                                        **when), field="chair", value=session.chair.name)
    for other in near.filter(patient_id=session.patient_id):
        other_end = other.scheduled_end or other.scheduled_start + timedelta(minutes=_chair_minutes(other.protocol_version))
        if other_end > start:
            a, b = _window(other.scheduled_start, other_end, tz)
            raise ValidationError(PATIENT_BUSY.format(other_start=a, other_end=b, **when), field="scheduled_start",
                                  value=start.isoformat())


def active_plan(patient: Patient) -> TreatmentPlan | None:
    return (TreatmentPlan.objects.select_related("screening").filter(patient=patient, status=TreatmentPlan.Status.ACTIVE)
            .order_by("-signed_at").first())


OPEN_STATES = (SessionState.CHECKED_IN, SessionState.PRECHECKS_DONE, SessionState.RUNNING, SessionState.PAUSED,
               SessionState.RECOVERING)


def pathway_facts(session: InfusionSession, *, at: datetime) -> PathwayFacts:
    """The facts the pathway rule needs, read for ``session`` (saved or about to be)."""
    plan = session.treatment_plan if session.treatment_plan_id else active_plan(session.patient)
    doc = session.protocol_version.parsed
    screening = plan.screening if plan is not None else None
    others = InfusionSession.objects.filter(patient=session.patient).exclude(pk=session.pk)
    previous = (others.filter(started_at__isnull=False, started_at__lte=at).order_by("-started_at")
                .values_list("started_at", flat=True).first())
    # one infusion at a time: another session of the patient open around this one (booked within 12 h of it)
    other_open = (others.filter(state__in=[st.value for st in OPEN_STATES], scheduled_start__gt=at - timedelta(hours=12),
                                scheduled_start__lt=at + timedelta(hours=12)).order_by("scheduled_start").first())
    zone = ZoneInfo(session.location.timezone)
    flags = tuple(OpenFlag(summary=f.summary, raised=f.raised_at.astimezone(zone).strftime("%a %d %b %H:%M"))
                  for f in SafetyFlag.objects.filter(patient=session.patient, status=SafetyFlag.Status.OPEN)
                  .order_by("raised_at"))
    return PathwayFacts(
        plan_active=plan is not None and plan.status == TreatmentPlan.Status.ACTIVE,
        screening_status=("not screened" if screening is None else
                          f"{screening.get_status_display().lower()}"
                          + (f", {screening.get_signed_outcome_display().lower()}" if screening.signed_outcome else "")),
        screening_eligible=screening is not None and screening.status == "signed" and screening.signed_outcome == "eligible",
        indication=plan.indication if plan is not None else None,
        protocol=doc.title, protocol_indications=tuple(i.value if hasattr(i, "value") else str(i) for i in doc.indications),
        from_planned_slot=session.planned_infusion_id is not None, added_reason=session.added_reason,
        at=at, previous_infusion_at=previous,
        min_spacing_hours=float(doc.series.min_spacing_hours) if doc.series is not None else None,
        other_open_session=None if other_open is None else
        f"{other_open.get_state_display().lower()} since {other_open.scheduled_start.astimezone(zone):%H:%M}",
        open_flags=flags,
    )


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
                              consent_problem=_consent_problem(session_consent(session)),
                              major_interactions=major_interactions(session.patient))


def major_interactions(patient: Patient) -> tuple[str, ...]:
    """The patient's current medications with a MAJOR interaction (they need a prescriber's sign-off)."""
    return core_major_interactions(m.name for m in patient.medications.filter(stopped_at__isnull=True))


def patient_allergies(patient: Patient) -> list[str]:
    """The substances of the patient's current (not ended) charted allergies."""
    return [a.substance for a in patient.allergies.filter(ended_at__isnull=True)]


def _order_allergy_refuse(session: InfusionSession) -> None:
    order_allergy_check(session.protocol_version.parsed.formulary, patient_allergies(session.patient))


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
                     value: Any = None, unit: str | None = None, confirm_weight: bool = False) -> ChecklistItemResponse:
    """Answer one item (again: the new answer replaces the old, both audited). Weight needs its unit (kg or lb,
    never assumed); a weight far from the last one, or an implausible BMI, needs ``confirm_weight``; a changed
    weight voids a signed order."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _checklist_open(session)
    item = item_get(_sections(session)[1], code)
    number: float | None = None
    if item.kind is ChecklistKind.WEIGHT:
        _weight_confirmed(session, item, weight_measure(value, unit).value_si, confirm_weight)
        m = measurement_record(user=user, patient=session.patient, kind="weight", value=value, unit=unit)
        number = float(m.value_si)
        session.weight_kg = m.value_si
        _void_if_weight_changed(user, session)
    elif item.kind is ChecklistKind.NUMBER:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    consent = _consent_problem(session_consent(session)) if code == CONSENT_ITEM else None
    checked = answer_check(item, answer.strip().lower(), number, consent_problem=consent,
                           major_interactions=major_interactions(session.patient))
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


def _weight_confirmed(session: InfusionSession, item: ChecklistItem, new_kg: Decimal, confirmed: bool) -> None:
    """Refuse, showing both weights, a weight the core says needs confirming unless the nurse confirmed it."""
    previous = session.patient.measurements.filter(kind=BodyMeasurement.Kind.WEIGHT).order_by("-measured_at", "-id").first()
    height = session.patient.measurements.filter(kind=BodyMeasurement.Kind.HEIGHT).order_by("-measured_at", "-id").first()
    needed = weight_confirmations(
        new_kg, previous_kg=None if previous is None else previous.value_si,
        height_cm=None if height is None else height.value_si, change_percent=item.confirm_change_percent or 0.0,
        bmi_low=item.confirm_bmi_below or 0.0, bmi_high=item.confirm_bmi_above or 0.0)
    if needed and not confirmed:
        raise ValidationError(" ".join(needed), field="confirm_weight", value=str(new_kg))


def _void_if_weight_changed(user: User, session: InfusionSession) -> None:
    """A signed order calculated for another weight is void (marked, audited); a new order must be signed."""
    order = session.orders.filter(signed_at__isnull=False, voided_at__isnull=True).first()
    if order is None:
        return
    problem = order_weight_problem(order.weight_kg, session.weight_kg)
    if problem is None:
        return
    order.voided_at, order.void_reason, order.updated_by = timezone.now(), problem[:300], user
    order.save(update_fields=["voided_at", "void_reason", "updated_by", "updated_at"])
    _audit(user, session, f"Signed infusion order void: {problem}", order=str(order.external_id))


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
    return session.orders.filter(superseded=False, voided_at__isnull=True).order_by("-created_at", "-id").first()


@transaction.atomic
def order_create(*, user: User, session: InfusionSession, expected_version: int, dose: str | None = None,
                 duration_min: float | None = None, vial_mg_per_ml: float | None = None,
                 bag_ml: float | None = None) -> InfusionOrder:
    """Calculate the order from today's weight with the dose engine (hard limits refused for anyone)."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    if session.state not in (SessionState.CHECKED_IN, SessionState.PRECHECKS_DONE):
        raise ValidationError(ORDER_WRONG_STATE.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    signed = session.orders.filter(signed_at__isnull=False, voided_at__isnull=True).select_related("signed_by").first()
    if signed is not None:
        raise ValidationError(ORDER_ALREADY_SIGNED.format(who=signed.signed_by, when=f"{timezone.localtime(signed.signed_at):%H:%M}"),
                              field="order", value=str(signed.external_id))
    if session.weight_kg is None:
        raise ValidationError(NO_WEIGHT_TODAY, field="weight", value=None)
    _order_allergy_refuse(session)
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
    order_peak_check(doc.dosing, calc)
    session.orders.filter(signed_at__isnull=True, superseded=False).update(superseded=True)
    p = calc.pump
    order = InfusionOrder(
        session=session, weight_kg=session.weight_kg, dosing_weight_kg=calc.dosing_weight.kg,
        dosing_weight_basis=calc.dosing_weight.basis.value, dose_mg=calc.dose_mg, dose_mg_per_kg=calc.dose_mg_per_kg,
        route=calc.route.value, duration_min=calc.duration_min,
        rate_mg_per_h=None if p is None else p.delivered_rate_mg_per_h, rate_ml_per_h=None if p is None else p.rate_ml_per_h,
        concentration_mg_per_ml=None if p is None else p.concentration_mg_per_ml,
        vial_mg_per_ml=None if p is None else p.vial_mg_per_ml, drug_volume_ml=None if p is None else p.drug_volume_ml,
        bag_ml=None if p is None else p.bag_ml, vtbi_ml=None if p is None else p.vtbi_ml,
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
    order = InfusionOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)  # signed_by read after the lock
    if order.signed:
        raise ValidationError(ORDER_ALREADY_SIGNED.format(who=order.signed_by, when=f"{timezone.localtime(order.signed_at):%H:%M}"),
                              field="order", value=str(order.external_id))
    if order.superseded:
        raise ValidationError(ORDER_NOT_CURRENT, field="order", value=str(order.external_id))
    _order_allergy_refuse(session)
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
    """The signed order in force: not void, and calculated for today's weight (checked again by the core)."""
    order = session.orders.filter(signed_at__isnull=False, voided_at__isnull=True).first()
    if order is None or order_weight_problem(order.weight_kg, session.weight_kg) is not None:
        return None
    return order


# --- the running infusion ----------------------------------------------------------------------------


def _last_event_at(session: InfusionSession) -> datetime | None:
    last = session.rate_events.order_by("-at", "-id").first()
    return None if last is None else last.at


def rate_points(session: InfusionSession) -> list[RatePoint]:
    return [RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h) for e in session.rate_events.all()]


def bag_delivery(points: list[RatePoint], now: datetime, order: InfusionOrder | None) -> Delivery:
    """What the pump delivered by ``now``: never more than the signed order's bag (VTBI); says when the bag ran
    empty and whether the ordered duration has run. The one place the bag caps a delivery."""
    return delivery(points, now, vtbi_ml=order.vtbi_ml if order is not None and order.vtbi_ml else None,
                    ordered_duration_min=order.duration_min if order is not None else None)


def session_delivery(session: InfusionSession, now: datetime | None = None) -> Delivery:
    return bag_delivery(rate_points(session), now or timezone.now(), signed_order(session))


def _limits(session: InfusionSession) -> BackdateLimits:
    b = _sections(session)[0].backdating
    return BackdateLimits(b.max_min, b.reason_after_min)


def _event_at(session: InfusionSession, what: str, at: datetime | None, reason: str,
              *after: tuple[str, datetime | None]) -> datetime:
    """The time an event is recorded at: within the protocol's backdating bounds, with a reason when late,
    never before the events it depends on (``core.infusion.event_times``)."""
    return event_time_check(what=what, at=at, now=timezone.now(), limits=_limits(session), after=tuple(after),
                            reason=reason)


def _last_pump_event(session: InfusionSession) -> tuple[str, datetime | None]:
    return ("the last pump event", _last_event_at(session))


def latest_vial_check(session: InfusionSession, order: InfusionOrder) -> VialCheck | None:
    return order.vial_checks.select_related("checked_by").order_by("-checked_at", "-id").first()


def _vial_check_passed(session: InfusionSession, order: InfusionOrder, user: User) -> VialCheck | None:
    """The matching independent check of this order's bag by a second clinician, or refused. None when the order
    has no bag (e.g. an intranasal session)."""
    if order.vial_mg_per_ml is None or order.drug_volume_ml is None:
        return None
    check = latest_vial_check(session, order)
    if check is None:
        raise ValidationError(VIAL_CHECK_REQUIRED, field="vial_check", value=None)
    if not check.match:
        raise ValidationError(VIAL_CHECK_MISMATCH.format(who=check.checked_by,
                                                         when=f"{timezone.localtime(check.checked_at):%H:%M}"),
                              field="vial_check", value=check.pk)
    if check.checked_by_id in (user.pk, order.created_by_id):
        raise ValidationError(VIAL_CHECK_SAME_PERSON.format(who=check.checked_by), field="vial_check",
                              value=check.pk)
    return check


@transaction.atomic
def vial_check_record(*, user: User, session: InfusionSession, expected_version: int, vial_mg_per_ml: Any,
                      drawn_ml: Any) -> VialCheck:
    """A second clinician's independent check of the bag: the vial strength and volume drawn they read, typed
    without seeing the order. Recorded whether it matches or not; a mismatch blocks the start."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    if session.state not in (SessionState.CHECKED_IN, SessionState.PRECHECKS_DONE):
        raise ValidationError(VIAL_CHECK_WRONG_STATE.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    order = signed_order(session)
    if order is None:
        raise ValidationError(NO_SIGNED_ORDER, field="order", value=None)
    if order.vial_mg_per_ml is None or order.drug_volume_ml is None:
        raise ValidationError(VIAL_CHECK_NO_BAG.format(route=order.route), field="order", value=str(order.external_id))
    if user.pk == order.created_by_id:
        raise ValidationError(VIAL_CHECK_SAME_PERSON.format(who=user), field="user", value=str(user.external_id))
    vial, drawn = typed_values(vial_mg_per_ml, drawn_ml)
    result = vial_check_compare(ordered_vial_mg_per_ml=order.vial_mg_per_ml, ordered_drawn_ml=order.drug_volume_ml,
                                typed_vial_mg_per_ml=vial, typed_drawn_ml=drawn)
    check = VialCheck.objects.create(session=session, order=order, checked_by=user, checked_at=timezone.now(),
                                     typed_vial_mg_per_ml=vial, typed_drawn_ml=drawn, match=result.match,
                                     problems=list(result.problems(vial, drawn)))
    _save(session, user)
    _audit(user, session, "Independent check of the bag: " + ("matches the order" if result.match else
                                                              "DOES NOT match the order; the start is blocked"),
           AuditEntry.Action.CREATE, vial_check=check.pk, match=result.match)
    return check


def _event(session: InfusionSession, user: User, kind: str, at: datetime, *, rate_mg: float = 0.0, rate_ml: float = 0.0,
           reason: str = "", signer: User | None = None, backdate_reason: str = "") -> RateEvent:
    event = RateEvent(session=session, kind=kind, at=at, rate_mg_per_h=rate_mg, rate_ml_per_h=rate_ml, reason=reason,
                      recorded_by=user, signer=signer, backdate_reason=backdate_reason.strip())
    clean_or_refuse(event)
    event.save()
    return event


def _no_open_alerts(session: InfusionSession, action: str) -> None:
    """The pump does not (re)start while an alert is not acknowledged (the rule: core ``open_alerts_problem``)."""
    messages = tuple(a.message for a in session.alerts.filter(acknowledged_at__isnull=True).order_by("raised_at", "id"))
    problem = open_alerts_problem(action, messages)
    if problem is not None:
        raise ValidationError(problem, field="alerts", value=len(messages))


@transaction.atomic
def infusion_start(*, user: User, session: InfusionSession, expected_version: int,
                   at: datetime | None = None, backdate_reason: str = "") -> RateEvent:
    """Start the pump at the signed order's rate; refused without a signed order, a passed checklist or a
    matching independent check of the bag by a second clinician; never timed before any of them."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    order = signed_order(session)
    result = checklist_result(session)
    _move(session, SessionAction.START, Guards(order_signed=order is not None, checklist_failures=result.failures))
    _no_open_alerts(session, "start")
    if order is None:  # the guard refused already
        raise ValidationError(NO_SIGNED_ORDER, field="order", value=None)
    _order_allergy_refuse(session)
    check = _vial_check_passed(session, order, user)
    when = _event_at(session, "Start", at, backdate_reason, ("the check-in", session.checked_in_at),
                     ("the checklist passed", session.prechecks_done_at), ("the order was signed", order.signed_at),
                     ("the independent check of the bag", None if check is None else check.checked_at))
    start_problems = pathway_problems(pathway_facts(session, at=when), at_start=True)
    if start_problems:
        raise ValidationError(pathway_message(start_problems), field="pathway", value=list(start_problems))
    _consent_required(session)  # at the real clock time (``when`` may be backdated), even without a consent item
    session.started_at = when
    event = _event(session, user, RateEvent.Kind.START, when, rate_mg=order.rate_mg_per_h or 0.0,
                   rate_ml=order.rate_ml_per_h or 0.0, backdate_reason=backdate_reason)
    _save(session, user, "state", "started_at")
    _audit(user, session, f"Started the infusion at {event.rate_mg_per_h:.1f} mg/h ({event.rate_ml_per_h:.1f} mL/h)")
    return event


@transaction.atomic
def infusion_pause(*, user: User, session: InfusionSession, expected_version: int, reason: str = "",
                   at: datetime | None = None, backdate_reason: str = "") -> RateEvent:
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.PAUSE)
    event = _event(session, user, RateEvent.Kind.PAUSE,
                   _event_at(session, "Pause", at, backdate_reason, _last_pump_event(session)),
                   reason=reason.strip(), backdate_reason=backdate_reason)
    _save(session, user, "state")
    _audit(user, session, "Paused the infusion" + (f": {reason.strip()}" if reason.strip() else ""))
    return event


@transaction.atomic
def infusion_resume(*, user: User, session: InfusionSession, expected_version: int, reason: str = "",
                    at: datetime | None = None, backdate_reason: str = "") -> RateEvent:
    """Resume at the rate in effect before the pause."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.RESUME)
    _no_open_alerts(session, "resume")
    last_rate = session.rate_events.filter(kind__in=["start", "resume", "rate"]).order_by("-at", "-id").first()
    if last_rate is None:  # paused implies started
        raise ValidationError(NOT_STARTED, field="state", value=session.state)
    event = _event(session, user, RateEvent.Kind.RESUME,
                   _event_at(session, "Resume", at, backdate_reason, _last_pump_event(session)),
                   rate_mg=last_rate.rate_mg_per_h, rate_ml=last_rate.rate_ml_per_h, reason=reason.strip(),
                   backdate_reason=backdate_reason)
    _save(session, user, "state")
    _audit(user, session, f"Resumed the infusion at {event.rate_mg_per_h:.1f} mg/h")
    return event


def _titration_signer(user: User, signer: User | None, read_back: bool, session: InfusionSession,
                      rate_mg_per_h: float) -> tuple[User, bool]:
    """Who orders the titration: a prescriber in person (the user), or a verbal order the nurse read back."""
    if user.can(Permission.ORDER_SIGN):
        if signer is not None and signer.pk != user.pk:
            raise ValidationError(SIGNER_NOT_SELF.format(user=user, who=signer), field="signer",
                                  value=str(signer.external_id))
        return user, False
    if signer is None:
        raise ValidationError(SIGNER_REQUIRED, field="signer", value=None)
    if not signer.can(Permission.ORDER_SIGN):
        raise ValidationError(SIGNER_NOT_PRESCRIBER.format(who=signer), field="signer", value=str(signer.external_id))
    if not can_access_patient(signer, session.patient):
        raise ValidationError(SIGNER_OTHER_LOCATION.format(who=signer), field="signer", value=str(signer.external_id))
    if not read_back:
        raise ValidationError(READ_BACK_REQUIRED.format(rate=rate_mg_per_h, who=signer), field="read_back",
                              value=read_back)
    return signer, True


@transaction.atomic
def infusion_rate_change(*, user: User, session: InfusionSession, expected_version: int, rate_mg_per_h: float,
                         reason: str, signer: User | None = None, read_back: bool = False, override_reason: str = "",
                         at: datetime | None = None, backdate_reason: str = "") -> RateEvent:
    """Titration: a new rate with its reason, checked like an order by the core (limits, predicted peak).

    Ordered by a prescriber as themselves: in person (the user is the prescriber) or as a verbal order the
    nurse records with read-back, which the prescriber co-signs later (:func:`titration_cosign`).
    """
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    if session.state != SessionState.RUNNING:
        raise ValidationError(RATE_WHILE_RUNNING.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    signer, verbal = _titration_signer(user, signer, read_back, session, rate_mg_per_h)
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    order = signed_order(session)
    if order is None or not order.concentration_mg_per_ml:
        raise ValidationError(NO_PUMP.format(route=order.route if order else "no order"), field="order", value=None)
    if not rate_mg_per_h > 0:
        raise ValidationError(RATE_NOT_POSITIVE, field="rate_mg_per_h", value=rate_mg_per_h)
    dosing = _doc(session).dosing
    if dosing is None:
        raise ValidationError(NO_DOSING.format(value=session.protocol_version), field="protocol", value=None)
    when = _event_at(session, "Rate change", at, backdate_reason, _last_pump_event(session))
    points = rate_points(session)
    given = bag_delivery(points, when, order)  # the dose given so far, as the MAR will record it
    check = titration_check(
        dosing, new_rate_mg_per_h=rate_mg_per_h, dosing_weight_kg=order.dosing_weight_kg,
        actual_weight_kg=float(order.weight_kg), given_mg=given.delivered_mg,
        remaining_min=max((order.duration_min or 0.0) - given.infusing_min, 0.0),
        history=delivered_regimen(points, when),
    )
    override = (override_reason or "").strip()
    if check.warnings:
        if not override:
            raise ValidationError(TITRATION_OVERRIDE_REQUIRED.format(warnings="; ".join(w.message for w in check.warnings)),
                                  field="override_reason", value=override_reason)
        check = titration_override(check, override)
    elif override:
        raise ValidationError(TITRATION_NO_WARNINGS, field="override_reason", value=override_reason)
    rate_ml = round(rate_mg_per_h / order.concentration_mg_per_ml, 1)
    pump_max = dosing.pump.max_rate_ml_per_h if dosing.pump is not None else None
    if pump_max is not None and rate_ml > pump_max:
        raise ValidationError(RATE_ABOVE_PUMP.format(value=rate_ml, high=pump_max), field="rate_mg_per_h", value=rate_mg_per_h)
    event = RateEvent(
        session=session, kind=RateEvent.Kind.RATE, at=when, rate_mg_per_h=rate_mg_per_h, rate_ml_per_h=rate_ml,
        reason=reason.strip(), recorded_by=user, signer=signer, verbal_order=verbal, read_back=verbal and read_back,
        override_reason=check.override_reason or "", limit_check=_limit_check(check),
        backdate_reason=backdate_reason.strip(),
    )
    clean_or_refuse(event)
    event.save()
    _save(session, user)
    _audit(user, session, f"Changed the rate to {rate_mg_per_h:g} mg/h ({rate_ml:g} mL/h), "
           + (f"verbal order of {signer}, read back" if verbal else f"ordered by {signer}") + f": {reason.strip()}"
           + (f" (override: {check.override_reason})" if check.override_reason else ""),
           signer=str(signer.external_id), verbal_order=verbal)
    return event


def _limit_check(check: TitrationCheck) -> dict[str, Any]:
    return {"rate_mg_per_h": check.rate_mg_per_h, "rate_mg_per_kg_per_h": round(check.rate_mg_per_kg_per_h, 4),
            "given_mg": round(check.given_mg, 3), "given_mg_per_kg": round(check.given_mg_per_kg, 4),
            "remaining_min": round(check.remaining_min, 2), "projected_mg": round(check.projected_mg, 3),
            "projected_mg_per_kg": round(check.projected_mg_per_kg, 4),
            "predicted_peak_ng_per_ml": None if check.predicted_peak_ng_per_ml is None
            else round(check.predicted_peak_ng_per_ml, 1),
            "warnings": [w.message for w in check.warnings]}


def cosign_due(event: RateEvent, hours: float) -> datetime:
    return event.recorded_at + timedelta(hours=hours)


@transaction.atomic
def titration_cosign(*, user: User, event: RateEvent) -> RateEvent:
    """A prescriber co-signs a verbal titration order: the named prescriber or another at the patient's location.

    Fills the co-signature once (the database refuses any other change of a rate event); audited.
    """
    require(user, Permission.ORDER_SIGN)
    event = RateEvent.objects.select_for_update(of=("self",)).select_related(  # cosigned_by read after the lock
        "session__patient", "signer").get(pk=event.pk)
    patient_for(user, event.session.patient, Permission.ORDER_SIGN)
    if not event.verbal_order:
        raise ValidationError(COSIGN_NOT_VERBAL, field="event", value=event.pk)
    if event.cosigned_at is not None:
        raise ValidationError(COSIGN_ALREADY.format(who=event.cosigned_by, when=f"{timezone.localtime(event.cosigned_at):%Y-%m-%d %H:%M}"),
                              field="event", value=event.pk)
    event.cosigned_by, event.cosigned_at = user, timezone.now()
    event.save(update_fields=["cosigned_by", "cosigned_at"])
    _audit(user, event.session, f"Co-signed the verbal order of {event.signer} ({event.rate_mg_per_h:g} mg/h at "
           f"{timezone.localtime(event.at):%H:%M})", AuditEntry.Action.SIGN, rate_event=event.pk)
    return event


@transaction.atomic
def infusion_stop(*, user: User, session: InfusionSession, expected_version: int, reason: str = "",
                  at: datetime | None = None, backdate_reason: str = "") -> RateEvent:
    """Stop the pump: recovery (and the observation clock) begins at the stop; the ketamine given goes on the MAR.

    The stop may be entered late within the protocol's bounds, never before the last pump event nor before the
    last reading taken during the infusion (so a late stop cannot shorten the infusion the record shows). The MAR
    records what the pump delivered up to the stop, never more than the bag held (its VTBI)."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _move(session, SessionAction.STOP)
    last_reading = (session.vitals.filter(phase=VitalSigns.Phase.INFUSION).order_by("-taken_at")
                    .values_list("taken_at", flat=True).first())
    when = _event_at(session, "Stop", at, backdate_reason, _last_pump_event(session),
                     ("the last reading taken during the infusion", last_reading))
    event = _event(session, user, RateEvent.Kind.STOP, when, reason=reason.strip(), backdate_reason=backdate_reason)
    session.ended_at = when
    given = session_delivery(session, when)
    order = signed_order(session)
    if round(given.delivered_mg, 3) > 0:  # an intranasal session's doses are recorded as administrations instead
        bag_empty = given.vtbi_reached_at is not None
        MedicationAdministration.objects.create(
            session=session, medication="ketamine", rxnorm=medication_get("ketamine").rxnorm,
            dose=Decimal(str(round(given.delivered_mg, 3))), unit="mg", route=order.route if order else "iv",
            at=session.started_at, ended_at=when,
            reason=(MAR_BAG_EMPTY.format(vtbi=given.vtbi_ml or 0.0) if bag_empty else "Infusion per signed order"),
            created_by=user, updated_by=user,
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
    backdate_reason: str = "",
) -> VitalsPosted:
    """Record one reading, committed at once; a retry with the same ``client_id`` returns the stored reading."""
    client_id = (client_id or "").strip()
    if not client_id:
        raise ValidationError(CLIENT_ID_REQUIRED, field="client_id", value=client_id)
    if taken_at is not None and taken_at.tzinfo is None:
        raise ValidationError(TAKEN_AT_NAIVE.format(value=taken_at.isoformat(timespec="minutes")), field="taken_at",
                              value=taken_at)
    try:
        with transaction.atomic():
            return _vitals_record(user=user, session=session, client_id=client_id, taken_at=taken_at,
                                  reading=VitalReading(systolic_mmhg, diastolic_mmhg, heart_rate_bpm, spo2_percent,
                                                       respiratory_rate_per_min,
                                                       Sedation.parse(sedation) if sedation else None),
                                  source=source, backdate_reason=backdate_reason)
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
                   reading: VitalReading, source: str, backdate_reason: str = "") -> VitalsPosted:
    session = _lock(user, session, Permission.SESSION_RUN, None)
    existing = VitalSigns.objects.filter(client_id=client_id).first()
    if existing is not None:
        return _existing(user, session, existing)
    if session.state_enum.closed:
        raise ValidationError(SESSION_CLOSED.format(state=session.get_state_display().lower()), field="state",
                              value=session.state)
    if session.checked_in_at is None:
        raise ValidationError(NOT_CHECKED_IN, field="state", value=session.state)
    when = _event_at(session, "A reading taken", taken_at, backdate_reason)
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
        recorded_by=user, backdate_reason=backdate_reason.strip(),
    )
    v.save()
    alerts = []
    if phase != VitalSigns.Phase.BASELINE:
        for a in alerts_for(reading, monitoring):
            alerts.append(VitalAlert.objects.create(
                external_id=uuid.uuid4(), session=session, vitals=v, rule=a.rule, vital=a.vital.value, value=a.value,
                limit=a.limit, suggested_action=a.action.value, level=a.level.value, message=a.message, raised_at=when))
    _audit(user, session, f"Recorded vital signs ({phase})" + (f", {len(alerts)} alert(s)" if alerts else ""),
           AuditEntry.Action.CREATE, vitals=str(v.external_id), alerts=[a.rule for a in alerts])
    return VitalsPosted(v, True, tuple(alerts))


OVERDUE_RULE = "vitals_overdue"


@transaction.atomic
def vitals_overdue_alert_raise(*, session: InfusionSession, due: VitalsDue | None) -> VitalAlert | None:
    """Overdue vital signs become an alert that must be acknowledged (one open at a time; idempotent).

    Called when the live page or its poll is read, with the due time computed from the last COMPLETE set
    (a partial reading does not clear it). Nothing is written unless the set is overdue.
    """
    if due is None or not due.overdue:
        return None
    locked = InfusionSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if locked.alerts.filter(rule=OVERDUE_RULE, acknowledged_at__isnull=True).exists():
        return None
    monitoring = _sections(locked)[0]
    due_local = due.due_at.astimezone(ZoneInfo(locked.location.timezone)).strftime("%H:%M")
    alert = VitalAlert.objects.create(
        external_id=uuid.uuid4(), session=locked, vitals=None, rule=OVERDUE_RULE, vital="", value=round(due.overdue_by_min, 1),
        limit=monitoring.overdue_grace_min, suggested_action="observe", level="hold",
        message=OVERDUE_ALERT.format(late=due.overdue_by_min, due=due_local), raised_at=timezone.now())
    audit_record(action=AuditEntry.Action.CREATE, actor=None, patient=locked.patient,
                 summary=f"Alert: vital signs overdue by {due.overdue_by_min:.0f} min",
                 detail={"session": str(locked.external_id), "alert": str(alert.external_id)})
    return alert


@transaction.atomic
def alert_acknowledge(*, user: User, alert: VitalAlert, note: str = "") -> VitalAlert:
    """Acknowledge an alert (once; the second nurse is told who did it first)."""
    _lock(user, alert.session, Permission.SESSION_RUN, None)
    alert = VitalAlert.objects.select_for_update(of=("self",)).select_related("session__patient").get(pk=alert.pk)
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
                         needs_review=core_review_required(kind, severity), created_by=user, updated_by=user)
    clean_or_refuse(event)
    event.save()
    _save(session, user)
    _audit(user, session, f"Adverse event: {event.get_kind_display()} ({severity})", AuditEntry.Action.CREATE,
           adverse_event=str(event.external_id))
    if event.needs_review:  # the prescriber is told now; discharge waits for their review
        adverse_event_notify(user=user, session=session, event=event)
    return event


def adverse_events_unreviewed(session: InfusionSession) -> tuple[str, ...]:
    """Severe adverse events of the session no prescriber has reviewed yet, in words (they block discharge)."""
    zone = ZoneInfo(session.location.timezone)
    return tuple(UNREVIEWED.format(kind=e.get_kind_display().lower(), time=f"{e.at.astimezone(zone):%H:%M}")
                 for e in session.adverse_events.filter(needs_review=True, reviewed_at__isnull=True))


@transaction.atomic
def adverse_event_review(*, user: User, event: AdverseEvent, note: str) -> AdverseEvent:
    """A prescriber reviews a severe adverse event (once), with a note; this lifts its block on discharge."""
    session = _lock(user, event.session, Permission.ORDER_SIGN, None)
    locked = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    if not locked.needs_review or locked.reviewed_at is not None:
        raise ValidationError(ADVERSE_NO_REVIEW, field="adverse_event", value=str(locked.external_id))
    text = note.strip()
    if len(text) < MIN_REVIEW_NOTE_CHARS:
        raise ValidationError(REVIEW_NOTE_SHORT.format(low=MIN_REVIEW_NOTE_CHARS), field="review_note", value=note)
    locked.reviewed_by, locked.reviewed_at, locked.review_note, locked.updated_by = user, timezone.now(), text, user
    locked.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_by", "updated_at"])
    _save(session, user)
    _audit(user, session, f"Reviewed the adverse event {locked.get_kind_display()}: {text}",
           adverse_event=str(locked.external_id))
    return locked


@transaction.atomic
def administration_record(*, user: User, session: InfusionSession, expected_version: int, medication: str,
                          dose: Any, unit: str, route: str, at: datetime | None = None, reason: str = "",
                          adverse_event: AdverseEvent | None = None, override_reason: str = "") -> MedicationAdministration:
    """A rescue medication (or an intranasal dose) given in the session, for the MAR: the protocol's formulary
    decides (``core.infusion.medications.administration_check``); ketamine is never recorded by hand."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _recordable(session)
    if route not in MedicationAdministration.Route.values:
        raise ValidationError(ROUTE_UNKNOWN.format(value=route, allowed=", ".join(MedicationAdministration.Route.values)),
                              field="route", value=route)
    code = (medication or "").strip().lower()
    order = signed_order(session)
    decision = administration_check(
        session.protocol_version.parsed.formulary, code, dose=dose, unit=unit, route=route,
        given=[PriorDose(g.dose, g.unit) for g in session.administrations.filter(medication=code)],
        allergies=patient_allergies(session.patient), prescriber_order=user.can(Permission.ORDER_SIGN),
        override_reason=override_reason, signed_order_dose_mg=None if order is None else order.dose_mg)
    med = medication_get(code)
    amount = decision.amount
    if decision.override_reason:
        reason = f"{reason.strip()} (beyond {'; '.join(decision.beyond_soft)}: {decision.override_reason})".strip()
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


def recovery_readings(session: InfusionSession) -> list[TimedReading]:
    """Every reading taken after the infusion stopped, with its time, for the core's discharge evidence."""
    if session.ended_at is None:
        return []
    return [TimedReading(v.taken_at, reading_of(v), v.recorded_at)
            for v in session.vitals.filter(taken_at__gt=session.ended_at).order_by("taken_at", "id")]


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
    monitoring, _, section = _sections(session)
    now = timezone.now()
    baseline = baseline_reading(session)
    evidence = core_recovery_evidence(recovery_readings(session), ended_at=session.ended_at, now=now, section=section,
                                      monitoring=monitoring, baseline=baseline)
    decision = core_discharge_assess(
        section,
        scores={"activity_mental_status": activity_mental_status, "pain": pain, "nausea_vomiting": nausea_vomiting,
                "intake_output": intake_output},
        baseline=baseline, latest=evidence.latest, recovery_problems=evidence.problems,
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
    monitoring, _, section = _sections(session)
    now = timezone.now()
    last = session.discharge_assessments.order_by("-assessed_at", "-id").first()
    failures = ("no assessment",) if last is None else tuple(last.reasons) if not last.fit else ()
    if last is not None and last.fit:  # re-evaluated with every reading taken since the assessment
        failures = core_assessment_voided(last.assessed_at, recovery_readings(session), section=section,
                                          monitoring=monitoring, baseline=baseline_reading(session))
    failures += adverse_events_unreviewed(session)
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
    zone = ZoneInfo(session.location.timezone)  # the location's clock, whoever generates the note and wherever

    def t(dt: datetime | None) -> str:
        return "—" if dt is None else dt.astimezone(zone).strftime("%H:%M")

    order = signed_order(session)
    given = session_delivery(session, session.ended_at or timezone.now())
    vitals = list(session.vitals.all())
    lines = [
        f"Infusion session {session.scheduled_start.astimezone(zone):%Y-%m-%d} ({session.location.timezone} time), "
        f"{session.location.name}"
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
    if order is not None and order.vtbi_ml:
        lines.append(f"Bag: {order.drug_volume_ml or 0:.2f} mL of {order.vial_mg_per_ml or 0:g} mg/mL drawn into "
                     f"{order.bag_ml or 0:g} mL; volume to be infused {order.vtbi_ml:.1f} mL"
                     + (f"; the bag ran empty at {t(given.vtbi_reached_at)}: the record stops at what it held"
                        if given.vtbi_reached_at else "") + ".")
    for e in session.rate_events.all():
        if e.kind == RateEvent.Kind.RATE:
            lines.append(f"  {t(e.at)} rate changed to {e.rate_mg_per_h:g} mg/h, "
                         + (f"verbal order of {e.signer}, read back" if e.verbal_order else f"ordered by {e.signer}")
                         + f": {e.reason}" + (f" (beyond a soft limit: {e.override_reason})" if e.override_reason else "")
                         + ("" if not e.verbal_order else f"; co-signed by {e.cosigned_by} {t(e.cosigned_at)}"
                            if e.cosigned_at else "; not yet co-signed"))
        elif e.kind in (RateEvent.Kind.PAUSE, RateEvent.Kind.RESUME, RateEvent.Kind.STOP):
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
