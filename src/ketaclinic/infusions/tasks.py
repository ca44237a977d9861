"""The infusions' background jobs (docs/jobs.md): the email that tells a prescriber a severe adverse event
waits for their review, one task per prescriber, enqueued in the transaction that records the event (a
rolled-back event tells nobody) and retried with backoff like the safety-flag email."""

from __future__ import annotations

from datetime import timedelta

from ketaclinic.accounts.models import User
from ketaclinic.infusions import notifications
from ketaclinic.infusions.models import AdverseEvent
from ketaclinic.jobs.retries import retried

ADVERSE_EMAIL_FAILED = "The adverse-event email to a prescriber failed: {error}"


class EmailNotSent(Exception):
    """The mail server refused or failed; the next attempt tries again."""


@retried(attempts=6, first_delay=timedelta(minutes=1))
def adverse_event_email(event_id: str, user_id: int) -> None:
    """Tell a prescriber by email that a severe adverse event needs their review."""
    event = AdverseEvent.objects.select_related("session__location", "session__patient", "created_by").get(
        external_id=event_id
    )
    user = User.objects.get(pk=user_id)
    error = notifications.adverse_event_email(event, user)
    if error:
        raise EmailNotSent(ADVERSE_EMAIL_FAILED.format(error=error))


def adverse_event_notify(*, user: User, event: AdverseEvent) -> int:
    """Enqueue one email per prescriber to tell (in the caller's transaction: a rolled-back event tells
    nobody); audit at once when there is nobody to tell. The number of emails enqueued."""
    recipients = notifications.session_prescribers(event.session)
    if not recipients:
        notifications.adverse_event_nobody(user=user, event=event)
    for prescriber in recipients:
        adverse_event_email.enqueue(str(event.external_id), prescriber.pk)
    return len(recipients)
