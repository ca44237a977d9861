"""Reads of the day-before reminders: the booked appointments of a local day still to be reminded."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from ketaclinic.accounts.models import Location
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.reminders.models import PreparationCheck
from ketaclinic.scheduling.models import Appointment


def appointments_to_remind(*, location: Location, appointment_day: date) -> QuerySet[Appointment]:
    """The location's booked appointments of every type on ``appointment_day`` (its local day) with no
    reminder yet for their present start (a moved appointment is reminded again for its new time; a
    cancelled one not at all); a plan slot's appointment only while the slot is planned and the plan
    active. Each with its patient and type, in time order."""
    start = datetime.combine(appointment_day, time.min, tzinfo=ZoneInfo(location.timezone))
    reminded = PreparationCheck.objects.filter(appointment=OuterRef("pk"), starts_at=OuterRef("start"))
    return (
        Appointment.objects.filter(
            location=location,
            start__gte=start,
            start__lt=start + timedelta(days=1),
            status=Appointment.Status.BOOKED,
        )
        .filter(
            Q(planned_infusion__isnull=True)
            | Q(
                planned_infusion__status=PlannedInfusion.Status.PLANNED,
                planned_infusion__plan__status=TreatmentPlan.Status.ACTIVE,
            )
        )
        .filter(~Exists(reminded))
        .select_related("patient", "location", "type")
        .order_by("start", "pk")
    )


def asks_preparation(appointment: Appointment) -> bool:
    """A dosing session (a type that takes a chair: infusion, booster, esketamine) asks the preparation,
    the driver home and the patient's confirmation; any other appointment is only reminded."""
    return appointment.type.is_infusion or appointment.type.needs_chair
