"""Session lifecycle: schedule a session (from a planned infusion or added to the plan), check in, cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.base.signals import session_cancelled, session_checked_in
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.pathway import pathway_message, pathway_problems
from ketaclinic.core.infusion.state import SessionAction, SessionState
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.infusions.selectors.pathway import active_plan, pathway_facts, session_document
from ketaclinic.infusions.services._common import _audit, _lock, _move, _save, _when
from ketaclinic.patients.access import can_access_patient, patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion

NO_PROTOCOL = "A session needs a protocol version (or a planned infusion of a plan)."
CANCEL_REASON_REQUIRED = "Say why the session is cancelled."
LOCATION_NOT_ALLOWED = "You do not work at {value}."
PLANNED_PATIENT_ELSEWHERE = (
    "This patient is cared for at {home}, which you do not work at; the staff of {home} check them in."
)
PLANNED_NOT_TODAY = "{label} is planned on {day}, not today ({today}); move it to today first."
PLANNED_NOT_PLANNED = "{label} is {status}{reason}; it cannot be checked in."
PLANNED_PLAN_NOT_ACTIVE = (
    "{label} belongs to a plan that is {status}; only a signed, active plan's infusions are given."
)
PLANNED_ALREADY_CHECKED_IN = (
    "{patient} was already checked in for {label} at {when} (by {who}); open the session from the board."
)
PATIENT_BUSY = (
    "The patient already has a session {other_start}-{other_end}; this one would be {start}-{end}. "
    "A patient is in one place at a time: cancel or move the other session first."
)
CHAIR_BUSY = (
    "{chair} is taken {other_start}-{other_end} by {what}; this session would need it {start}-{end} "
    "(the protocol's chair time, {minutes} min). Choose another chair or time."
)
PLANNED_HAS_SESSION = "That planned infusion already has a session."
PLANNED_OTHER_PATIENT = "That planned infusion belongs to another patient."
HOME_AND_CHAIR = "A home infusion has no chair."
CHAIR_OTHER_LOCATION = "Chair {value} is not at {location}."


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
    """Open a session for a day's infusion (from a planned infusion of the plan, or added to the active plan
    with a reason); refused outside the pathway (core ``pathway_problems``)."""
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
        raise ValidationError(
            LOCATION_NOT_ALLOWED.format(value=location), field="location", value=location.code
        )
    if chair is not None and chair.location_id != location.pk:
        raise ValidationError(
            CHAIR_OTHER_LOCATION.format(value=chair.name, location=location), field="chair", value=chair.name
        )
    if at_home and chair is not None:
        raise ValidationError(HOME_AND_CHAIR, field="chair", value=chair.name)
    plan = active_plan(patient)
    session = InfusionSession(
        patient=patient,
        planned_infusion=planned_infusion,
        protocol_version=protocol_version,
        location=location,
        chair=chair,
        at_home=at_home,
        scheduled_start=scheduled_start,
        treatment_plan=plan,
        added_reason=added_reason.strip()[:300],
        created_by=user,
        updated_by=user,
    )
    session_document(session)
    problems = pathway_problems(pathway_facts(session, at=scheduled_start))
    if problems:
        raise ValidationError(pathway_message(problems), field="pathway", value=list(problems))
    minutes = _chair_minutes(protocol_version)
    session.scheduled_end = scheduled_start + timedelta(minutes=minutes)
    clean_or_refuse(session, exclude=["planned_infusion"])  # checked above; the database has the last word
    try:
        with (
            transaction.atomic()
        ):  # the chair's row is locked: two requests for one chair and time queue here
            _place_free(session, minutes)
            session.save()
    except IntegrityError:
        if planned_infusion is not None and (
            InfusionSession.objects.filter(planned_infusion=planned_infusion)
            .exclude(state=SessionState.CANCELLED.value)
            .exists()
        ):
            raise ValidationError(
                PLANNED_HAS_SESSION, field="planned_infusion", value=str(planned_infusion.external_id)
            ) from None
        with (
            transaction.atomic()
        ):  # PostgreSQL's exclusion constraint caught a race the lock did not: say which
            _place_free(session, minutes)
        raise
    _audit(
        user,
        session,
        f"Scheduled infusion session {scheduled_start:%Y-%m-%d %H:%M} ({protocol_version})"
        + (f" from {planned_infusion.label} of the plan" if planned_infusion is not None else ""),
        AuditEntry.Action.CREATE,
        **({"planned_infusion": str(planned_infusion.external_id)} if planned_infusion is not None else {}),
    )
    return session


def _chair_minutes(protocol_version: ProtocolVersion) -> int:
    series = getattr(protocol_version.parsed, "series", None)
    return int(series.chair_minutes) if series is not None else 120


def _window(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[str, str]:
    return f"{start.astimezone(tz):%a %Y-%m-%d %H:%M}", f"{end.astimezone(tz):%H:%M}"


def _chair_name(session: InfusionSession) -> str:
    return session.chair.name if session.chair is not None else ""


def _place_free(session: InfusionSession, minutes: int) -> None:
    """A session's chair (and its patient) must be free from its start to its end: no other session that is
    not cancelled, and no planned infusion of another patient holding the chair. The chair's row is locked
    first (on PostgreSQL; SQLite serialises writers), and PostgreSQL's exclusion constraints have the last
    word."""
    start, end = session.scheduled_start, session.scheduled_end
    assert end is not None
    tz = ZoneInfo(session.location.timezone)
    near = (
        InfusionSession.objects.exclude(state=SessionState.CANCELLED.value)
        .exclude(pk=session.pk)
        .filter(scheduled_start__lt=end, scheduled_start__gt=start - timedelta(hours=12))
        .select_related("protocol_version")
    )
    if session.planned_infusion_id is not None:  # a second session of the same slot: its own refusal (unique)
        near = near.exclude(planned_infusion_id=session.planned_infusion_id)
    when = dict(zip(("start", "end"), _window(start, end, tz), strict=True))
    if session.chair_id is not None:
        Chair.objects.select_for_update().filter(pk=session.chair_id).first()
        for other in near.filter(chair_id=session.chair_id):
            other_end = other.scheduled_end or other.scheduled_start + timedelta(
                minutes=_chair_minutes(other.protocol_version)
            )
            if other_end > start:
                a, b = _window(other.scheduled_start, other_end, tz)
                raise ValidationError(
                    CHAIR_BUSY.format(
                        chair=_chair_name(session),
                        other_start=a,
                        other_end=b,
                        what="another session",
                        minutes=minutes,
                        **when,
                    ),
                    field="chair",
                    value=_chair_name(session),
                )
        held = (
            PlannedInfusion.objects.filter(
                chair_id=session.chair_id,
                status=PlannedInfusion.Status.PLANNED,
                scheduled_start__lt=end,
                scheduled_start__gt=start - timedelta(hours=12),
            )
            .exclude(pk=session.planned_infusion_id or 0)
            .exclude(plan__patient_id=session.patient_id)
        )
        for slot in held:
            if slot.scheduled_end > start:
                a, b = _window(slot.scheduled_start, slot.scheduled_end, tz)
                raise ValidationError(
                    CHAIR_BUSY.format(
                        chair=_chair_name(session),
                        other_start=a,
                        other_end=b,
                        what="another patient's planned infusion",
                        minutes=minutes,
                        **when,
                    ),
                    field="chair",
                    value=_chair_name(session),
                )
    for other in near.filter(patient_id=session.patient_id):
        other_end = other.scheduled_end or other.scheduled_start + timedelta(
            minutes=_chair_minutes(other.protocol_version)
        )
        if other_end > start:
            a, b = _window(other.scheduled_start, other_end, tz)
            raise ValidationError(
                PATIENT_BUSY.format(other_start=a, other_end=b, **when),
                field="scheduled_start",
                value=start.isoformat(),
            )


def _planned_usable(planned: PlannedInfusion, patient: Patient) -> PlannedInfusion:
    """The planned slot, locked, if a session may be made from it: the patient's, of an active (signed)
    plan, still planned (not cancelled or done), without a session yet that is not cancelled (a mistaken
    check-in that was cancelled gives the slot back)."""
    planned = (
        PlannedInfusion.objects.select_for_update(of=("self",))
        .select_related("plan", "location", "chair")
        .get(pk=planned.pk)
    )
    value = str(planned.external_id)
    if planned.plan.patient_id != patient.id:
        raise ValidationError(PLANNED_OTHER_PATIENT, field="planned_infusion", value=value)
    existing = (
        InfusionSession.objects.filter(planned_infusion=planned)
        .exclude(state=SessionState.CANCELLED.value)
        .select_related("created_by", "location")
        .first()
    )
    if existing is not None:
        if existing.checked_in_at is not None:
            raise ValidationError(
                PLANNED_ALREADY_CHECKED_IN.format(
                    patient=patient.display_name,
                    label=planned.label,
                    who=existing.created_by or "someone",
                    when=timezone.localtime(
                        existing.checked_in_at, ZoneInfo(existing.location.timezone)
                    ).strftime("%H:%M"),
                ),
                field="planned_infusion",
                value=value,
            )
        raise ValidationError(PLANNED_HAS_SESSION, field="planned_infusion", value=value)
    if planned.plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            PLANNED_PLAN_NOT_ACTIVE.format(
                label=planned.label, status=planned.plan.get_status_display().lower()
            ),
            field="plan",
            value=planned.plan.status,
        )
    if planned.status != PlannedInfusion.Status.PLANNED:
        reason = f" ({planned.cancel_reason})" if planned.cancel_reason else ""
        raise ValidationError(
            PLANNED_NOT_PLANNED.format(
                label=planned.label, status=planned.get_status_display().lower(), reason=reason
            ),
            field="status",
            value=planned.status,
        )
    return planned


@transaction.atomic
def session_check_in(
    *, user: User, session: InfusionSession, expected_version: int, at: datetime | None = None
) -> InfusionSession:
    session = _lock(user, session, Permission.SCHEDULE_MANAGE, expected_version)
    _move(session, SessionAction.CHECK_IN)
    session.checked_in_at = _when(at, "Check-in")
    _save(session, user, "state", "checked_in_at")
    _audit(user, session, "Checked in for the infusion")
    session_checked_in.send(
        sender=InfusionSession, session=session, user=user
    )  # billing: authorization, package
    return session


@transaction.atomic
def session_check_in_planned(
    *, user: User, planned_infusion: PlannedInfusion, at: datetime | None = None
) -> InfusionSession:
    """The patient arrives for today's planned infusion: open the session from the slot (its plan's protocol
    version, location, chair or home visit, time) and check the patient in, in one transaction.

    Refused, with nothing saved, when the patient is cared for at a location the user does not work at, the
    plan is not signed and active, the slot is cancelled or done, is not today, or already has a session that
    is not cancelled (two people pressing "Check in" at once: the slot's row lock and the partial unique
    constraint let only one through)."""
    require(user, Permission.SCHEDULE_MANAGE)
    planned = PlannedInfusion.objects.select_related("plan__patient__location", "location").get(
        pk=planned_infusion.pk
    )
    patient = planned.plan.patient
    if not can_access_patient(user, patient):
        raise ValidationError(
            PLANNED_PATIENT_ELSEWHERE.format(home=patient.location.name),
            field="patient",
            value=str(patient.external_id),
        )
    tz = ZoneInfo(planned.location.timezone)
    today = timezone.now().astimezone(tz).date()
    if planned.scheduled_start.astimezone(tz).date() != today:
        raise ValidationError(
            PLANNED_NOT_TODAY.format(
                label=planned.label, day=planned.scheduled_start.astimezone(tz).date(), today=today
            ),
            field="scheduled_start",
            value=planned.scheduled_start,
        )
    session = session_schedule(
        user=user, patient=patient, scheduled_start=planned.scheduled_start, planned_infusion=planned
    )
    return session_check_in(user=user, session=session, expected_version=session.version, at=at)


@transaction.atomic
def session_cancel(
    *, user: User, session: InfusionSession, expected_version: int, reason: str
) -> InfusionSession:
    session = _lock(user, session, Permission.SCHEDULE_MANAGE, expected_version)
    if not reason.strip():
        raise ValidationError(CANCEL_REASON_REQUIRED, field="reason", value=reason)
    _move(session, SessionAction.CANCEL)
    session.cancelled_at, session.cancel_reason = timezone.now(), reason.strip()[:200]
    _save(session, user, "state", "cancelled_at", "cancel_reason")
    _audit(user, session, f"Cancelled the infusion session: {session.cancel_reason}")
    session_cancelled.send(
        sender=InfusionSession, session=session, user=user
    )  # billing: the package unit back
    return session
