"""Vital signs (FHIR Observation) and the alerts a reading raises."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ExternalIdentity
from ketaclinic.core.infusion.vitals import VitalReading
from ketaclinic.core.protocols.monitoring import Vital
from ketaclinic.infusions.models.session import InfusionSession

USER = settings.AUTH_USER_MODEL


class VitalSigns(ExternalIdentity):
    """One reading (FHIR Observation, vital-signs panel 85353-1). Append-only; idempotent by ``client_id``."""

    class Sedation(models.TextChoices):
        NONE = "none", "None"
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    class Phase(models.TextChoices):
        BASELINE = "baseline", "Baseline"
        INFUSION = "infusion", "During infusion"
        RECOVERY = "recovery", "Recovery"

    client_id = models.CharField(
        max_length=64, unique=True, help_text="Sent by the client; a retried post returns this reading."
    )
    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="vitals")
    phase = models.CharField(max_length=10, choices=Phase.choices)
    taken_at = models.DateTimeField()
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate_per_min = models.PositiveSmallIntegerField(null=True, blank=True)
    sedation = models.CharField(max_length=10, choices=Sedation.choices, blank=True)
    source = models.CharField(
        max_length=20, default="manual", help_text="manual, or the device gateway's name."
    )
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    backdate_reason = models.TextField(
        blank=True, help_text="Why the time was entered late (beyond a few minutes)."
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_at", "id"]
        verbose_name_plural = "vital signs"
        indexes = [models.Index(fields=["session", "taken_at"])]

    @staticmethod
    def measured(reading: VitalReading) -> dict[str, Any]:
        """The row's fields for a reading the core has checked (``reading_check``)."""
        return {
            "systolic_mmhg": reading.systolic_mmhg,
            "diastolic_mmhg": reading.diastolic_mmhg,
            "heart_rate_bpm": reading.heart_rate_bpm,
            "spo2_percent": reading.spo2_percent,
            "respiratory_rate_per_min": reading.respiratory_rate_per_min,
            "sedation": "" if reading.sedation is None else reading.sedation.name.lower(),
        }


class VitalAlert(ExternalIdentity):
    """A hold threshold crossed by a reading; must be acknowledged (who, when, note)."""

    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="alerts")
    vitals = models.ForeignKey(
        VitalSigns,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        help_text="The reading that crossed a threshold (none for 'vital signs overdue').",
    )
    rule = models.CharField(max_length=41)
    vital = models.CharField(max_length=30)
    value = models.FloatField()
    limit = models.FloatField()
    suggested_action = models.CharField(max_length=20)
    level = models.CharField(
        max_length=10, default="hold", help_text="hold, or critical (the highest alert)."
    )
    message = models.TextField()
    raised_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="alert_level_known", condition=models.Q(level__in=["hold", "critical"])
            ),
            models.CheckConstraint(
                name="alert_ack_complete",
                condition=models.Q(acknowledged_by__isnull=True, acknowledged_at__isnull=True)
                | models.Q(acknowledged_by__isnull=False, acknowledged_at__isnull=False),
            ),
        ]

    @classmethod
    def raised_by(cls, alert: Any, **row: Any) -> VitalAlert:
        """An unsaved alert row for one alert of the core's ``alerts_for`` (the rule, the vital, the value and
        limit, the suggested action and level, the message); ``row`` gives the session, reading and times."""
        return cls(
            rule=alert.rule,
            vital=alert.vital.value,
            value=alert.value,
            limit=alert.limit,
            suggested_action=alert.action.value,
            level=alert.level.value,
            message=alert.message,
            **row,
        )

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def vital_label(self) -> str:
        """The vital sign in words, with its unit (never the stored key)."""
        try:
            v = Vital(self.vital)
        except ValueError:
            return self.vital.replace("_", " ")
        return f"{v.label} ({v.unit})" if v is not Vital.SEDATION else v.label
