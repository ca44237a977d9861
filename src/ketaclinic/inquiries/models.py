"""A request for a free assessment, sent from the public page by someone who is not yet a patient.

Only what the intake coordinator needs to call back is kept: name, phone, optional email, the clinic
location, what they are seeking help for (optional), who suggested it, and when they consented to be
contacted. No birth date, no free-text health history: those are asked on the call, and kept only if the
request becomes a patient."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ketaclinic.accounts.models import Location
from ketaclinic.base.models import ExternalIdentity
from ketaclinic.core.indications import INDICATION_CHOICES


class Inquiry(ExternalIdentity):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONVERTED = "converted", "Became a patient"
        CLOSED = "closed", "Closed"

    class ReferredBy(models.TextChoices):
        SELF = "self", "I found you myself"
        PSYCHIATRIST = "psychiatrist", "My psychiatrist"
        THERAPIST = "therapist", "My therapist or counsellor"
        PRIMARY_CARE = "primary_care", "My primary care doctor"
        OTHER = "other", "Someone else"

    class CloseReason(models.TextChoices):
        NOT_REACHED = "not_reached", "Could not reach them"
        NOT_INTERESTED = "not_interested", "No longer interested"
        NOT_A_CANDIDATE = "not_a_candidate", "Not a candidate for treatment here"
        ALREADY_PATIENT = "already_patient", "Already a patient"
        SPAM = "spam", "Not a genuine request"
        OTHER = "other", "Other (explain)"

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="inquiries")
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    phone = models.CharField(max_length=30)
    email = models.EmailField(blank=True)
    interest = models.CharField("Seeking help for", max_length=30, choices=INDICATION_CHOICES, blank=True)
    referred_by = models.CharField(max_length=20, choices=ReferredBy.choices, default=ReferredBy.SELF)
    contact_consent_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    close_note = models.TextField(blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referral = models.ForeignKey(
        "screening.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name_plural = "inquiries"
        indexes = [models.Index(fields=["status", "location", "received_at"])]
        constraints = [
            models.CheckConstraint(
                name="inquiry_state_complete",
                condition=models.Q(
                    status="open", closed_at__isnull=True, converted_at__isnull=True, patient__isnull=True
                )
                | models.Q(
                    status="closed", closed_at__isnull=False, closed_by__isnull=False, patient__isnull=True
                )
                & ~models.Q(close_reason="")
                | models.Q(
                    status="converted",
                    converted_at__isnull=False,
                    converted_by__isnull=False,
                    patient__isnull=False,
                    referral__isnull=False,
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Request from {self.given_name} {self.family_name} ({self.received_at:%Y-%m-%d})"
