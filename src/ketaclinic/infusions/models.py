"""Infusion sessions: the day's encounter in a chair or at home, from check-in to a signed note.

Names follow FHIR where one fits (Encounter → ``InfusionSession``, Observation → ``VitalSigns``,
MedicationRequest → ``InfusionOrder``, MedicationAdministration, AdverseEvent). Clinical facts are
append-only (vitals, pump events, administrations) or frozen once signed (orders, notes), by the
services and by database triggers (migration 0002). ``InfusionSession.version`` increases with every
change so two nurses never overwrite each other (optimistic concurrency).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.accounts.models import Chair, Location
from ketaclinic.base.models import ClinicRecord
from ketaclinic.core.infusion.state import STATE_LABELS, SessionState
from ketaclinic.core.protocols.monitoring import Vital
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.protocols.models import ProtocolVersion

STATE_CHOICES = [(s.value, STATE_LABELS[s]) for s in SessionState]
USER = settings.AUTH_USER_MODEL
PLANNED_ONE_LIVE_SESSION = "session_planned_infusion_one_not_cancelled"


class InfusionSession(ClinicRecord):
    """One infusion visit (FHIR Encounter) under one protocol version."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="infusion_sessions")
    # A slot may be checked in again after a mistaken check-in was cancelled: at most one session that is
    # not cancelled per slot (the constraint below), any number of cancelled ones.
    planned_infusion = models.ForeignKey(
        PlannedInfusion, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="infusion_sessions"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="infusion_sessions")
    chair = models.ForeignKey(
        Chair, null=True, blank=True, on_delete=models.PROTECT, related_name="infusion_sessions"
    )
    at_home = models.BooleanField(default=False)
    scheduled_start = models.DateTimeField()
    scheduled_end = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the chair is free again: the start plus the protocol's chair time.",
    )
    state = models.CharField(max_length=20, choices=STATE_CHOICES, default=SessionState.SCHEDULED.value)
    version = models.PositiveIntegerField(
        default=1, help_text="Increases with every change (optimistic concurrency)."
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    prechecks_done_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="When the infusion stopped; recovery begins."
    )
    discharged_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    weight_kg = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Today's weight, from the checklist (kg).",
    )
    phq9_total = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Today's PHQ-9 total (0-27)."
    )
    treatment_plan = models.ForeignKey(
        "plans.TreatmentPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sessions",
        help_text="The active signed plan the session is part of.",
    )
    added_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why a session outside the plan's dated infusions was added to the plan.",
    )

    class Meta:
        ordering = ["scheduled_start"]
        indexes = [models.Index(fields=["location", "scheduled_start"])]
        constraints = [
            models.CheckConstraint(
                name="session_state_known", condition=models.Q(state__in=[s.value for s in SessionState])
            ),
            models.CheckConstraint(
                name="session_home_or_chair_not_both", condition=~models.Q(at_home=True, chair__isnull=False)
            ),
            models.CheckConstraint(name="session_version_positive", condition=models.Q(version__gte=1)),
            models.CheckConstraint(
                name="session_phq9_range",
                condition=models.Q(phq9_total__isnull=True) | models.Q(phq9_total__lte=27),
            ),
            models.UniqueConstraint(
                fields=["planned_infusion"],
                condition=~models.Q(state=SessionState.CANCELLED.value),
                name=PLANNED_ONE_LIVE_SESSION,
            ),
        ]

    def __str__(self) -> str:
        return f"Infusion session {self.patient} {self.scheduled_start:%Y-%m-%d %H:%M} ({self.get_state_display()})"

    @property
    def state_enum(self) -> SessionState:
        return SessionState(self.state)


class ChecklistItemResponse(models.Model):
    """The current answer to one checklist item (re-answering replaces it; every answer is audited)."""

    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="checklist_responses")
    code = models.CharField(max_length=41)
    answer = models.CharField(max_length=20, blank=True)
    value = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    overridden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "code"], name="checklist_item_once_per_session"),
            models.CheckConstraint(
                name="checklist_override_complete",
                condition=models.Q(override_reason="", overridden_by__isnull=True)
                | (
                    ~models.Q(override_reason="")
                    & models.Q(overridden_by__isnull=False, overridden_at__isnull=False)
                ),
            ),
        ]


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


class VitalSigns(models.Model):
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

    external_id = models.UUIDField(unique=True)
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


class VitalAlert(models.Model):
    """A hold threshold crossed by a reading; must be acknowledged (who, when, note)."""

    external_id = models.UUIDField(unique=True)
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


class MedicationAdministration(ClinicRecord):
    """A drug given in the session (ketamine or a rescue medication). Append-only."""

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


class DischargeAssessment(ClinicRecord):
    """PADSS and the other discharge criteria at one moment; several may be taken, the last passing one counts."""

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


class SessionNote(ClinicRecord):
    """The note generated from what happened; signed, then locked."""

    session = models.OneToOneField(InfusionSession, on_delete=models.PROTECT, related_name="note")
    text = models.TextField()
    signed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="note_signed_complete",
                condition=models.Q(signed_by__isnull=True, signed_at__isnull=True)
                | models.Q(signed_by__isnull=False, signed_at__isnull=False),
            ),
        ]

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


class NoteAddendum(ClinicRecord):
    """A correction or addition to a signed note: who, when, why. Append-only."""

    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["created_at", "id"]


class VialCheck(models.Model):
    """The second clinician's independent check of the bag before the start: the vial strength and volume drawn
    they typed (without seeing the order's numbers), and whether they matched the order. Append-only."""

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
