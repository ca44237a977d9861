"""Fill the chairs: the coordinator accepts some or all of the week's proposals. Each is booked on its own
(one transaction per appointment): the plan's slot moves to the proposed time and chair (the plans' own
``infusion_move``, which re-checks the series spacing and the chair), then the appointment is booked with
every check of ``appointment_book`` (hours, shifts, skills, a prescriber on site, the pathway, no double
booking). A refusal rolls back that one proposal only and says which and why; the rest keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from ketaclinic.accounts.models import Chair, User
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.core.scheduling.intervals import Interval
from ketaclinic.patients.access import patient_for
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.plans.services import infusion_move
from ketaclinic.scheduling.models import Appointment, AppointmentType
from ketaclinic.scheduling.selectors import staff_free
from ketaclinic.scheduling.services._checks import Request
from ketaclinic.scheduling.services.appointments import _book

NO_STAFF = "nobody who gives infusions is on shift and free at {location} for all of that time"


@dataclass(frozen=True)
class Accepted:
    slot: PlannedInfusion
    start: datetime
    chair: Chair
    appointment: Appointment | None  # None: refused
    refusal: str = ""


@transaction.atomic
def _accept_one(*, user: User, slot: PlannedInfusion, chair: Chair, start: datetime) -> Appointment:
    slot = PlannedInfusion.objects.select_related("plan__patient", "location").get(pk=slot.pk)
    patient = patient_for(user, slot.plan.patient, Permission.SCHEDULE_MANAGE)
    code = "booster" if slot.kind == PlannedInfusion.Kind.BOOSTER else "infusion"
    kind = AppointmentType.objects.get(code=code)
    slot = infusion_move(user=user, infusion=slot, start=start, location=slot.location, chair=chair)
    staff = staff_free(
        location=slot.location, kind=kind, window=Interval.of(start, slot.duration_minutes), patient=patient
    )
    if staff is None:
        raise ValidationError(NO_STAFF.format(location=slot.location.name), field="staff", value=None)
    return _book(
        Request(
            user=user,
            location=slot.location,
            kind=kind,
            patient=patient,
            start=start,
            minutes=slot.duration_minutes,
            staff=staff,
            chair=chair,
            planned=slot,
        )
    )


def placement_accept(*, user: User, chosen: list[tuple[PlannedInfusion, Chair, datetime]]) -> list[Accepted]:
    """Book each chosen proposal in its own transaction; a refusal is reported and the others go on."""
    results = []
    for slot, chair, start in chosen:
        try:
            booked = _accept_one(user=user, slot=slot, chair=chair, start=start)
        except DomainError as exc:
            results.append(Accepted(slot, start, chair, None, exc.message))
        else:
            results.append(Accepted(slot, start, chair, booked))
    return results
