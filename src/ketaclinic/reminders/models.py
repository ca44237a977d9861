"""The day-before reminder of a planned infusion and the patient's answer: prepared, and a driver home.

One row per planned infusion: made when the reminder is queued (its one-time link's token kept only as a
SHA-256), answered once through the link. The day board shows its status beside the expected patient."""

from __future__ import annotations

from django.db import models

from ketaclinic.base.models import ExternalIdentity
from ketaclinic.messaging.models import OutboundMessage
from ketaclinic.plans.models import PlannedInfusion


class PreparationCheck(ExternalIdentity):
    class Status(models.TextChoices):
        WAITING = "waiting", "Reminder sent, no answer yet"
        CONFIRMED = "confirmed", "Prepared, driver arranged"
        PROBLEM = "problem", "Answered with a problem"
        NOT_SENT = "not_sent", "No reminder could be sent"

    planned = models.OneToOneField(PlannedInfusion, on_delete=models.PROTECT, related_name="preparation")
    token_sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField()
    message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    not_sent_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    light_meal = models.BooleanField(null=True)
    no_alcohol = models.BooleanField(null=True)
    driver = models.BooleanField(null=True)
    driver_name = models.CharField(max_length=80, blank=True)
    note = models.CharField(max_length=500, blank=True)
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="preparation_answered_has_time",
                condition=models.Q(status__in=["waiting", "not_sent"], answered_at__isnull=True)
                | models.Q(status__in=["confirmed", "problem"], answered_at__isnull=False),
            ),
            models.CheckConstraint(
                name="preparation_sent_has_link",
                condition=models.Q(status="not_sent") | models.Q(token_sha256__isnull=False),
            ),
        ]

    @property
    def needs_the_desk(self) -> bool:
        """Not confirmed: the desk calls before the chair sits empty."""
        return self.status != self.Status.CONFIRMED
