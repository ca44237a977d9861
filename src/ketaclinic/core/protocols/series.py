"""The ``series`` section of a protocol document: how many infusions, how often, then what.

The seeds describe an initial series of six infusions over three weeks, "bi-weekly" meaning twice a
week (seeds 000, 004), an evaluation after the series and "booster" infusions when symptoms come back.
Twice and three times weekly were equally effective (Singh et al., Am J Psychiatry 2016;173:816-826,
cited in seed 003), so a protocol may allow 1 to 3 a week. The minimum spacing between two infusions
(48 h in the shipped protocols) is a **clinic default** with no consensus source: a clinic sets it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BoosterPolicy(_Section):
    """Maintenance ("booster") infusions after the series, on symptom recurrence."""

    min_days_between: int = Field(14, ge=1, le=365, description="Minimum days from the previous infusion.")
    text: str = Field("", description="The policy in words, as the clinic explains it to patients.")


class SeriesSection(_Section):
    initial_count: int = Field(6, ge=1, le=30, description="Infusions in the initial series.")
    max_per_week: int = Field(
        2, ge=1, le=3, description="At most this many infusions in one calendar week (Mon-Sun)."
    )
    min_spacing_hours: int = Field(
        48, ge=0, le=24 * 28, description="Minimum hours between two infusions (clinic default 48 h)."
    )
    evaluation_after: int = Field(
        6, ge=1, le=30, description="Evaluate the response after this many infusions."
    )
    chair_minutes: int = Field(
        120, ge=15, le=480, description="Default chair time per visit, incl. observation."
    )
    booster: BoosterPolicy = Field(default_factory=BoosterPolicy)
    record_only: bool = Field(
        False, description="Scheduling follows a label the clinic records, not its own rule."
    )
    source: str = ""

    @model_validator(mode="after")
    def _evaluation_within_series(self) -> SeriesSection:
        if self.evaluation_after > self.initial_count:
            raise ValueError(
                f"evaluation_after ({self.evaluation_after}) is after the last infusion of the "
                f"series ({self.initial_count})"
            )
        if self.min_spacing_hours * self.max_per_week > 7 * 24:
            raise ValueError(
                f"{self.max_per_week} infusions a week cannot be {self.min_spacing_hours} h apart"
            )
        return self
