"""Reads of the day-before reminders: the planned infusions of a local day still to be reminded."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from ketaclinic.accounts.models import Location
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan


def infusions_to_remind(*, location: Location, appointment_day: date) -> QuerySet[PlannedInfusion]:
    """The location's planned infusions on ``appointment_day`` (its local day) of active plans, not cancelled
    or done, with no reminder made yet: each with its plan's patient, in time order."""
    start = datetime.combine(appointment_day, time.min, tzinfo=ZoneInfo(location.timezone))
    return (
        PlannedInfusion.objects.filter(
            location=location,
            scheduled_start__gte=start,
            scheduled_start__lt=start + timedelta(days=1),
            status=PlannedInfusion.Status.PLANNED,
            plan__status=TreatmentPlan.Status.ACTIVE,
            preparation__isnull=True,
        )
        .select_related("plan__patient", "location")
        .order_by("scheduled_start", "pk")
    )
