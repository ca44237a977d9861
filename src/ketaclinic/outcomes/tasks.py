"""The outcomes' background jobs (docs/jobs.md): the daily questionnaire links, one task per location that
walks its patients in fixed-size chunks, and the email that tells a prescriber a safety flag was raised, one
task per prescriber, enqueued in the transaction that raises the flag. Both are retried with backoff. And
the nightly check that the dashboard's summaries are complete (it builds them once, after an upgrade)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.base.time_zones import activate_for
from ketaclinic.jobs.retries import retried
from ketaclinic.outcomes import emails
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.outcomes.selectors import summaries_built
from ketaclinic.outcomes.services.dispatch import due_links_send
from ketaclinic.outcomes.services.summaries import outcome_summaries_rebuild

FLAG_EMAIL_FAILED = "The safety-flag email to a prescriber failed: {error}"


class JobIncomplete(Exception):
    """A job did part of its work; the rest is tried again by its next attempt."""


def links_base_url() -> str:
    """The https:// address patients' links start with (the local server's in DEBUG)."""
    return settings.KETACLINIC_BASE_URL or ("http://127.0.0.1:8000" if settings.DEBUG else "")


@retried(attempts=4, first_delay=timedelta(minutes=5))
def due_links_location(location_id: int, day: str) -> str:
    """Email the questionnaire links due today at one location.

    They are queued in the outbox, whose worker sends them. Idempotent: a patient whose link was queued
    has a live link and is skipped."""
    location = Location.objects.get(pk=location_id)
    activate_for(location)
    try:
        summary = due_links_send(
            user=None, base_url=links_base_url(), location=location, today=date.fromisoformat(day)
        )
    finally:
        timezone.deactivate()
    return str(summary)


def due_links_enqueue(*, day: date | None = None, location: Location | None = None) -> int:
    """Enqueue the daily links for every active location (or one): one task each, so no process holds the
    whole network. ``day`` None is each location's own today. The number of tasks enqueued."""
    places = [location] if location else list(Location.objects.filter(active=True).order_by("code"))
    for place in places:
        today = day or timezone.localtime(timezone=ZoneInfo(place.timezone)).date()
        due_links_location.enqueue(place.pk, today.isoformat())
    return len(places)


@retried(attempts=6, first_delay=timedelta(minutes=1))
def safety_flag_email(flag_id: str, user_id: int) -> None:
    """Tell a prescriber by email that a patient's safety flag waits for them."""
    flag = SafetyFlag.objects.select_related("patient__location").get(external_id=flag_id)
    user = User.objects.get(pk=user_id)
    error = emails.safety_flag_email(flag, user)
    if error:
        raise JobIncomplete(FLAG_EMAIL_FAILED.format(error=error))


def safety_flag_notify(flag: SafetyFlag) -> int:
    """Enqueue one email per prescriber to tell (in the caller's transaction: a rolled-back flag tells
    nobody); audit at once when there is nobody to tell. The number of emails enqueued."""
    recipients = emails.safety_flag_recipients(flag)
    if not recipients:
        emails.safety_flag_nobody(flag)
    for user in recipients:
        safety_flag_email.enqueue(str(flag.external_id), user.pk)
    return len(recipients)


@retried(attempts=3, first_delay=timedelta(minutes=30))
def outcome_summaries_complete(day: str) -> str:
    """Build the outcomes dashboard's summaries when a build waits (a database that held answers before the
    summaries existed: the migration left one unfinished); nothing otherwise, since the services keep them.
    Idempotent: a retry or a second worker rebuilds the same rows."""
    if summaries_built():
        return "the outcome summaries are complete"
    build = outcome_summaries_rebuild()
    return f"outcome summaries built for {build.patients} patients"
