"""Writes to the outbox: queue a message (in the caller's transaction, with its sending job), send a failed
message again, and a patient's opt-outs. Each is audited. The worker's delivery attempt is ``delivery``."""

from __future__ import annotations

from django.db import transaction

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import phone_normalise
from ketaclinic.messaging import tasks
from ketaclinic.messaging.delivery import message_audit
from ketaclinic.messaging.models import Channel, ContactPreference, OutboundMessage
from ketaclinic.messaging.selectors import contact_preference_get
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

OPTED_OUT = (
    "{name} asked not to receive {channel}s from the clinic: nothing was queued. Use another way to reach "
    "them, or change the preference on their chart if they ask for {channel}s again."
)
NO_PHONE = "{name} has no phone number on the chart: add one, or send by email."
NO_EMAIL = "{name} has no email address on the chart: add one, or send a text message."
BAD_PHONE = (
    "{name}'s phone number ({value}) cannot receive a text message: correct it on the chart "
    "(with its area code, e.g. 617-555-0123), or send by email."
)
UNKNOWN_CHANNEL = "Send by text message or by email, not '{value}'."
NOT_FAILED = "Only a message whose sending failed can be sent again; this one is {status}."
EMPTY_BODY = "A message needs some text."


def _address(patient: Patient, channel: str) -> str:
    """The patient's address on ``channel`` (E.164 for a phone), or a refusal naming what is missing."""
    name = patient.display_name
    if channel == Channel.SMS:
        if not patient.phone:
            raise ValidationError(NO_PHONE.format(name=name), field="phone", value="")
        try:
            return phone_normalise(patient.phone, field="phone")
        except ValidationError:
            raise ValidationError(
                BAD_PHONE.format(name=name, value=patient.phone), field="phone", value=patient.phone
            ) from None
    if channel == Channel.EMAIL:
        if not patient.email:
            raise ValidationError(NO_EMAIL.format(name=name), field="email", value="")
        return patient.email
    raise ValidationError(UNKNOWN_CHANNEL.format(value=channel), field="channel", value=channel)


def message_queue(
    *,
    patient: Patient,
    channel: str,
    body: str,
    purpose: str,
    actor: User | None = None,
    subject: str = "",
    shown_body: str | None = None,
    reference: str = "",
) -> OutboundMessage:
    """Queue a message to ``patient`` and its sending job, in the caller's transaction (a rolled-back change
    sends nothing). Refused, with nothing queued, on an opted-out channel or without an address."""
    if not body.strip():
        raise ValidationError(EMPTY_BODY, field="body", value="")
    to = _address(patient, channel)
    if contact_preference_get(patient).opted_out(channel):
        words = Channel(channel).label.lower()
        raise ValidationError(OPTED_OUT.format(name=patient.display_name, channel=words), field="channel")
    with transaction.atomic():
        message = OutboundMessage.objects.create(
            patient=patient,
            channel=channel,
            to_address=to,
            subject=subject,
            body=body,
            shown_body=body if shown_body is None else shown_body,
            purpose=purpose,
            reference=reference,
            created_by=actor,
        )
        message_audit(message, actor, "queued")
        tasks.message_deliver.enqueue(str(message.external_id))
    return message


@transaction.atomic
def message_resend(*, user: User, message: OutboundMessage) -> OutboundMessage:
    """Send a failed message again (from the page): queued anew, with its own attempts."""
    patient_for(user, message.patient, Permission.PATIENT_REGISTER)
    message = OutboundMessage.objects.select_for_update().select_related("patient").get(pk=message.pk)
    if message.status != OutboundMessage.Status.FAILED:
        raise ValidationError(
            NOT_FAILED.format(status=message.get_status_display().lower()),
            field="status",
            value=message.status,
        )
    if contact_preference_get(message.patient).opted_out(message.channel):
        words = Channel(message.channel).label.lower()
        raise ValidationError(
            OPTED_OUT.format(name=message.patient.display_name, channel=words), field="channel"
        )
    message.status = OutboundMessage.Status.QUEUED
    message.attempts = 0
    message.save(update_fields=["status", "attempts"])
    message_audit(message, user, "queued again after it failed")
    tasks.message_deliver.enqueue(str(message.external_id))
    return message


@transaction.atomic
def contact_preference_set(
    *, user: User, patient: Patient, sms_opted_out: bool, email_opted_out: bool
) -> ContactPreference:
    """Record a patient's opt-outs (they apply to every message from then on)."""
    patient_for(user, patient, Permission.PATIENT_REGISTER)
    preference, _ = ContactPreference.objects.select_for_update().get_or_create(patient=patient)
    preference.sms_opted_out = sms_opted_out
    preference.email_opted_out = email_opted_out
    preference.updated_by = user
    preference.save()
    refused = [w for w, out in (("text messages", sms_opted_out), ("email", email_opted_out)) if out]
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        patient=patient,
        summary="Messages: " + (f"opted out of {' and '.join(refused)}" if refused else "no opt-out"),
        detail={"sms_opted_out": sms_opted_out, "email_opted_out": email_opted_out},
    )
    return preference


def message_withdraw(*, message: OutboundMessage, reason: str) -> bool:
    """Withdraw a message still waiting in the outbox (its appointment was cancelled or moved), under the same
    row lock the worker takes, so it is either sent already or never sent; True when it was withdrawn. The
    link it carried is no longer kept readable."""
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != OutboundMessage.Status.QUEUED:
            return False
        locked.status = OutboundMessage.Status.WITHDRAWN
        locked.last_error = reason[:300]
        locked.body = locked.shown_body
        locked.save(update_fields=["status", "last_error", "body"])
        message_audit(locked, None, f"withdrawn: {reason}")
    return True
