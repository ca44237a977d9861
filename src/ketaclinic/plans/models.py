"""A treatment plan per eligible patient, and the planned infusions it proposes.

The plan records the protocol version it follows; once signed by a prescriber its clinical content is
frozen (a change is a new plan version that supersedes it). Planned infusions are dated slots the
clinic can move (each move audited), in a chair at a clinic location or at the patient's home.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from ketaclinic.accounts.models import Chair, Location
from ketaclinic.base.models import ClinicRecord
from ketaclinic.core.indications import INDICATION_CHOICES
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.screening.models import Screening


class TreatmentPlan(ClinicRecord):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active (signed)"
        COMPLETED = "completed", "Series completed"
        STOPPED = "stopped", "Stopped"
        SUPERSEDED = "superseded", "Superseded"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_plans")
    screening = models.ForeignKey(
        Screening,
        on_delete=models.PROTECT,
        related_name="treatment_plans",
        help_text="The signed eligible screening this plan rests on.",
    )
    indication = models.CharField(max_length=30, choices=INDICATION_CHOICES)
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="treatment_plans"
    )
    dose_strategy = models.JSONField(
        default=dict, blank=True, help_text="Starting dose and titration, from the protocol's dosing section."
    )
    series_count = models.PositiveSmallIntegerField()
    max_per_week = models.PositiveSmallIntegerField()
    min_spacing_hours = models.PositiveSmallIntegerField()
    evaluation_after = models.PositiveSmallIntegerField(
        help_text="Evaluate response after this many infusions."
    )
    booster_policy = models.TextField(blank=True)
    booster_min_days = models.PositiveSmallIntegerField(
        default=14, help_text="Minimum days from the previous infusion to a booster."
    )
    home_infusions = models.BooleanField(
        default=False, help_text="Infusions at the patient's home (mobile clinic)."
    )
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="plan_signed_iff_not_draft",
                condition=models.Q(status="draft", signed_by__isnull=True)
                | (~models.Q(status="draft") & models.Q(signed_by__isnull=False, signed_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="plan_series_positive", condition=models.Q(series_count__gte=1, max_per_week__gte=1)
            ),
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(status="active"), name="one_active_plan_per_patient"
            ),
        ]

    # What a signature freezes (a database trigger refuses changing them once the plan is signed).
    CLINICAL_FIELDS = (
        "patient_id",
        "screening_id",
        "indication",
        "protocol_version_id",
        "dose_strategy",
        "series_count",
        "max_per_week",
        "min_spacing_hours",
        "evaluation_after",
        "booster_policy",
        "booster_min_days",
        "home_infusions",
        "notes",
        "supersedes_id",
        "signed_by_id",
        "signed_at",
    )

    def __str__(self) -> str:
        return f"Plan for {self.patient} ({self.get_indication_display()}, {self.get_status_display()})"


class PlannedInfusion(ClinicRecord):
    """One dated slot of a plan: the n-th infusion of the series, or a booster."""

    class Kind(models.TextChoices):
        SERIES = "series", "Initial series"
        BOOSTER = "booster", "Booster"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="infusions")
    sequence = models.PositiveSmallIntegerField(help_text="1-based position in the plan.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SERIES)
    scheduled_start = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=120, help_text="Chair time incl. observation."
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="planned_infusions")
    chair = models.ForeignKey(
        Chair, null=True, blank=True, on_delete=models.PROTECT, related_name="planned_infusions"
    )
    at_home = models.BooleanField(default=False, help_text="At the patient's home address (mobile clinic).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["scheduled_start"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="planned_infusion_sequence_unique"),
            models.CheckConstraint(
                name="home_or_chair_not_both", condition=~models.Q(at_home=True, chair__isnull=False)
            ),
        ]

    @property
    def label(self) -> str:
        return f"{'Booster' if self.kind == self.Kind.BOOSTER else 'Infusion'} {self.sequence}"

    @property
    def scheduled_end(self) -> datetime:
        return self.scheduled_start + timedelta(minutes=self.duration_minutes)

    def __str__(self) -> str:
        return f"Infusion {self.sequence} on {self.scheduled_start:%Y-%m-%d %H:%M}"
