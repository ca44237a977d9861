"""The session (FHIR Encounter): one visit in a chair or at home under one protocol version, and the
answers to its pre-infusion checklist."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.accounts.models import Chair, Location
from ketaclinic.base.models import ClinicRecord
from ketaclinic.core.infusion.state import STATE_LABELS, SessionState
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
        return (
            f"Infusion session {self.patient} "
            f"{self.scheduled_start:%Y-%m-%d %H:%M} ({self.get_state_display()})"
        )

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
