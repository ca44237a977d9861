"""The dosing weight, with the words the prescriber reads beside it: which weight was chosen and why (the
obese rule, the lesser of ideal and actual, a short patient), and refusals that name the height field."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.body_weight import (
    IBW_SHORT,
    NEEDS_HEIGHT_SEX,
    OBESE_RULE_NEEDS_HEIGHT,
    Sex,
    dosing_weight_compute,
    ideal_body_weight_kg,
)
from ketaclinic.core.protocols.dosing import DosingWeightPolicy, ObesePolicy, WeightBasis

IDEAL = DosingWeightPolicy(basis=WeightBasis.IDEAL)
ADJUSTED = DosingWeightPolicy(basis=WeightBasis.ADJUSTED)
OBESE = DosingWeightPolicy(
    basis=WeightBasis.ACTUAL, obese=ObesePolicy(bmi_at_least=35, basis=WeightBasis.ADJUSTED)
)


def test_a_patient_under_five_feet_gets_a_note_with_her_height_in_inches() -> None:
    w = dosing_weight_compute(IDEAL, actual_kg=60, height_cm=150, sex="female")
    assert w.notes == (IBW_SHORT.format(height_in=150 / 2.54),)
    assert "59.1 in" in w.notes[0]
    assert dosing_weight_compute(IDEAL, actual_kg=60, height_cm=152.4, sex="female").notes == ()


def test_on_an_ideal_basis_the_ideal_weight_is_used_and_on_adjusted_the_adjusted() -> None:
    ideal = dosing_weight_compute(IDEAL, actual_kg=100, height_cm=180, sex="male")
    assert ideal.kg == pytest.approx(ideal_body_weight_kg(180, Sex.MALE)) == ideal.ideal_kg
    adjusted = dosing_weight_compute(ADJUSTED, actual_kg=100, height_cm=180, sex="male")
    assert adjusted.kg == adjusted.adjusted_kg != ideal.kg


def test_an_actual_weight_below_the_ideal_is_dosed_on_the_actual_weight_and_says_so() -> None:
    w = dosing_weight_compute(IDEAL, actual_kg=60, height_cm=180, sex="male")  # ideal 74.9 kg
    assert w.kg == 60 and w.basis is WeightBasis.IDEAL
    assert w.notes == (
        f"Actual weight 60.0 kg is below the ideal weight {w.ideal_kg:.1f} kg: dosing on actual weight.",
    )
    # exactly at the ideal weight: the ideal weight, no note
    exact = dosing_weight_compute(IDEAL, actual_kg=w.ideal_kg, height_cm=180, sex="male")
    assert exact.notes == () and exact.kg == w.ideal_kg


def test_the_obese_rule_names_the_bmi_and_the_basis_it_switched_to() -> None:
    w = dosing_weight_compute(OBESE, actual_kg=130, height_cm=175, sex="female")
    assert w.basis is WeightBasis.ADJUSTED
    assert w.notes == (
        f"BMI {130 / 1.75**2:.1f} ≥ 35: dosing on adjusted body weight (protocol obese rule).",
    )


def test_an_order_without_a_height_under_an_obese_rule_is_refused_on_the_height_field() -> None:
    with pytest.raises(ValidationError) as exc:
        dosing_weight_compute(OBESE, actual_kg=130, require_height=True)
    assert (exc.value.field, exc.value.value) == ("height", None)
    assert exc.value.message == OBESE_RULE_NEEDS_HEIGHT.format(bmi=35, basis="adjusted")


@pytest.mark.parametrize(("height", "sex"), [(180.0, None), (None, "male")])
def test_an_ideal_basis_without_height_or_sex_is_refused_naming_what_was_given(height, sex) -> None:
    with pytest.raises(ValidationError) as exc:
        dosing_weight_compute(IDEAL, actual_kg=80, height_cm=height, sex=sex)
    assert (exc.value.field, exc.value.value) == ("height", height)
    assert exc.value.message == NEEDS_HEIGHT_SEX.format(basis="ideal", height=height, sex=sex)
