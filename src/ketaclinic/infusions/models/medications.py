"""Adverse events and the medications given in the session (the MAR)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ClinicRecord
from ketaclinic.core.infusion.medications import INFUSED_DRUG
from ketaclinic.infusions.models.session import InfusionSession

USER = settings.AUTH_USER_MODEL


class AdverseEvent(ClinicRecord):
    class Kind(models.TextChoices):
        NAUSEA = "nausea", "Nausea"
        VOMITING = "vomiting", "Vomiting"
        HYPERTENSION = "hypertension", "Hypertension"
        ANXIETY = "anxiety_agitation", "Anxiety / agitation"
        DISSOCIATION = "excessive_dissociation", "Excessive dissociation"
        DESATURATION = "desaturation_apnoea", "Desaturation / apnoea"
        CHEST_PAIN = "chest_pain", "Chest pain"
        ALLERGIC = "allergic_reaction", "Allergic reaction / anaphylaxis"
        FALL = "fall", "Fall"
        SEIZURE = "seizure", "Seizure"
        EMERGENCE_SEVERE = "emergence_reaction_severe", "Severe emergence reaction"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="adverse_events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    at = models.DateTimeField()
    notes = models.TextField(blank=True)
    needs_review = models.BooleanField(
        default=False, help_text="A severe event: a prescriber reviews it before discharge."
    )
    reviewed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                name="adverse_other_needs_notes", condition=~models.Q(kind="other", notes="")
            ),
            models.CheckConstraint(
                name="adverse_review_complete",
                condition=models.Q(reviewed_by__isnull=True, reviewed_at__isnull=True)
                | models.Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
            ),
        ]


class AdministrationQuerySet(models.QuerySet["MedicationAdministration"]):
    def by_hand(self) -> AdministrationQuerySet:
        """Everything given besides the pump's infusion (rescue medications, intranasal doses)."""
        return self.exclude(medication=INFUSED_DRUG)


class MedicationAdministration(ClinicRecord):
    """A drug given in the session (ketamine or a rescue medication). Append-only."""

    objects = AdministrationQuerySet.as_manager()

    class Route(models.TextChoices):
        IV = "iv", "Intravenous"
        IM = "im", "Intramuscular"
        PO = "po", "Oral"
        SL = "sl", "Sublingual"
        INTRANASAL = "intranasal", "Intranasal"

    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="administrations")
    medication = models.CharField(max_length=40)
    rxnorm = models.CharField("RxNorm code", max_length=12, blank=True)
    dose = models.DecimalField(max_digits=9, decimal_places=3)
    unit = models.CharField(max_length=10)
    route = models.CharField(max_length=12, choices=Route.choices)
    at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, help_text="For an infusion: when it stopped.")
    reason = models.CharField(max_length=200, blank=True)
    adverse_event = models.ForeignKey(
        AdverseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="administrations"
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(name="administration_dose_positive", condition=models.Q(dose__gt=0))
        ]
