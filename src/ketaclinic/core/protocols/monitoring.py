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
    Vital.SYSTOLIC: "Systolic blood pressure", Vital.DIASTOLIC: "Diastolic blood pressure",
    Vital.HEART_RATE: "Heart rate", Vital.SPO2: "SpO2", Vital.RESPIRATORY_RATE: "Respiratory rate",
    Vital.SEDATION: "Sedation/dissociation",
}
VITAL_UNITS = {
    Vital.SYSTOLIC: "mmHg", Vital.DIASTOLIC: "mmHg", Vital.HEART_RATE: "/min", Vital.SPO2: "%",
    Vital.RESPIRATORY_RATE: "/min", Vital.SEDATION: "(0 none, 1 mild, 2 moderate, 3 severe)",
}
# DOMAIN.md §6: BP panel 85354-9 (systolic 8480-6, diastolic 8462-4), HR 8867-4, RR 9279-1, SpO2 59408-5 and 2708-6.
LOINC = {
    Vital.SYSTOLIC: ("8480-6",), Vital.DIASTOLIC: ("8462-4",), Vital.HEART_RATE: ("8867-4",),
    Vital.SPO2: ("59408-5", "2708-6"), Vital.RESPIRATORY_RATE: ("9279-1",), Vital.SEDATION: (),
}


class SuggestedAction(StrEnum):
    PAUSE = "pause"
    REDUCE_RATE = "reduce_rate"
    CALL_PRESCRIBER = "call_prescriber"
    STOP = "stop"
    OBSERVE = "observe"


class PlausibleRange(_Section):
    """A reading outside this range is physiologically impossible here: refused as an entry error."""

    vital: Vital
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> PlausibleRange:
        if self.low >= self.high:
            raise ValueError(f"plausible range of {self.vital.value}: low {self.low} must be below high {self.high}")
        return self


class Threshold(_Section):
    """A hold threshold: a reading above ``above`` or below ``below`` raises an alert suggesting ``action``."""

    code: str = Field(pattern="^[a-z][a-z0-9_]{1,40}$")
    vital: Vital
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


class MonitoringSection(_Section):
    vitals_interval_min: float = Field(ge=1, le=60, description="A reading is due this often while infusing.")
    recovery_interval_min: float = Field(ge=1, le=120, description="A reading is due this often while recovering.")
    overdue_grace_min: float = Field(ge=0, le=30, description="Minutes after due before a reading shows as overdue.")
    plausible: tuple[PlausibleRange, ...] = Field(min_length=1)
    thresholds: tuple[Threshold, ...] = ()
    baseline_limits: tuple[BaselineLimit, ...] = ()
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _consistent(self) -> MonitoringSection:
        vitals = [p.vital for p in self.plausible]
        if len(set(vitals)) != len(vitals):
            raise ValueError("each vital may have only one plausible range")
        codes = [t.code for t in self.thresholds]
        if len(set(codes)) != len(codes):
            raise ValueError("threshold codes must be unique")
        return self

    def plausible_for(self, vital: Vital) -> PlausibleRange | None:
        return next((p for p in self.plausible if p.vital is vital), None)


class ChecklistKind(StrEnum):
    CONFIRM = "confirm"  # the nurse confirms: yes passes, no fails
    NUMBER = "number"  # a number within [min, max] is recorded (e.g. today's PHQ-9 total)
    WEIGHT = "weight"  # today's weight, in kg (converted from lb at entry)
    BASELINE_VITALS = "baseline_vitals"  # passes when the baseline reading is within the baseline limits
    PREGNANCY = "pregnancy"  # "not_pregnant" passes; applies only where relevant (``applies_to_sex``)


class ChecklistItem(_Section):
    code: str = Field(pattern="^[a-z][a-z0-9_]{1,40}$")
    question: str = Field(min_length=3)
    kind: ChecklistKind = ChecklistKind.CONFIRM
    min: float | None = None
    max: float | None = None
    prescriber_may_override: bool = True
    applies_to_sex: str | None = Field(default=None, pattern="^(female|male)$")
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _range(self) -> ChecklistItem:
        if self.kind in (ChecklistKind.NUMBER, ChecklistKind.WEIGHT) and (self.min is None or self.max is None):
            raise ValueError(f"checklist item {self.code} of kind {self.kind.value} needs min and max")
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
        return self

    def item(self, code: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.code == code), None)


class DischargeSection(_Section):
    observation_min: float = Field(ge=0, le=1440, description="Minimum observation after the infusion ends.")
    padss_pass_score: int = Field(ge=0, le=10, description="PADSS total at or above which the patient is fit (Chung 1995: 9).")
    vitals_within_percent: float = Field(gt=0, le=100, description="PADSS vital signs score 2 within this % of baseline.")
    vitals_one_point_percent: float = Field(gt=0, le=100, description="PADSS vital signs score 1 up to this % of baseline.")
    escort_required: bool = True
    instructions: str = Field(min_length=10, description="What the patient receives at discharge.")
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _ordered(self) -> DischargeSection:
        if self.vitals_within_percent > self.vitals_one_point_percent:
            raise ValueError("vitals_within_percent must not exceed vitals_one_point_percent")
        return self
