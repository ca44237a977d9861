"""The weight a per-kg dose is computed on: Devine ideal body weight, adjusted body weight, BMI, and a
protocol's dosing-weight policy with its obese rule.

Formulas, each a clinic-visible default from DOMAIN.md §2:

* Devine ideal body weight (Devine BJ, Drug Intell Clin Pharm 1974;8:650): men 50 kg, women 45.5 kg,
  plus 2.3 kg **per inch** of height over 5 ft (60 in). (opentiva's IBW uses 2.3 kg per *cm*: a bug,
  not copied.)
* Adjusted body weight = IBW + 0.4 x (actual - IBW) (Traynor et al., Antimicrob Agents Chemother
  1995;39:545).
* BMI = weight (kg) / height (m)^2 (WHO).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.units import BODY_WEIGHT_RANGE_KG, HEIGHT_RANGE_CM, check_range
from ketaclinic.core.protocols.dosing import DosingWeightPolicy, WeightBasis

INCH_CM = 2.54
DEVINE_BASE_KG = {"male": 50.0, "female": 45.5}
DEVINE_KG_PER_INCH = 2.3
DEVINE_FROM_INCHES = 60.0
ADJUSTED_FACTOR = 0.4
NEEDS_HEIGHT_SEX = (
    "The dosing-weight policy ({basis}) needs the patient's height and sex (male or female); got height "
    "{height!r}, sex {sex!r}."
)
UNKNOWN_SEX = "Sex {value!r} is not one the Devine formula defines: allowed are male, female."
OBESE_RULE_UNCHECKED = (
    "Height not given: BMI and the protocol's obese rule (from BMI {bmi:g}, dose on {basis} body weight) "
    "were not checked; dosing on actual body weight."
)
OBESE_RULE_NEEDS_HEIGHT = (
    "Height is needed for an infusion order: this protocol doses patients with a BMI of {bmi:g} or more on "
    "{basis} body weight, and without a height the BMI cannot be checked. Record the patient's height; "
    "the weight basis is never guessed for a patient."
)
IBW_SHORT = (
    "Height {height_in:.1f} in is under 5 ft: the Devine formula is defined from 5 ft and is extrapolated."
)


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


def sex_parse(value: str) -> Sex:
    try:
        return Sex(str(value).strip().lower())
    except ValueError:
        raise ValidationError(UNKNOWN_SEX.format(value=value), field="sex", value=value) from None


def ideal_body_weight_kg(height_cm: float, sex: Sex) -> float:
    """Devine 1974: 50 kg (men) or 45.5 kg (women) + 2.3 kg per inch over 60 in."""
    check_range(height_cm, *HEIGHT_RANGE_CM, field="height", unit="cm")
    inches = height_cm / INCH_CM
    return DEVINE_BASE_KG[Sex(sex).value] + DEVINE_KG_PER_INCH * (inches - DEVINE_FROM_INCHES)


def adjusted_body_weight_kg(actual_kg: float, ideal_kg: float) -> float:
    """Traynor 1995: IBW + 0.4 x (actual - IBW)."""
    return ideal_kg + ADJUSTED_FACTOR * (actual_kg - ideal_kg)


def body_mass_index(weight_kg: float, height_cm: float) -> float:
    """WHO: kg / m²."""
    check_range(height_cm, *HEIGHT_RANGE_CM, field="height", unit="cm")
    return weight_kg / (height_cm / 100.0) ** 2


@dataclass(frozen=True, slots=True)
class DosingWeight:
    """The weight a per-kg dose is computed on, with every weight considered and the basis chosen."""

    kg: float
    basis: WeightBasis
    actual_kg: float
    ideal_kg: float | None
    adjusted_kg: float | None
    bmi_kg_per_m2: float | None
    notes: tuple[str, ...] = ()


def dosing_weight_compute(
    policy: DosingWeightPolicy,
    *,
    actual_kg: float,
    height_cm: float | None = None,
    sex: Sex | str | None = None,
    require_height: bool = False,
) -> DosingWeight:
    """Apply a protocol's dosing-weight policy; the obese rule applies from ``policy.obese.bmi_at_least``.

    Without a height the obese rule cannot be checked. A quick calculation (the CLI) then doses on actual
    weight with a note saying so; an order for a patient passes ``require_height=True`` and is refused.
    """
    check_range(actual_kg, *BODY_WEIGHT_RANGE_KG, field="weight", unit="kg")
    ideal = adjusted = bmi = None
    notes: list[str] = []
    sex_value = sex_parse(sex) if sex is not None else None
    if height_cm is not None:
        bmi = body_mass_index(actual_kg, height_cm)
        if sex_value is not None:
            ideal = ideal_body_weight_kg(height_cm, sex_value)
            adjusted = adjusted_body_weight_kg(actual_kg, ideal)
            if height_cm / INCH_CM < DEVINE_FROM_INCHES:
                notes.append(IBW_SHORT.format(height_in=height_cm / INCH_CM))
    basis = policy.basis
    if policy.obese is not None:
        if bmi is None and require_height:
            raise ValidationError(
                OBESE_RULE_NEEDS_HEIGHT.format(bmi=policy.obese.bmi_at_least, basis=policy.obese.basis.value),
                field="height",
                value=height_cm,
            )
        if bmi is None:
            notes.append(
                OBESE_RULE_UNCHECKED.format(bmi=policy.obese.bmi_at_least, basis=policy.obese.basis.value)
            )
        elif bmi >= policy.obese.bmi_at_least:
            basis = policy.obese.basis
            notes.append(
                f"BMI {bmi:.1f} ≥ {policy.obese.bmi_at_least:g}: dosing on {basis.value} body weight "
                f"(protocol obese rule)."
            )
    if basis is WeightBasis.ACTUAL:
        kg = actual_kg
    else:
        if ideal is None or adjusted is None:
            raise ValidationError(
                NEEDS_HEIGHT_SEX.format(basis=basis.value, height=height_cm, sex=sex),
                field="height",
                value=height_cm,
            )
        kg = ideal if basis is WeightBasis.IDEAL else adjusted
        if policy.lesser_of_ideal_and_actual and actual_kg < kg:
            notes.append(
                f"Actual weight {actual_kg:.1f} kg is below the {basis.value} weight {kg:.1f} kg: dosing "
                f"on actual weight."
            )
            kg = actual_kg
    return DosingWeight(kg, basis, actual_kg, ideal, adjusted, bmi, tuple(notes))
