"""Referrals, their documents, screenings, treatment trials and the signed eligibility decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.base.models import ClinicRecord, ExternalIdentity
from ketaclinic.core.billing.codes import diagnoses_for
from ketaclinic.core.eligibility import Outcome, SubstanceUseStatus
from ketaclinic.core.indications import INDICATION_CHOICES
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.models import ProtocolVersion

OUTCOME_CHOICES = [
    (Outcome.ELIGIBLE.value, "Eligible"),
    (Outcome.NEEDS_REVIEW.value, "Needs prescriber review"),
    (Outcome.NOT_ELIGIBLE.value, "Not eligible"),
]


class Referral(ClinicRecord):
    class ReferrerRole(models.TextChoices):
        PSYCHIATRIST = "psychiatrist", "Psychiatrist"
        PSYCHOLOGIST = "psychologist", "Psychologist"
        THERAPIST = "therapist", "Therapist / counsellor (mental-health professional)"
        PRIMARY_CARE = "primary_care", "Primary care physician"
        PAIN_SPECIALIST = "pain_specialist", "Pain specialist"
        NEUROLOGIST = "neurologist", "Neurologist"
        SELF = "self", "Self-referral"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        SCREENING = "screening", "In screening"
        CLOSED = "closed", "Closed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    indication = models.CharField(max_length=30, choices=INDICATION_CHOICES)
    referrer_name = models.CharField(max_length=120)
    referrer_role = models.CharField(max_length=20, choices=ReferrerRole.choices)
    referrer_organisation = models.CharField(max_length=160, blank=True)
    referrer_phone = models.CharField(max_length=30, blank=True)
    referrer_email = models.EmailField(blank=True)
    referrer_npi = models.CharField("Referrer NPI", max_length=10, blank=True)
    reason = models.TextField()
    received_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)

    # Referrers who count as "the treating psychiatrist or mental health professional" (seed 001).
    MENTAL_HEALTH_ROLES = frozenset({"psychiatrist", "psychologist", "therapist"})

    class Meta:
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"Referral from {self.referrer_name} ({self.get_indication_display()})"

    @property
    def from_mental_health_professional(self) -> bool:
        return self.referrer_role in self.MENTAL_HEALTH_ROLES


class ReferralDocument(ExternalIdentity):
    """A letter or record that came with a referral; opened from the chart, each opening audited."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="documents")
    title = models.CharField(max_length=160)
    file = models.FileField(upload_to="referrals/%Y/%m/")
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)


class Screening(ClinicRecord):
    class Status(models.TextChoices):
        COMPUTED = "computed", "Awaiting prescriber signature"
        SIGNED = "signed", "Signed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="screenings"
    )
    indication = models.CharField(max_length=30, choices=INDICATION_CHOICES)
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="screenings")
    screening_date = models.DateField()
    substance_use = models.CharField(
        max_length=10,
        choices=[(s.value, s.value.title()) for s in SubstanceUseStatus],
        default=SubstanceUseStatus.NONE,
    )
    substance_use_notes = models.TextField(blank=True)
    failed_pain_treatments_notes = models.TextField(blank=True)
    contraindication_answers = models.JSONField(default=dict, blank=True)
    computed_outcome = models.CharField(max_length=15, choices=OUTCOME_CHOICES)
    computed_reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPUTED)
    signed_outcome = models.CharField(max_length=15, choices=OUTCOME_CHOICES, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_note = models.TextField(blank=True)
    diagnosis = models.CharField(
        "Diagnosis (ICD-10-CM)",
        max_length=8,
        blank=True,
        help_text="The billable ICD-10-CM code the prescriber records when signing; claims and superbills "
        "carry it.",
    )

    class Meta:
        ordering = ["-screening_date", "-id"]
        constraints = [
            models.CheckConstraint(
                name="signed_screening_is_complete",
                condition=models.Q(status="computed", signed_by__isnull=True, signed_outcome="")
                | (
                    models.Q(status="signed", signed_by__isnull=False, signed_at__isnull=False)
                    & models.Q(signed_outcome__in=["eligible", "not_eligible"])
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Screening {self.screening_date} ({self.get_indication_display()})"

    @property
    def final_outcome(self) -> str:
        return self.signed_outcome or self.computed_outcome

    @property
    def diagnosis_words(self) -> str:
        """The recorded diagnosis in the tabular's words ("" when none was recorded)."""
        return dict(diagnoses_for(self.indication)).get(self.diagnosis, "") if self.diagnosis else ""


class TreatmentTrial(models.Model):
    """A failed prior treatment: an antidepressant trial (drug, dose, weeks) or a pain treatment."""

    class Kind(models.TextChoices):
        ANTIDEPRESSANT = "antidepressant", "Antidepressant"
        PAIN_TREATMENT = "pain_treatment", "Pain treatment"

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="trials")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=120)
    dose = models.CharField(max_length=60, blank=True, help_text="e.g. 20 mg daily")
    weeks = models.PositiveSmallIntegerField()
    adequate_dose = models.BooleanField(default=True, help_text="Was the dose therapeutic?")
    outcome_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(name="trial_weeks_range", condition=models.Q(weeks__lte=520))]
