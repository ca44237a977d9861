"""Book, move and cancel an appointment of any kind (one transaction each, audited, nothing half-saved).

Two people booking the same chair, nurse or patient at once: on SQLite the transaction is IMMEDIATE, so the
second waits and then finds the first's booking; on PostgreSQL the chair's or room's row is locked and the
exclusion constraints refuse whatever slips past (the staff member, the patient), and the loser is told which
resource is taken and the nearest free starts, exactly as on SQLite.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.base.signals import appointment_changed, booking_requested
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.scheduling.hours import span_words
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.plans.services import infusion_move
from ketaclinic.scheduling.models import Appointment, AppointmentType, Room
from ketaclinic.scheduling.selectors import own_planned_slot
from ketaclinic.scheduling.services._checks import Request, _check_all, _check_free

NOT_BOOKED = "This appointment is {status}; only a booked appointment can be {what}."
REASON_REQUIRED = "Give a reason for cancelling."
CANCELLED_BY_PATIENT, CANCELLED_BY_CLINIC = "patient", "clinic"
CANCELLED_BY = {CANCELLED_BY_PATIENT: "The patient", CANCELLED_BY_CLINIC: "The clinic"}
CANCELLED_BY_UNKNOWN = "Who cancelled {value!r} is not one of the choices: the patient or the clinic."


def _lock_places(req: Request) -> None:
    """Writers of one chair or room queue here (PostgreSQL); SQLite's IMMEDIATE transaction already has."""
    if req.chair is not None:
        Chair.objects.select_for_update().filter(pk=req.chair.pk).first()
    if req.room is not None:
        Room.objects.select_for_update().filter(pk=req.room.pk).first()


def _store(req: Request, appointment: Appointment) -> Appointment:
    """Check, then save in a savepoint; a clash the database caught (a race) is told like any other."""
    _lock_places(req)
    _check_all(req)
    clean_or_refuse(appointment)
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError:
        _check_free(req)  # the winner has committed: name the resource it took and what is still free
        raise
    return appointment


def _detail(a: Appointment) -> dict[str, str | None]:
    return {
        "appointment": str(a.external_id),
        "type": a.type.code,
        "start": a.start.isoformat(),
        "end": a.end.isoformat(),
        "chair": a.chair.name if a.chair else None,
        "room": a.room.name if a.room else None,
        "staff": str(a.staff),
    }


def _book(req: Request) -> Appointment:
    interval = req.interval
    # the apps above (billing: a prior authorization's dates and units) may refuse the booking
    booking_requested.send(
        sender=Appointment, patient=req.patient, kind=req.kind, start=interval.start, location=req.location
    )
    appointment = Appointment(
        location=req.location,
        type=req.kind,
        patient=req.patient,
        start=interval.start,
        end=interval.end,
        chair=req.chair,
        room=req.room,
        at_home=req.at_home,
        staff=req.staff,
        planned_infusion=req.planned,
        booked_by=req.user,
        reason=req.reason.strip()[:300],
        created_by=req.user,
        updated_by=req.user,
    )
    _store(req, appointment)
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=req.user,
        patient=req.patient,
        summary=f"Booked {req.kind.name.lower()} {span_words(interval, req.tz)} at {req.location.name}",
        detail=_detail(appointment),
        location_code=req.location.code,
    )
    return appointment


@transaction.atomic
def appointment_book(
    *,
    user: User,
    patient: Patient,
    kind: AppointmentType,
    location: Location,
    start: datetime,
    staff: User,
    chair: Chair | None = None,
    room: Room | None = None,
    at_home: bool = False,
    reason: str = "",
) -> Appointment:
    """Book one appointment; ``reason`` says why an infusion is added outside the plan's dated slots. An
    infusion or booster at the very time of one of the patient's planned infusions books that slot (its
    chair time; no reason needed)."""
    patient_for(user, patient, Permission.SCHEDULE_MANAGE)
    planned = own_planned_slot(patient=patient, kind=kind, location=location, start=start)
    req = Request(
        user=user,
        location=location,
        kind=kind,
        patient=patient,
        start=start,
        minutes=planned.duration_minutes if planned is not None else kind.duration_minutes,
        staff=staff,
        chair=chair,
        room=room,
        at_home=at_home,
        planned=planned,
        reason=reason,
    )
    return _book(req)


