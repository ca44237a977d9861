"""The day-before reminder of an appointment (of any type) and, for an infusion, the patient's answer:
prepared, and a driver home.

One row per appointment and start time (``starts_at``): made when the reminder is queued (its one-time
link's token kept only as a SHA-256), answered once through the link. A moved appointment gets a new row for
its new time; the old row's link is refused. An infusion's row also names its plan slot (``planned``), so
the day board shows its status beside the expected patient."""

from __future__ import annotations

from django.db import models

from ketaclinic.accounts.models import Location
from ketaclinic.base.models import ExternalIdentity
from ketaclinic.messaging.models import OutboundMessage
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.scheduling.models import Appointment


class PreparationCheck(ExternalIdentity):
    class Status(models.TextChoices):
        WAITING = "waiting", "Reminder sent, no answer yet"
        CONFIRMED = "confirmed", "Prepared, driver arranged"
        PROBLEM = "problem", "Answered with a problem"
        NOT_SENT = "not_sent", "No reminder could be sent"

    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    starts_at = models.DateTimeField(help_text="The appointment's start the reminder was sent for.")
    asks_preparation = models.BooleanField(
        default=True, help_text="An infusion's reminder: preparation and driver asked through the link."
    )
    planned = models.ForeignKey(
        PlannedInfusion, null=True, blank=True, on_delete=models.PROTECT, related_name="preparations"
    )
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
            models.UniqueConstraint(
                fields=["appointment", "starts_at"], name="one_reminder_per_appointment_time"
            ),
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
    def patient(self) -> Patient:
        return self.appointment.patient if self.appointment is not None else self.planned_or_fail.plan.patient

    @property
    def location(self) -> Location:
        return self.appointment.location if self.appointment is not None else self.planned_or_fail.location

    @property
    def at_home(self) -> bool:
        return self.appointment.at_home if self.appointment is not None else self.planned_or_fail.at_home

    @property
    def planned_or_fail(self) -> PlannedInfusion:
        """A reminder made before reminders moved onto appointments names its plan slot instead."""
        assert self.planned is not None, "a reminder names its appointment or its plan slot"
        return self.planned

    @property
    def needs_the_desk(self) -> bool:
        """Not confirmed: the desk calls before the chair sits empty."""
        return self.status != self.Status.CONFIRMED
