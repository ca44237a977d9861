"""Questionnaire responses (FHIR QuestionnaireResponse), patient links, safety flags, booster proposals.

Responses are append-only: a correction is a new response that ``replaces`` the old one with a reason;
the current responses are those nothing replaces. The score (total, severity, flags) is the pure core's
(``core.instruments.score``), stored beside the answers with the instrument version it used.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.accounts.models import Location
from ketaclinic.base.models import ClinicRecord, ExternalIdentity
from ketaclinic.core.indications import INDICATION_CHOICES
from ketaclinic.patients.models import Patient

TIMEPOINTS = [
    ("baseline", "Baseline"),
    ("pre_infusion", "Before an infusion"),
    ("follow_up", "Follow-up visit"),
    ("post_series", "After the series"),
    ("monthly", "Maintenance (monthly)"),
    ("ad_hoc", "Unscheduled"),
]


class QuestionnaireResponse(ClinicRecord):
    class Source(models.TextChoices):
        STAFF = "staff", "Entered by staff"
        PATIENT_LINK = "patient_link", "Patient, through a link"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="questionnaire_responses")
    instrument = models.CharField(max_length=40)
    instrument_version = models.PositiveSmallIntegerField()
    answers = models.JSONField(help_text="Item code -> answer value (null = unanswered), in item order.")
    total = models.FloatField(null=True, blank=True)
    severity = models.CharField(max_length=40, blank=True)
    flags = models.JSONField(default=list, blank=True)
    prorated = models.BooleanField(default=False)
    suicidal_ideation = models.BooleanField(
        null=True,
        blank=True,
        help_text="PHQ-9 item 9: True when above 0 (core flag "
        "suicidal_ideation), False when 0, None otherwise.",
    )
    loinc_panel = models.CharField(max_length=20, blank=True)
    loinc_result = models.CharField(max_length=20, blank=True)
    authored_at = models.DateTimeField()
    source = models.CharField(max_length=14, choices=Source.choices)
    link = models.OneToOneField(
        "PatientLink", null=True, blank=True, on_delete=models.PROTECT, related_name="response"
    )
    timepoint = models.CharField(max_length=14, choices=TIMEPOINTS, default="ad_hoc")
    infusion_number = models.PositiveSmallIntegerField(null=True, blank=True)
    indication = models.CharField(max_length=30, choices=INDICATION_CHOICES, blank=True)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(
        "plans.TreatmentPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    replace_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["authored_at", "id"]
        indexes = [
            # ``include`` (PostgreSQL) lets the dashboard's first-response search read the index only.
            models.Index(
                fields=["patient", "instrument", "authored_at"],
                name="qr_patient_instrument_time",
                include=["total", "id"],
            ),
            models.Index(
                fields=["instrument", "timepoint", "authored_at"],
                name="qr_instrument_timepoint",
                include=["patient", "id", "total", "suicidal_ideation", "location", "indication"],
            ),
            # the dashboard at one location: its endpoints in a period, and who answered there at all
            models.Index(
                fields=["instrument", "location", "timepoint", "authored_at"],
                name="qr_instrument_tp_location",
                include=["patient", "id", "total", "suicidal_ideation", "indication"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="qr_correction_has_reason",
                condition=models.Q(replaces__isnull=True) | ~models.Q(replace_reason=""),
            ),
            models.CheckConstraint(
                name="qr_link_iff_patient_source",
                condition=models.Q(source="staff", link__isnull=True)
                | models.Q(source="patient_link", link__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} on {self.authored_at:%Y-%m-%d}"


class PatientLink(ClinicRecord):
    """A single-use, expiring link for a patient to answer one questionnaire. Only a hash is stored."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="questionnaire_links")
    instrument = models.CharField(max_length=40)
    timepoint = models.CharField(max_length=14, choices=TIMEPOINTS, default="ad_hoc")
    infusion_number = models.PositiveSmallIntegerField(null=True, blank=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Link for {self.instrument} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class SafetyFlag(ClinicRecord):
    """An urgent flag raised by an answer that signals suicide risk; closed only by an assessment and a
    plan."""

    class Status(models.TextChoices):
        OPEN = "open", "Open — urgent"
        ASSESSED = "assessed", "Assessed, plan recorded"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="safety_flags")
    response = models.ForeignKey(QuestionnaireResponse, on_delete=models.PROTECT, related_name="safety_flags")
    reason = models.CharField(max_length=40, help_text="The core flag that raised it.")
    summary = models.CharField(max_length=300)
    raised_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        # the day board, the home dashboard and the API read only the open flags: a few rows among many
        indexes = [
            models.Index(fields=["raised_at"], name="safety_flag_open", condition=models.Q(status="open"))
        ]
        constraints = [
            models.CheckConstraint(
                name="safety_flag_closed_only_with_assessment_and_plan",
                condition=models.Q(status="open", assessed_by__isnull=True, assessed_at__isnull=True)
                | (
                    models.Q(status="assessed", assessed_by__isnull=False, assessed_at__isnull=False)
                    & ~models.Q(assessment="")
                    & ~models.Q(plan="")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Safety flag ({self.reason}) for {self.patient}"


class BoosterProposal(ClinicRecord):
    """A relapse after a response proposes a booster; the prescriber accepts or declines with a reason."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="booster_proposals")
    response = models.OneToOneField(
        QuestionnaireResponse, on_delete=models.PROTECT, related_name="booster_proposal"
    )
    instrument = models.CharField(max_length=40)
    reason = models.CharField(max_length=300)
    relapse_fraction = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    planned_infusion = models.ForeignKey(
        "plans.PlannedInfusion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="booster_decline_has_reason",
                condition=~models.Q(status="declined") | ~models.Q(decision_reason=""),
            ),
            models.CheckConstraint(
                name="booster_decided_has_who",
                condition=models.Q(status="proposed")
                | models.Q(decided_by__isnull=False, decided_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Booster proposal for {self.patient} ({self.get_status_display()})"


class LinkDispatch(ExternalIdentity):
    """One attempt to send a patient their questionnaire link (append-only; a database trigger refuses
    UPDATE and DELETE). ``created_by`` is the member of staff who pressed "Send link now", or empty for the
    daily ``send_due_links`` job. Only a masked address is kept; the message itself is not stored."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        NO_ADDRESS = "no_address", "No email address: hand out a link"
        FAILED = "failed", "Sending failed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="link_dispatches")
    link = models.ForeignKey(
        PatientLink,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispatches",
        help_text="The link sent; empty when nothing was sent (no address, or sending failed).",
    )
    instrument = models.CharField(max_length=40)
    timepoint = models.CharField(max_length=14, choices=TIMEPOINTS)
    infusion_number = models.PositiveSmallIntegerField(null=True, blank=True)
    due_on = models.DateField(help_text="The due date of the questionnaire the link is for.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    to_masked = models.CharField(
        max_length=120, blank=True, help_text="The address, masked (j***@example.org)."
    )
    sent_at = models.DateTimeField(help_text="When sending was attempted.")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["patient", "sent_at"], name="dispatch_patient_time")]
        constraints = [
            models.CheckConstraint(
                name="dispatch_link_iff_sent",
                condition=models.Q(outcome="sent", link__isnull=False)
                | (~models.Q(outcome="sent") & models.Q(link__isnull=True)),
            ),
            models.CheckConstraint(
                name="dispatch_failed_has_error", condition=~models.Q(outcome="failed") | ~models.Q(error="")
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_channel_display()} {self.get_outcome_display().lower()} {self.sent_at:%Y-%m-%d %H:%M}"
        )


class QuestionnaireDue(models.Model):
    """What is due for a patient: one row per instrument of each questionnaire the core schedules
    (``core.outcomes.dated_items``), with its dated window and the first day an answer counted, in the
    patient's location's time zone. Derived, never clinical: the services that change what is due
    (``outcomes.services.due``) replace a patient's rows in their own transaction, and
    ``ketaclinic manage outcomes_due_rebuild`` rebuilds them all. The status on a day is a comparison of
    dates (``due``: opened, not closed; ``overdue``: closed, not past the late limit; ``done`` from
    ``answered_on``), so the worklist is one indexed range at a location, whatever its patients in care.

    One row per item rather than one "next due" row per patient: a patient can have several questionnaires
    waiting at once (an overdue follow-up beside today's pre-infusion one, each with two instruments), and the
    worklist lists each of them; a single row would need the per-patient schedule again to list the rest."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(help_text="The item's place in the patient's schedule.")
    instrument = models.CharField(max_length=40)
    timepoint = models.CharField(max_length=14, choices=TIMEPOINTS)
    infusion_number = models.PositiveSmallIntegerField(null=True, blank=True)
    label = models.CharField(max_length=120)
    due_on = models.DateField(null=True, blank=True, help_text="Empty: due today, whatever the day.")
    opens_on = models.DateField(null=True, blank=True)
    closes_on = models.DateField(null=True, blank=True)
    late_until = models.DateField(null=True, blank=True, help_text="The last day a late answer counts.")
    answered_on = models.DateField(null=True, blank=True, help_text="The first day an answer counted.")

    class Meta:
        ordering = ["patient", "position", "instrument"]
        indexes = [
            # the worklist: the items opened in the last few weeks at a location (a bounded range)
            models.Index(fields=["location", "opens_on"], name="due_location_opens"),
            # a baseline due today whatever the day (no infusion planned yet)
            models.Index(fields=["location"], name="due_location_today", condition=models.Q(due_on=None)),
            models.Index(fields=["patient", "position"], name="due_patient"),
        ]
        constraints = [
            models.CheckConstraint(
                name="due_dated_or_today",
                condition=models.Q(
                    due_on=None, opens_on=None, closes_on=None, late_until=None, answered_on=None
                )
                | models.Q(
                    due_on__isnull=False,
                    opens_on__lte=models.F("closes_on"),
                    closes_on__lte=models.F("late_until"),
                ),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.instrument} {self.timepoint} due {self.due_on or 'today'} for patient {self.patient_id}"
        )


# -- the outcomes dashboard's summaries: derived from the current answers, never clinical ------------------
# Kept by the service that records or corrects an answer, in its transaction (services.summaries); rebuilt
# from the answers by ``ketaclinic manage outcome_summaries_rebuild``. Their rows are replaced, never edited
# by hand: the answers stay the record.


class DashboardEndpoint(models.Model):
    """A current post-series PHQ-9 or GAD-7 answer (a candidate endpoint: the dashboard's endpoint is the
    latest one in the chosen period), with the patient's baseline of that questionnaire beside it
    (``core.outcomes.summary.Endpoint``)."""

    response = models.OneToOneField(
        QuestionnaireResponse, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    instrument = models.CharField(max_length=40)
    authored_at = models.DateTimeField()
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    indication = models.CharField(max_length=30, blank=True)
    total = models.FloatField(null=True)
    suicidal_ideation = models.BooleanField(null=True)
    baseline_total = models.FloatField(null=True)
    baseline_ideation = models.BooleanField(null=True)
    first_response_days = models.FloatField(
        null=True, help_text="Days from the baseline to the first answer at or below half of it."
    )

    class Meta:
        indexes = [
            # a period's endpoints, network-wide and at one location: an index-only range (PostgreSQL)
            models.Index(
                fields=["instrument", "authored_at"],
                name="dash_endpoint_period",
                include=[
                    "patient",
                    "location",
                    "indication",
                    "total",
                    "suicidal_ideation",
                    "baseline_total",
                    "baseline_ideation",
                    "first_response_days",
                ],
            ),
            models.Index(fields=["instrument", "location", "authored_at"], name="dash_endpoint_location"),
            # the latest endpoint per patient over a long period, network-wide: read in the window's order
            # (index-only on PostgreSQL), so the dashboard sorts nothing (a year's 32,000 endpoints: the
            # query 107 -> 33 ms in EXPLAIN ANALYZE, docs/scale.md)
            models.Index(
                fields=["instrument", "patient", "-authored_at", "-response"],
                name="dash_endpoint_latest",
                include=[
                    "location",
                    "indication",
                    "total",
                    "suicidal_ideation",
                    "baseline_total",
                    "baseline_ideation",
                    "first_response_days",
                ],
            ),
        ]


class DashboardMeasurePatient(models.Model):
    """A patient with an index PHQ-9 (the first above 9): what NQF 1884 and CMS159 read of them
    (``core.outcomes.summary.MeasureIndex``). Dates are in the site's time zone."""

    patient = models.OneToOneField(Patient, primary_key=True, on_delete=models.CASCADE, related_name="+")
    index_on = models.DateField()
    index_total = models.PositiveSmallIntegerField()
    index_location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    indication = models.CharField(max_length=30, blank=True)
    six_months_on = models.DateField(null=True)
    six_months_total = models.PositiveSmallIntegerField(null=True)
    twelve_months_on = models.DateField(null=True)
    twelve_months_total = models.PositiveSmallIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["index_on"],
                name="dash_measure_period",
                include=[
                    "index_total",
                    "index_location",
                    "indication",
                    "six_months_on",
                    "six_months_total",
                    "twelve_months_on",
                    "twelve_months_total",
                ],
            ),
        ]


class DashboardSummaryBuild(models.Model):
    """A build of the summaries over every patient (``outcome_summaries_rebuild``). One left unfinished by the
    migration, on a database that already held answers, means the summaries are not complete yet: until the
    rebuild finishes it, the dashboard reads the answers themselves."""

    finished_at = models.DateTimeField(null=True, blank=True)
    patients = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-id"]
