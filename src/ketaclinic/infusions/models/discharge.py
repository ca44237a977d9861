"""The discharge assessments (PADSS and the other criteria)."""

from __future__ import annotations

from django.db import models

from ketaclinic.base.models import ClinicRecord
from ketaclinic.infusions.models.session import InfusionSession


class DischargeAssessment(ClinicRecord):
    """PADSS and the other discharge criteria at one moment; several may be taken, the last passing one
    counts."""

    session = models.ForeignKey(
        InfusionSession, on_delete=models.PROTECT, related_name="discharge_assessments"
    )
    assessed_at = models.DateTimeField()
    scores = models.JSONField(help_text="PADSS item -> 0/1/2 (vital signs computed, bleeding n/a = 2).")
    total = models.PositiveSmallIntegerField()
    deviation_percent = models.FloatField(null=True, blank=True)
    escort_present = models.BooleanField()
    escort_name = models.CharField(max_length=120, blank=True)
    instructions_given = models.BooleanField()
    fit = models.BooleanField()
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["assessed_at", "id"]
