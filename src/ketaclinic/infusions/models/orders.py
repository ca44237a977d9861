"""The order (FHIR MedicationRequest) and its bag, the second clinician's check of the bag, and the pump
events that deliver it (start, pause, resume, titration, stop)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ClinicRecord
from ketaclinic.infusions.models.session import InfusionSession

USER = settings.AUTH_USER_MODEL


class InfusionOrder(ClinicRecord):
    """The dose engine's result for today's weight (FHIR MedicationRequest); frozen once signed."""

    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="orders")
    weight_kg = models.DecimalField(max_digits=6, decimal_places=2)
    dosing_weight_kg = models.FloatField()
    dosing_weight_basis = models.CharField(max_length=10)
    dose_mg = models.FloatField()
    dose_mg_per_kg = models.FloatField()
    route = models.CharField(max_length=12, default="iv")
    duration_min = models.FloatField(null=True, blank=True)
    rate_mg_per_h = models.FloatField(null=True, blank=True)
    rate_ml_per_h = models.FloatField(null=True, blank=True)
    concentration_mg_per_ml = models.FloatField(null=True, blank=True)
    # The order is the bag (computed by the dose engine's pump program; frozen with the order once signed).
    vial_mg_per_ml = models.FloatField(
        null=True, blank=True, help_text="Strength of the ketamine vial (mg/mL)."
    )
    drug_volume_ml = models.FloatField(
        null=True, blank=True, help_text="Volume drawn from the vial into the bag (mL)."
    )
    bag_ml = models.FloatField(
        null=True, blank=True, help_text="Volume of the diluent bag before the drug is added (mL)."
    )
    vtbi_ml = models.FloatField(
        null=True, blank=True, help_text="Volume to be infused: the pump stops there (mL)."
    )
    calculation = models.JSONField(help_text="The dose engine's full result (pump program, notes).")
    prediction = models.JSONField(
        null=True, blank=True, help_text="Predicted plasma concentration summary and curve (ng/mL)."
    )
    warnings = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(blank=True)
    signed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(
        default=False, help_text="An unsigned order replaced by a newer calculation."
    )
    voided_at = models.DateTimeField(
        null=True, blank=True, help_text="A signed order made void (today's weight changed after signing)."
    )
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="order_signed_complete",
                condition=models.Q(signed_by__isnull=True, signed_at__isnull=True)
                | models.Q(signed_by__isnull=False, signed_at__isnull=False),
            ),
            models.CheckConstraint(name="order_dose_positive", condition=models.Q(dose_mg__gt=0)),
        ]

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class VialCheck(models.Model):
    """The second clinician's independent check of the bag before the start: the vial strength and volume
    drawn they typed (without seeing the order's numbers), and whether they matched the order. Append-only."""

    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="vial_checks")
    order = models.ForeignKey(InfusionOrder, on_delete=models.PROTECT, related_name="vial_checks")
    checked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()
    typed_vial_mg_per_ml = models.FloatField()
    typed_drawn_ml = models.FloatField()
    match = models.BooleanField()
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["checked_at", "id"]


class RateEvent(models.Model):
    """A pump event: start, pause, resume, rate change (titration) or stop. Append-only."""

    class Kind(models.TextChoices):
        START = "start", "Start"
        PAUSE = "pause", "Pause"
        RESUME = "resume", "Resume"
        RATE = "rate", "Rate change"
        STOP = "stop", "Stop"

    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="rate_events")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    at = models.DateTimeField()
    rate_mg_per_h = models.FloatField(default=0)
    rate_ml_per_h = models.FloatField(default=0)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The prescriber who ordered a titration.",
    )
    backdate_reason = models.TextField(
        blank=True, help_text="Why the time was entered late (beyond a few minutes)."
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Titration ordered verbally: the nurse recorded it with read-back; the prescriber co-signs later
    # (the only columns that may ever be set after the row is written, once, from empty).
    verbal_order = models.BooleanField(default=False, help_text="Ordered verbally; recorded by the nurse.")
    read_back = models.BooleanField(
        default=False, help_text="The nurse read the order back to the prescriber."
    )
    override_reason = models.TextField(
        blank=True, help_text="The prescriber's reason for going beyond a soft limit."
    )
    limit_check = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the titration was checked on (rates, doses, predicted peak, warnings).",
    )
    cosigned_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cosigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                name="rate_event_nonnegative", condition=models.Q(rate_mg_per_h__gte=0, rate_ml_per_h__gte=0)
            ),
            models.CheckConstraint(
                name="rate_change_has_signer_and_reason",
                condition=~models.Q(kind="rate") | (models.Q(signer__isnull=False) & ~models.Q(reason="")),
            ),
            models.CheckConstraint(
                name="rate_verbal_order_read_back",
                condition=models.Q(verbal_order=False) | models.Q(read_back=True, kind="rate"),
            ),
            models.CheckConstraint(
                name="rate_cosign_complete",
                condition=models.Q(cosigned_by__isnull=True, cosigned_at__isnull=True)
                | models.Q(cosigned_by__isnull=False, cosigned_at__isnull=False, verbal_order=True),
            ),
        ]

    @property
    def awaiting_cosign(self) -> bool:
        return self.verbal_order and self.cosigned_at is None
