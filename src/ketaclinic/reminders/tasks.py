"""The daily job that sends tomorrow's infusion reminders, one task per location (``web.jobs.SCHEDULE``)."""

from __future__ import annotations

from datetime import date, timedelta

from ketaclinic.accounts.models import Location
from ketaclinic.base.time_zones import activate_for
from ketaclinic.jobs.retries import retried
from ketaclinic.outcomes.tasks import links_base_url
from ketaclinic.reminders.services import preparation_reminders_send


@retried(attempts=4, first_delay=timedelta(minutes=5))
def preparation_reminders_location(location_id: int, day: str) -> str:
    """Queue the reminders for the infusions of the day after ``day`` at one location. Idempotent: a planned
    infusion already reminded is skipped."""
    location = Location.objects.get(pk=location_id)
    activate_for(location)
    summary = preparation_reminders_send(
        location=location, day=date.fromisoformat(day), base_url=links_base_url()
    )
    return f"{summary.queued} reminder(s) queued, {summary.not_sent} patient(s) could not be reached"
