"""The ``monitoring``, ``checklist`` and ``discharge`` sections of a protocol document.

What a nurse does around an infusion, as clinic-editable data (DOMAIN.md §1 "Before"/"After", §4):

* ``monitoring``: how often vitals are taken while infusing and recovering, the grace before a reading is
  overdue, the physiologically plausible range of each vital sign (a reading outside is refused as a typo),
  the hold thresholds that raise an alert with a suggested action, and the baseline limits for starting.
* ``checklist``: the pre-infusion items, each saying whether a prescriber may override it.
* ``discharge``: minimum observation after the infusion ends, the PADSS pass score (Chung 1995), how far
  from baseline the vitals may be, whether an escort is required, and the instructions the patient gets.

Every number is a clinic default with its source in the protocol file, never a constant in code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Vital(StrEnum):
    """A vital sign recorded during a session (LOINC in ``LOINC``; sedation is an observation, no LOINC)."""

    SYSTOLIC = "systolic_mmhg"
    DIASTOLIC = "diastolic_mmhg"
    HEART_RATE = "heart_rate_bpm"
    SPO2 = "spo2_percent"
    RESPIRATORY_RATE = "respiratory_rate_per_min"
    SEDATION = "sedation_level"

    @property
    def label(self) -> str:
        return VITAL_LABELS[self]

    @property
    def unit(self) -> str:
        return VITAL_UNITS[self]


VITAL_LABELS = {
    Vital.SYSTOLIC: "Systolic blood pressure",
    Vital.DIASTOLIC: "Diastolic blood pressure",
    Vital.HEART_RATE: "Heart rate",
    Vital.SPO2: "SpO2",
    Vital.RESPIRATORY_RATE: "Respiratory rate",
    Vital.SEDATION: "Sedation/dissociation",
}
VITAL_UNITS = {
    Vital.SYSTOLIC: "mmHg",
    Vital.DIASTOLIC: "mmHg",
    Vital.HEART_RATE: "/min",
    Vital.SPO2: "%",
    Vital.RESPIRATORY_RATE: "/min",
    Vital.SEDATION: "(0 none, 1 mild, 2 moderate, 3 severe)",
}
# DOMAIN.md §6: BP panel 85354-9 (systolic 8480-6, diastolic 8462-4), HR 8867-4, RR 9279-1, SpO2 59408-5 and
# 2708-6.
LOINC = {
    Vital.SYSTOLIC: ("8480-6",),
    Vital.DIASTOLIC: ("8462-4",),
    Vital.HEART_RATE: ("8867-4",),
    Vital.SPO2: ("59408-5", "2708-6"),
    Vital.RESPIRATORY_RATE: ("9279-1",),
    Vital.SEDATION: (),
}


class SuggestedAction(StrEnum):
    PAUSE = "pause"
    REDUCE_RATE = "reduce_rate"
    CALL_PRESCRIBER = "call_prescriber"
    STOP = "stop"
    OBSERVE = "observe"


class PlausibleRange(_Section):
    """A reading outside this range is IMPOSSIBLE (a typing error): refused. Extreme but real readings (SpO2
    40, respiratory rate 0, heart rate 25) must lie inside it, so that they are saved and raise the critical
    alert: a protocol whose range would refuse one of those does not load (``POSSIBLE_EXTREMES``)."""

    vital: Vital
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> PlausibleRange:
        if self.low >= self.high:
            raise ValueError(
                f"plausible range of {self.vital.value}: low {self.low} must be below high {self.high}"
            )
        return self


class AlertLevel(StrEnum):
    """How loud an alert is: ``hold`` (act on it, e.g. pause) or ``critical`` (the highest: stop, call for
    help)."""

    HOLD = "hold"
    CRITICAL = "critical"


class Threshold(_Section):
    """A hold threshold: a reading above ``above`` or below ``below`` raises an alert suggesting
    ``action``."""

    code: str = Field(pattern="^[a-z][a-z0-9_]{1,40}$")
    vital: Vital
    level: AlertLevel = AlertLevel.HOLD
    above: float | None = None
    below: float | None = None
    action: SuggestedAction
    advice: str = Field(min_length=3, description="What the nurse should do, in words.")
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if (self.above is None) == (self.below is None):
            raise ValueError(f"threshold {self.code} needs exactly one of above or below")
        return self


class BaselineLimit(_Section):
    """A baseline (pre-infusion) reading beyond this blocks the start unless a prescriber overrides."""

    vital: Vital
    above: float | None = None
    below: float | None = None
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _a_bound(self) -> BaselineLimit:
        if self.above is None and self.below is None:
            raise ValueError(f"baseline limit on {self.vital.value} sets no bound")
        return self


class Backdating(_Section):
    """How late an event's time may be entered (``ketaclinic.core.infusion.event_times``)."""

    max_min: float = Field(ge=0, le=240, description="A time may be entered at most this many minutes late.")
    reason_after_min: float = Field(ge=0, le=240, description="Later than this, the entry needs a reason.")
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _ordered(self) -> Backdating:
        if self.reason_after_min > self.max_min:
            raise ValueError("backdating.reason_after_min must not be above backdating.max_min")
        return self


