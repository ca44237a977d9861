"""The ``rems`` section of a protocol document: what the esketamine (Spravato) REMS asks after a session.

The SPRAVATO REMS asks an outpatient healthcare setting to complete a Patient Monitoring Form after
**every** treatment session and submit it within 7 days; it asks the dose and lot numbers, the time
monitored from the first device (at least 2 hours), blood pressure before administration, about 40 minutes
after and before the session ends, whether the patient had sedation, dissociation or respiratory changes
(pulse oximetry), concomitant sedating or pressor drugs, and serious adverse events (DOMAIN.md §2; the
form's own instructions). Every time below is data a clinic can change; where the REMS gives no number
(how close to the first device a "pre-dose" reading must be, the tolerance around 40 minutes) the shipped
value is a **clinic default** and its source says so.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RemsCheckKind(StrEnum):
    """What a check records."""

    BLOOD_PRESSURE = "blood_pressure"
    SEDATION = "sedation"
    DISSOCIATION = "dissociation"

    @property
    def label(self) -> str:
        return {"blood_pressure": "Blood pressure", "sedation": "Sedation", "dissociation": "Dissociation"}[
            self.value
        ]


class RemsCheckSlot(StrEnum):
    """When a check is due, relative to the session's events."""

    PRE_DOSE = "pre_dose"  # within window_min before the first device
    AFTER_FIRST_DEVICE = "after_first_device"  # minutes after the first device, +/- tolerance_min
    BEFORE_DISCHARGE = "before_discharge"  # within window_min before discharge

    @property
    def label(self) -> str:
        return {
            "pre_dose": "before the first device",
            "after_first_device": "after the first device",
            "before_discharge": "before discharge",
        }[self.value]


class RemsCheck(_Section):
    """One required check and when it counts."""

    kind: RemsCheckKind
    slot: RemsCheckSlot
    minutes: int | None = Field(
        None, ge=1, le=480, description="after_first_device only: minutes after the first device."
    )
    tolerance_min: int = Field(
        0,
        ge=0,
        le=60,
        description="after_first_device only: a reading this many minutes early or late counts.",
    )
    window_min: int = Field(
        0,
        ge=0,
        le=240,
        description="pre_dose / before_discharge: how long before the event a reading counts.",
    )
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _timing_fits_slot(self) -> RemsCheck:
        if self.slot is RemsCheckSlot.AFTER_FIRST_DEVICE:
            if self.minutes is None:
                raise ValueError("a check after the first device needs its minutes")
            if self.tolerance_min >= self.minutes:
                raise ValueError(
                    f"the tolerance ({self.tolerance_min} min) must be shorter than the time after the "
                    f"first device ({self.minutes} min)"
                )
        elif self.minutes is not None or self.window_min < 1:
            raise ValueError(f"a check {self.slot.label} takes a window_min of at least 1 and no minutes")
        return self

    @property
    def code(self) -> str:
        return f"{self.kind.value}@{self.slot.value}"


class RemsSection(_Section):
    """The REMS Patient Monitoring Form: its required monitoring, its checks and its deadline."""

    monitoring_min: int = Field(
        120, ge=1, le=720, description="Minimum minutes monitored from the first device."
    )
    monitoring_source: str = Field(min_length=3)
    checks: tuple[RemsCheck, ...] = Field(min_length=1)
    submit_within_days: int = Field(7, ge=1, le=60, description="Days after the session to submit the form.")
    due_soon_days: int = Field(2, ge=0, le=30, description="Show the form as due soon this many days before.")
    submission_source: str = Field(min_length=3)
    programme: str = Field(
        "SPRAVATO REMS", min_length=3, description="The programme's name, as staff say it."
    )

    @model_validator(mode="after")
    def _one_check_per_time(self) -> RemsSection:
        codes = [c.code for c in self.checks]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"checks declared twice: {', '.join(twice)}")
        if self.due_soon_days >= self.submit_within_days:
            raise ValueError("due_soon_days must be fewer than submit_within_days")
        return self
