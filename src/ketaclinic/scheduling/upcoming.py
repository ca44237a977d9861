"""A patient's upcoming appointments as the patient and the chart see them: when, where, what kind (the
patient's phone pages show no kind: see ``patient_words``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment

UPCOMING_LIMIT = 10  # a phone page lists the next ten; the chart's calendar has the rest


def local_when(local: datetime) -> str:
    return f"{local:%A, %B} {local.day} at {local:%I:%M %p}".replace(" at 0", " at ")


@dataclass(frozen=True)
class Upcoming:
    appointment: Appointment
    local_start: datetime  # in the location's time zone
    place: str

    @property
    def when(self) -> str:
        """``Tuesday, December 8 at 9:30 AM`` on the location's wall clock (words, so a page's own active
        time zone does not convert it)."""
        return local_when(self.local_start)

    @property
    def kind(self) -> str:
        return self.appointment.type.name


def upcoming_appointments(patient: Patient, *, now: datetime | None = None) -> list[Upcoming]:
    """The patient's booked appointments from now on, soonest first (one query), each with its start on the
    wall clock of its location and its place in words (the clinic's address, or "At your home")."""
    now = now or timezone.now()
    booked = (
        Appointment.objects.filter(patient=patient, status=Appointment.Status.BOOKED, end__gt=now)
        .select_related("location", "type")
        .order_by("start", "pk")[:UPCOMING_LIMIT]
    )
    return [
        Upcoming(
            appointment=a,
            local_start=a.start.astimezone(ZoneInfo(a.location.timezone)),
            place="At your home"
            if a.at_home
            else ", ".join(p for p in (a.location.name, a.location.address, a.location.city) if p),
        )
        for a in booked
    ]