def _locked(user: User, appointment: Appointment, what: str) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "type", "location", "chair", "room", "staff", "planned_infusion__plan")
        .get(pk=appointment.pk)
    )
    patient_for(user, appointment.patient, Permission.SCHEDULE_MANAGE)
    if appointment.status != Appointment.Status.BOOKED:
        raise ValidationError(
            NOT_BOOKED.format(status=appointment.get_status_display().lower(), what=what),
            field="status",
            value=appointment.status,
        )
    return appointment


@transaction.atomic
def appointment_move(
    *,
    user: User,
    appointment: Appointment,
    start: datetime,
    chair: Chair | None = None,
    room: Room | None = None,
    staff: User | None = None,
) -> Appointment:
    """Move an appointment (and optionally change its chair, room or staff member), re-checking everything,
    the series spacing included; a plan slot's appointment moves the plan's slot with it."""
    a = _locked(user, appointment, "moved")
    if a.planned_infusion is not None:  # the plan before the chair, in the order plan_series_book locks them
        TreatmentPlan.objects.select_for_update(of=("self",)).filter(pk=a.planned_infusion.plan_id).first()
    before = _detail(a)
    chair = chair or (a.chair if room is None else None)
    room = room or (a.room if chair is None else None)
    req = Request(
        user=user,
        location=a.location,
        kind=a.type,
        patient=a.patient,
        start=start,
        minutes=int((a.end - a.start).total_seconds() // 60),
        staff=staff or a.staff,
        chair=chair,
        room=room,
        at_home=a.at_home,
        planned=a.planned_infusion,
        reason=a.reason,
        exclude=a.pk,
    )
    interval = req.interval
    a.start, a.end, a.chair, a.room, a.staff, a.updated_by = (
        interval.start,
        interval.end,
        chair,
        room,
        req.staff,
        user,
    )
    _store(req, a)
    if a.planned_infusion is not None:  # the plan's slot keeps the appointment's time and chair
        infusion_move(user=user, infusion=a.planned_infusion, start=start, location=a.location, chair=chair)
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        patient=a.patient,
        summary=f"Moved {a.type.name.lower()} to {span_words(interval, req.tz)}",
        detail={"from": before, "to": _detail(a)},
        location_code=a.location.code,
    )
    appointment_changed.send(sender=Appointment, appointment=a)
    return a


@transaction.atomic
def appointment_cancel(
    *, user: User, appointment: Appointment, reason: str, cancelled_by: str = CANCELLED_BY_PATIENT
) -> Appointment:
    """Cancel with a reason, saying who cancelled (the patient or the clinic); the chair, room, staff
    member and patient are free again at that time (a plan slot stays planned, to be booked again). The apps
    above hear of it in this transaction (billing charges a late cancellation by the patient its fee)."""
    if cancelled_by not in CANCELLED_BY:
        raise ValidationError(
            CANCELLED_BY_UNKNOWN.format(value=cancelled_by), field="cancelled_by", value=cancelled_by
        )
    a = _locked(user, appointment, "cancelled")
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    a.status, a.cancel_reason, a.updated_by = Appointment.Status.CANCELLED, reason.strip()[:200], user
    clean_or_refuse(a)
    a.save()
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        patient=a.patient,
        summary=f"Cancelled {a.type.name.lower()} of {a.start:%Y-%m-%d %H:%M}: {a.cancel_reason}",
        detail={"appointment": str(a.external_id), "reason": a.cancel_reason, "cancelled_by": cancelled_by},
        location_code=a.location.code,
    )
    appointment_changed.send(sender=Appointment, appointment=a, user=user, cancelled_by=cancelled_by)
    return a
