"""The eligibility section of a protocol document (screening rules).

Defaults come from the seeds and DOMAIN.md: age 18–65 (seed 000), TRD = at least two failed adequate
antidepressant trials (seed 004), no substance abuse (seed 000), relative contraindications that agree
across secondary sources (DOMAIN.md §4, **no consensus list**: shipped as clinic defaults).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ketaclinic.core.indications import INDICATIONS, Category


class Action(StrEnum):
    """What a positive answer does to the decision."""

    EXCLUDE = "exclude"  # not eligible
    REVIEW = "review"  # needs prescriber review
    ALLOW = "allow"  # recorded, no effect on the decision


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AgeRange(_Section):
    min_years: int = Field(ge=0, le=120, description="Youngest eligible age, inclusive.")
    max_years: int = Field(ge=0, le=120, description="Oldest eligible age, inclusive.")

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.min_years > self.max_years:
            raise ValueError(f"min_years ({self.min_years}) is above max_years ({self.max_years})")
        return self


class TreatmentResistance(_Section):
    """How many failed adequate trials an indication requires before ketamine."""

    indications: tuple[str, ...] = Field(description="Indication codes the rule applies to.")
    min_failed_trials: int = Field(ge=0, le=10)
    adequate_trial_min_weeks: int = Field(
        ge=1,
        le=52,
        description="A trial counts as adequate after at least this many weeks at a therapeutic dose.",
    )
    kind: str = Field(pattern="^(antidepressant|pain_treatment)$")
    action_if_unmet: Action = Action.EXCLUDE


class SubstanceUse(_Section):
    active: Action = Action.EXCLUDE
    past: Action = Action.REVIEW


class Contraindication(_Section):
    code: str = Field(pattern="^[a-z][a-z0-9_]{1,63}$")
    question: str = Field(min_length=5)
    action: Action
    source: str = ""


class EligibilitySection(_Section):
    age: AgeRange
    referral_required_for: tuple[Category, ...] = (Category.PSYCHIATRIC,)
    treatment_resistance: tuple[TreatmentResistance, ...] = ()
    substance_use: SubstanceUse = SubstanceUse()
    contraindications: tuple[Contraindication, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> EligibilitySection:
        codes = [c.code for c in self.contraindications]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"contraindication codes repeat: {', '.join(dupes)}")
        for rule in self.treatment_resistance:
            unknown = [i for i in rule.indications if i not in INDICATIONS]
            if unknown:
                raise ValueError(f"treatment_resistance names unknown indications: {', '.join(unknown)}")
        return self
