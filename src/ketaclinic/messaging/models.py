"""The outbox (one row per message to a patient, with its delivery status) and each patient's opt-outs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ExternalIdentity
from ketaclinic.patients.models import Patient

SEND_ATTEMPTS = 5  # tries before a message shows as failed (waits 1, 2, 4, 8 minutes between them)


def address_masked(address: str) -> str:
    """``+16175550123`` -> ``phone ending 0123``; ``maria@example.org`` -> ``m***@example.org``."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = "".join(ch for ch in address if ch.isdecimal())
    return f"phone ending {digits[-4:]}" if len(digits) >= 4 else "***"


class Channel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"


class OutboundMessage(ExternalIdentity):
    """A message to a patient. ``sent`` only once the provider accepted it (its reference is kept); a failed
    attempt leaves it ``queued`` while retries remain, then ``failed`` with the reason. ``body`` is what goes
    out (it may hold a one-time link); pages show ``shown_body`` (links masked), and ``body`` becomes it once
    the message is sent, so a delivered link is not kept readable in the database."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Sending failed"
        WITHDRAWN = "withdrawn", "Withdrawn before sending"

    class Purpose(models.TextChoices):
        QUESTIONNAIRE_LINK = "questionnaire_link", "Questionnaire link"
        APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outbound_messages")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to_address = models.CharField(max_length=254, help_text="The phone number (E.164) or email address.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    shown_body = models.TextField(help_text="The body as pages show it: links masked.")
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    reference = models.CharField(
        max_length=100, blank=True, help_text="What the message is about (e.g. the questionnaire link's id)."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_reference = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "created_at"], name="outbox_patient_time"),
            models.Index(fields=["reference"], name="outbox_reference"),
        ]
        constraints = [
            models.CheckConstraint(
                name="outbox_sent_iff_accepted",
                condition=(models.Q(status="sent", sent_at__isnull=False) & ~models.Q(provider_reference=""))
                | (~models.Q(status="sent") & models.Q(sent_at__isnull=True)),
            ),
        ]

    @property
    def to_masked(self) -> str:
        return address_masked(self.to_address)

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} by {self.get_channel_display().lower()} ({self.status})"


class ContactPreference(models.Model):
    """A patient's opt-outs: no message of any purpose goes out on an opted-out channel."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="contact_preference")
    sms_opted_out = models.BooleanField(default=False)
    email_opted_out = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Contact preference of patient {self.patient_id}"

    def opted_out(self, channel: str) -> bool:
        return bool(self.sms_opted_out if channel == Channel.SMS else self.email_opted_out)
