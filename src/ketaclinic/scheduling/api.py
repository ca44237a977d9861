"""Front desk API: the nearest free starts for an appointment, and booking one."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.patients.selectors import patient_get
from ketaclinic.scheduling import selectors
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.services import appointment_book

router = Router(tags=["front desk"])


class FreeSlotsIn(Schema):
    location: str = Field(min_length=1, max_length=40, description="Location code.")
    type: str = Field(min_length=1, max_length=40, description="Appointment type code, e.g. consultation.")
    start: datetime = Field(description="The wanted start, with a time-zone offset.")
    patient: UUID
    staff: UUID | None = Field(None, description="Keep to this staff member's shifts and bookings.")
    chair: UUID | None = None
    room: UUID | None = None
    n: int = Field(3, ge=1, le=10, description="How many starts to offer.")


class FreeSlotsOut(Schema):
    time_zone: str
    starts: list[datetime] = Field(description="Free starts nearest the wanted one, in the location's zone.")


class BookIn(Schema):
    patient: UUID
    type: str = Field(min_length=1, max_length=40)
    location: str = Field(min_length=1, max_length=40)
    start: datetime = Field(description="Start, with a time-zone offset.")
    staff: UUID
    chair: UUID | None = None
    room: UUID | None = None
    at_home: bool = False
    reason: str = Field("", max_length=300, description="Why an infusion is added outside the plan's slots.")


class AppointmentOut(Schema):
    id: UUID = Field(alias="external_id")
    type: str = Field(alias="type.code")
    location: str = Field(alias="location.code")
    start: datetime
    end: datetime
    chair: str | None = None
    room: str | None = None
    staff: str
    status: str

    @staticmethod
    def resolve_start(obj: Appointment) -> datetime:
        return obj.start.astimezone(ZoneInfo(obj.location.timezone))

    @staticmethod
    def resolve_end(obj: Appointment) -> datetime:
        return obj.end.astimezone(ZoneInfo(obj.location.timezone))

    @staticmethod
    def resolve_chair(obj: Appointment) -> str | None:
        return obj.chair.name if obj.chair else None

    @staticmethod
    def resolve_room(obj: Appointment) -> str | None:
        return obj.room.name if obj.room else None

    @staticmethod
    def resolve_staff(obj: Appointment) -> str:
        return str(obj.staff)


@router.get("/free-slots", response=FreeSlotsOut, summary="The nearest free starts for an appointment")
def free_slots(request: AuthedRequest, query: Query[FreeSlotsIn]) -> FreeSlotsOut:
    require(request.user, Permission.SCHEDULE_MANAGE)
    patient = patient_get(
        user=request.user, external_id=str(query.patient), permission=Permission.SCHEDULE_MANAGE
    )
    found = selectors.booking_resources(
        user=request.user,
        location=query.location,
        kind=query.type,
        staff=str(query.staff) if query.staff else None,
        chair=str(query.chair) if query.chair else None,
        room=str(query.room) if query.room else None,
    )
    tz = ZoneInfo(found.location.timezone)
    starts = selectors.free_starts(
        location=found.location,
        want=query.start,
        minutes=found.kind.duration_minutes,
        chair=found.chair,
        room=found.room,
        staff=found.staff,
        patient=patient,
        now=timezone.now(),
        own_slots=found.kind.code not in selectors.PLAN_SLOT_TYPES,  # an infusion at its slot books that slot
        n=query.n,
    )
    return FreeSlotsOut(time_zone=str(tz), starts=[s.astimezone(tz) for s in starts])


@router.post("/appointments", response={201: AppointmentOut}, summary="Book an appointment")
def book(request: AuthedRequest, payload: BookIn) -> Status[Appointment]:
    require(request.user, Permission.SCHEDULE_MANAGE)
    patient = patient_get(
        user=request.user, external_id=str(payload.patient), permission=Permission.SCHEDULE_MANAGE
    )
    found = selectors.booking_resources(
        user=request.user,
        location=payload.location,
        kind=payload.type,
        staff=str(payload.staff),
        chair=str(payload.chair) if payload.chair else None,
        room=str(payload.room) if payload.room else None,
    )
    assert found.staff is not None  # noqa: S101 - named in the request, found or DoesNotExist (404)
    appointment = appointment_book(
        user=request.user,
        patient=patient,
        kind=found.kind,
        location=found.location,
        start=payload.start,
        staff=found.staff,
        chair=found.chair,
        room=found.room,
        at_home=payload.at_home,
        reason=payload.reason,
    )
    return Status(201, appointment)
