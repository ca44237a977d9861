"""The worker's delivery attempt: hand a queued message to its channel's sender and record what the provider
answered. A message is ``sent`` only with the provider's reference for it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.messaging.models import SEND_ATTEMPTS, Channel, OutboundMessage
from ketaclinic.messaging.selectors import address_masked, contact_preference_get
from ketaclinic.messaging.senders import Message, SendFailed, sender_for


def message_audit(message: OutboundMessage, actor: User | None, what: str) -> None:
    audit_record(
        action=AuditEntry.Action.CREATE if actor else AuditEntry.Action.SYSTEM,
        actor=actor,
        patient=message.patient,
        summary=f"{message.get_purpose_display()} by {message.get_channel_display().lower()} to "
        f"{address_masked(message.to_address)}: {what}"[:300],
        detail={"message": str(message.external_id), "status": message.status},
    )


OPTED_OUT_MEANWHILE = "Not sent: the patient opted out of {channel}s after it was queued."


def _opted_out_meanwhile(message: OutboundMessage) -> OutboundMessage:
    message.status = OutboundMessage.Status.FAILED
    message.last_error = OPTED_OUT_MEANWHILE.format(channel=Channel(message.channel).label.lower())
    message.save(update_fields=["status", "last_error"])
    message_audit(message, None, message.last_error)
    return message


def message_attempt(*, message_id: str) -> OutboundMessage:
    """One delivery attempt (the worker's): hand the message to its channel's sender under a row lock (two
    workers never send it twice). ``sent`` only with the provider's reference; a failure counts the attempt
    and keeps the reason, and the last allowed attempt marks it ``failed``."""
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update().select_related("patient").get(external_id=message_id)
        )
        if message.status != OutboundMessage.Status.QUEUED:
            return message  # sent already, or failed and waiting for a person
        if contact_preference_get(message.patient).opted_out(message.channel):
            return _opted_out_meanwhile(message)
        message.attempts += 1
        try:
            reference = sender_for(message.channel).send(
                Message(
                    channel=message.channel, to=message.to_address, body=message.body, subject=message.subject
                )
            )
        except SendFailed as exc:
            message.last_error = str(exc).replace(message.to_address, address_masked(message.to_address))[
                :300
            ]
            if message.attempts >= SEND_ATTEMPTS:
                message.status = OutboundMessage.Status.FAILED
            what = f"attempt {message.attempts} failed: {message.last_error}"
        else:
            message.status = OutboundMessage.Status.SENT
            message.provider_reference = reference[:100]
            message.sent_at = timezone.now()
            message.body = message.shown_body  # a delivered link is not kept readable
            message.last_error = ""
            what = "sent"
        message.save()
        message_audit(message, None, what)
    return message