DEFAULT_BACKDATING = Backdating(max_min=60, reason_after_min=5, source="clinic default, no consensus source")


class MonitoringSection(_Section):
    vitals_interval_min: float = Field(ge=1, le=60, description="A reading is due this often while infusing.")
    recovery_interval_min: float = Field(
        ge=1, le=120, description="A reading is due this often while recovering."
    )
    overdue_grace_min: float = Field(
        ge=0, le=30, description="Minutes after due before a reading shows as overdue."
    )
    plausible: tuple[PlausibleRange, ...] = Field(min_length=1)
    thresholds: tuple[Threshold, ...] = ()
    baseline_limits: tuple[BaselineLimit, ...] = ()
    required: tuple[Vital, ...] = Field(
        default=(Vital.SYSTOLIC, Vital.DIASTOLIC, Vital.HEART_RATE, Vital.SPO2, Vital.RESPIRATORY_RATE),
        min_length=1,
        description="What a complete set of vital signs holds: only "
        "a complete set resets the 'vitals due' clock.",
    )
    backdating: Backdating = DEFAULT_BACKDATING
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _consistent(self) -> MonitoringSection:
        vitals = [p.vital for p in self.plausible]
        if len(set(vitals)) != len(vitals):
            raise ValueError("each vital may have only one plausible range")
        codes = [t.code for t in self.thresholds]
        if len(set(codes)) != len(codes):
            raise ValueError("threshold codes must be unique")
        for vital, extremes in POSSIBLE_EXTREMES.items():
            rng = self.plausible_for(vital)
            for x in extremes:
                if rng is not None and not rng.low <= x <= rng.high:
                    raise ValueError(
                        f"the plausible range of {vital.value} ({rng.low:g}-{rng.high:g}) would refuse "
                        f"{x:g}, a real reading that must be saved and raise the critical alert"
                    )
        for vital in LOW_SIDE_REQUIRED:
            levels = {t.level for t in self.thresholds if t.vital is vital and t.below is not None}
            if levels != {AlertLevel.HOLD, AlertLevel.CRITICAL}:
                raise ValueError(
                    f"monitoring needs a hold and a critical low-side threshold on {vital.value} "
                    "(bradycardia, hypotension, bradypnoea, desaturation)"
                )
        return self

    def plausible_for(self, vital: Vital) -> PlausibleRange | None:
        return next((p for p in self.plausible if p.vital is vital), None)


