"""The outbox's background job: one delivery attempt per run, retried with doubling waits (1, 2, 4, 8
minutes) until the provider accepts the message or the attempts run out (then it shows as failed, with the
reason, and a person can send it again from the page)."""

from __future__ import annotations

from datetime import timedelta

from ketaclinic.jobs.retries import retried
from ketaclinic.messaging.delivery import message_attempt
from ketaclinic.messaging.models import SEND_ATTEMPTS, OutboundMessage

NOT_SENT = "The message was not sent: {error}"


class MessageNotSent(Exception):
    """The provider did not accept the message; the next attempt tries again."""


@retried(attempts=SEND_ATTEMPTS, first_delay=timedelta(minutes=1))
def message_deliver(message_id: str) -> str:
    """Send one queued message (nothing when it was sent already or failed for good)."""
    message = message_attempt(message_id=message_id)
    if message.status == OutboundMessage.Status.QUEUED:
        raise MessageNotSent(NOT_SENT.format(error=message.last_error))
    return str(message.status)
