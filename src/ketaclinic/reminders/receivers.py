"""The reminders' answer to a moved or cancelled appointment (``base.signals.appointment_changed``, inside the
booking service's transaction): a reminder made for a time the appointment no longer has, whose message is
still waiting in the outbox, is withdrawn, so the patient is never told to come at the old time or to a
cancelled visit. A message already handed to the provider cannot be called back; its link is refused
("moved or cancelled") when opened."""

from __future__ import annotations

from typing import Any

from ketaclinic.messaging.models import OutboundMessage
from ketaclinic.messaging.services import message_withdraw
from ketaclinic.reminders.models import PreparationCheck
from ketaclinic.scheduling.models import Appointment

WITHDRAWN_CANCELLED = "Withdrawn: the appointment was cancelled before the reminder went out."
WITHDRAWN_MOVED = "Withdrawn: the appointment was moved before the reminder went out."


def on_appointment_changed(sender: Any, appointment: Appointment, **kwargs: Any) -> None:
    cancelled = appointment.status == Appointment.Status.CANCELLED
    stale = PreparationCheck.objects.filter(
        appointment=appointment, message__status=OutboundMessage.Status.QUEUED
    ).select_related("message")
    if not cancelled:
        stale = stale.exclude(starts_at=appointment.start)
    reason = WITHDRAWN_CANCELLED if cancelled else WITHDRAWN_MOVED
    for check in stale:
        assert check.message is not None  # noqa: S101 - filtered on the message's status
        if message_withdraw(message=check.message, reason=reason):
            check.status, check.not_sent_reason = PreparationCheck.Status.NOT_SENT, reason
            check.save(update_fields=["status", "not_sent_reason"])