# Real readings seen in patients in distress, which must be saved (and alarm), never refused as typos.
POSSIBLE_EXTREMES: dict[Vital, tuple[float, ...]] = {
    Vital.SPO2: (40.0, 48.0),
    Vital.RESPIRATORY_RATE: (0.0, 3.0),
    Vital.HEART_RATE: (18.0, 25.0, 220.0),
    Vital.SYSTOLIC: (45.0, 60.0, 260.0),
    Vital.DIASTOLIC: (25.0, 160.0),
}
# Every protocol watches the low side of these (bradycardia, hypotension, bradypnoea, desaturation).
LOW_SIDE_REQUIRED = (Vital.HEART_RATE, Vital.SYSTOLIC, Vital.RESPIRATORY_RATE, Vital.SPO2)


class ChecklistKind(StrEnum):
    CONFIRM = "confirm"  # the nurse confirms: yes passes, no fails
    NUMBER = "number"  # a number within [min, max] is recorded (e.g. today's PHQ-9 total)
    WEIGHT = "weight"  # today's weight, in kg (converted from lb at entry)
    BASELINE_VITALS = "baseline_vitals"  # passes when the baseline reading is within the baseline limits
    PREGNANCY = "pregnancy"  # "not_pregnant" passes; not asked only for the sex in ``not_applicable_to_sex``
    # the patient's current consent is on file: the nurse's "yes" must be backed by the signed consent; asked
    # of everyone and never overridden (consent is the patient's, not a clinical judgement)
    CONSENT = "consent"
    # current medications reviewed: the interacting medications on file are listed with the answer, and a
    # major interaction with ketamine needs a prescriber's sign-off instead of a nurse's "yes"
    MEDICATIONS_REVIEW = "medications_review"
    # today's PHQ-9 total (0-27), kept on the session and shown in its note
    PHQ9_TODAY = "phq9_today"

    @property
    def answer_form(self) -> str:
        """How the item is answered: ``yes_no``, ``pregnancy``, ``weight``, ``number`` or ``reading`` (from
        the baseline vital signs, no answer)."""
        return _ANSWER_FORM[self]


_ANSWER_FORM = {
    ChecklistKind.CONFIRM: "yes_no",
    ChecklistKind.CONSENT: "yes_no",
    ChecklistKind.MEDICATIONS_REVIEW: "yes_no",
    ChecklistKind.PREGNANCY: "pregnancy",
    ChecklistKind.WEIGHT: "weight",
    ChecklistKind.NUMBER: "number",
    ChecklistKind.PHQ9_TODAY: "number",
    ChecklistKind.BASELINE_VITALS: "reading",
}
# A checklist has at most one item of each of these kinds (each is recorded once per session).
SINGLE_KINDS = (ChecklistKind.CONSENT, ChecklistKind.MEDICATIONS_REVIEW, ChecklistKind.PHQ9_TODAY)
PHQ9_TOTAL_RANGE = (0.0, 27.0)
# Protocol documents stored before checklist items declared these kinds (the shipped library up to version 3)
# named them by code with the kind "confirm" or "number"; such a stored document is read with the kind its
# code meant, so a session on an older version keeps the consent and interaction checks.
KIND_OF_CODE_BEFORE_KINDS = {
    "consent_on_file": ChecklistKind.CONSENT,
    "medications_reviewed": ChecklistKind.MEDICATIONS_REVIEW,
    "phq9_today": ChecklistKind.PHQ9_TODAY,
}


class ChecklistItem(_Section):
    code: str = Field(pattern="^[a-z][a-z0-9_]{1,40}$")
    question: str = Field(min_length=3)
    kind: ChecklistKind = ChecklistKind.CONFIRM
    min: float | None = None
    max: float | None = None
    prescriber_may_override: bool = True
    applies_to_sex: str | None = Field(default=None, pattern="^(female|male)$")
    # Not asked only when the patient's recorded sex at birth is this one (pregnancy: male); asked whenever
    # the sex is anything else, including other or unknown.
    not_applicable_to_sex: str | None = Field(default=None, pattern="^(female|male)$")
    confirm_change_percent: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="Weight items: a change from the last weight beyond this needs confirming.",
    )
    confirm_bmi_below: float | None = Field(
        default=None, gt=0, le=100, description="Weight items: a BMI below this needs confirming."
    )
    confirm_bmi_above: float | None = Field(
        default=None, gt=0, le=200, description="Weight items: a BMI above this needs confirming."
    )
    source: str = Field(min_length=3)

    @model_validator(mode="before")
    @classmethod
    def _kind_of_an_older_document(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind", "confirm") in ("confirm", "number"):
            kind = KIND_OF_CODE_BEFORE_KINDS.get(str(data.get("code")))
            if kind is not None:
                return {**data, "kind": kind.value}
        return data

    @model_validator(mode="after")
    def _range(self) -> ChecklistItem:
        if self.kind is ChecklistKind.PHQ9_TODAY and not (
            self.min is not None
            and self.max is not None
            and PHQ9_TOTAL_RANGE[0] <= self.min < self.max <= PHQ9_TOTAL_RANGE[1]
        ):
            raise ValueError(f"checklist item {self.code}: a PHQ-9 total's min and max lie within 0-27")
        if self.kind in (ChecklistKind.NUMBER, ChecklistKind.WEIGHT) and (
            self.min is None or self.max is None
        ):
            raise ValueError(f"checklist item {self.code} of kind {self.kind.value} needs min and max")
        weight_options = (self.confirm_change_percent, self.confirm_bmi_below, self.confirm_bmi_above)
        if self.kind is ChecklistKind.WEIGHT and None in weight_options:
            raise ValueError(
                f"checklist item {self.code} of kind weight needs confirm_change_percent, "
                "confirm_bmi_below and confirm_bmi_above"
            )
        if self.kind is not ChecklistKind.WEIGHT and any(o is not None for o in weight_options):
            raise ValueError(
                f"checklist item {self.code}: the weight confirmation options apply to weight items only"
            )
        if (
            self.confirm_bmi_below is not None
            and self.confirm_bmi_above is not None
            and self.confirm_bmi_below >= self.confirm_bmi_above
        ):
            raise ValueError(f"checklist item {self.code}: confirm_bmi_below must be below confirm_bmi_above")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"checklist item {self.code}: min {self.min} is above max {self.max}")
        return self


class ChecklistSection(_Section):
    items: tuple[ChecklistItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ChecklistSection:
        codes = [i.code for i in self.items]
        if len(set(codes)) != len(codes):
            raise ValueError("checklist item codes must be unique")
        for kind in SINGLE_KINDS:
            if sum(1 for i in self.items if i.kind is kind) > 1:
                raise ValueError(f"a checklist has at most one item of kind {kind.value}")
        return self

    def item_of_kind(self, kind: ChecklistKind) -> ChecklistItem | None:
        return next((i for i in self.items if i.kind is kind), None)

    def item(self, code: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.code == code), None)


class DischargeSection(_Section):
    observation_min: float = Field(ge=0, le=1440, description="Minimum observation after the infusion ends.")
    padss_pass_score: int = Field(
        ge=0, le=10, description="PADSS total at or above which the patient is fit (Chung 1995: 9)."
    )
    vitals_within_percent: float = Field(
        gt=0, le=100, description="PADSS vital signs score 2 within this % of baseline."
    )
    vitals_one_point_percent: float = Field(
        gt=0, le=100, description="PADSS vital signs score 1 up to this % of baseline."
    )
    recovery_vitals_max_age_min: float = Field(
        gt=0,
        le=120,
        description="A complete set of vital signs taken after the infusion stopped must be at most "
        "this old at the discharge assessment.",
    )
    escort_required: bool = True
    instructions: str = Field(min_length=10, description="What the patient receives at discharge.")
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _ordered(self) -> DischargeSection:
        if self.vitals_within_percent > self.vitals_one_point_percent:
            raise ValueError("vitals_within_percent must not exceed vitals_one_point_percent")
        return self
