from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology import body_weight, dosing
from ketaclinic.core.pharmacology.body_weight import (
    Sex,
    adjusted_body_weight_kg,
    body_mass_index,
    dosing_weight_compute,
    ideal_body_weight_kg,
)
from ketaclinic.core.pharmacology.dosing import (
    HardLimitError,
    dose_calculate,
    dose_override,
    pump_program,
    titration_next,
)
from ketaclinic.core.pharmacology.units import Kind, quantity_parse
from ketaclinic.core.protocols.dosing import DosingWeightPolicy, ObesePolicy, WeightBasis
from ketaclinic.protocols.files import shipped_protocol

DEPRESSION = shipped_protocol("depression-standard").dosing
CRPS = shipped_protocol("crps-schwartzman").dosing
NASAL = shipped_protocol("esketamine-nasal").dosing
PAIN = shipped_protocol("chronic-pain").dosing


def mgkg(x: float):
    return quantity_parse(f"{x!r}mg/kg", Kind.DOSE)


# --- Devine, adjusted, BMI: expected values worked by hand from the formulas' definitions -------------
def test_devine_is_per_inch_not_per_cm() -> None:
    # 6 ft (72 in = 182.88 cm) man: 50 + 2.3 x 12 = 77.6 kg; woman 45.5 + 27.6 = 73.1 kg.
    assert ideal_body_weight_kg(182.88, Sex.MALE) == pytest.approx(77.6, abs=1e-9)
    assert ideal_body_weight_kg(182.88, Sex.FEMALE) == pytest.approx(73.1, abs=1e-9)
    assert ideal_body_weight_kg(152.4, Sex.MALE) == pytest.approx(50.0, abs=1e-9)  # exactly 5 ft


def test_adjusted_and_bmi() -> None:
    assert adjusted_body_weight_kg(120, 70) == pytest.approx(90)  # 70 + 0.4 x 50
    assert body_mass_index(81, 180) == pytest.approx(25.0)


def test_obese_policy_switches_basis_at_the_bmi_threshold() -> None:
    policy = DosingWeightPolicy(
        basis=WeightBasis.ACTUAL, obese=ObesePolicy(bmi_at_least=35, basis=WeightBasis.ADJUSTED)
    )
    # 180 cm: BMI 35 at 113.4 kg exactly
    at = dosing_weight_compute(policy, actual_kg=113.4, height_cm=180, sex="male")
    below = dosing_weight_compute(policy, actual_kg=113.3, height_cm=180, sex="male")
    ibw = 50 + 2.3 * (180 / 2.54 - 60)
    assert at.basis is WeightBasis.ADJUSTED
    assert at.kg == pytest.approx(ibw + 0.4 * (113.4 - ibw))
    assert below.basis is WeightBasis.ACTUAL
    assert below.kg == 113.3


def test_without_height_the_obese_rule_is_noted_for_a_quick_calculation_and_refused_for_an_order() -> None:
    policy = DosingWeightPolicy(
        basis=WeightBasis.ACTUAL, obese=ObesePolicy(bmi_at_least=35, basis=WeightBasis.ADJUSTED)
    )
    quick = dosing_weight_compute(policy, actual_kg=130)
    assert quick.kg == 130 and quick.bmi_kg_per_m2 is None
    assert quick.notes == (body_weight.OBESE_RULE_UNCHECKED.format(bmi=35, basis="adjusted"),)
    with pytest.raises(ValidationError) as exc:
        dosing_weight_compute(policy, actual_kg=130, require_height=True)
    assert exc.value.field == "height"
    assert "BMI of 35 or more on adjusted body weight" in exc.value.message
    with pytest.raises(ValidationError, match="Height is needed"):
        dose_calculate(DEPRESSION, weight_kg=130, require_height=True)
    # with a height the order goes through (and the rule decides the basis)
    assert (
        dose_calculate(
            DEPRESSION, weight_kg=130, height_cm=180, sex="male", require_height=True
        ).dosing_weight.basis
        is WeightBasis.ADJUSTED
    )
    # a protocol without an obese rule needs no height even for an order
    assert dosing_weight_compute(DosingWeightPolicy(), actual_kg=130, require_height=True).kg == 130


def test_ideal_basis_needs_height_and_sex() -> None:
    with pytest.raises(ValidationError) as exc:
        dosing_weight_compute(DosingWeightPolicy(basis=WeightBasis.IDEAL), actual_kg=80)
    assert exc.value.message == body_weight.NEEDS_HEIGHT_SEX.format(basis="ideal", height=None, sex=None)


def test_unknown_sex_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        dosing_weight_compute(DosingWeightPolicy(), actual_kg=80, height_cm=170, sex="x")
    assert exc.value.message == body_weight.UNKNOWN_SEX.format(value="x")


def test_lesser_of_ideal_and_actual() -> None:
    w = dosing_weight_compute(
        DosingWeightPolicy(basis=WeightBasis.IDEAL), actual_kg=60, height_cm=190, sex="male"
    )
    assert w.kg == 60


# --- the default dose and pump program ----------------------------------------------------------------
def test_depression_default_82kg() -> None:
    c = dose_calculate(DEPRESSION, weight_kg=82)
    assert c.dose_mg == pytest.approx(41.0)
    assert c.duration_min == 40
    assert c.rate_mg_per_h == pytest.approx(61.5)
    assert c.pump is not None
    # 41 mg from 50 mg/mL = 0.82 mL; 100.82 mL over 2/3 h = 151.23 mL/h -> 151.2 at 0.1 precision
    assert c.pump.total_volume_ml == pytest.approx(100.82)
    assert c.pump.exact_rate_ml_per_h == pytest.approx(151.23)
    assert c.pump.rate_ml_per_h == 151.2
    assert c.pump.delivered_mg == pytest.approx(151.2 * 40 / 60 * 41 / 100.82)
    assert c.warnings == ()
    assert c.ready_to_sign


def test_pump_rounds_half_up_in_decimal() -> None:
    # 100 mg in 50 mL: 52 mL; over 60 min exact 52.0; choose numbers that hit .x5: 25 mL + 0.05 mL... use 1 h
    p = pump_program(dose_mg=5, duration_min=60, vial_mg_per_ml=100, bag_ml=100.2, precision_ml_per_h=0.1)
    assert p.exact_rate_ml_per_h == pytest.approx(100.25)
    assert p.rate_ml_per_h == 100.3


def test_pump_refusals() -> None:
    with pytest.raises(ValidationError) as exc:
        pump_program(dose_mg=41, duration_min=40, vial_mg_per_ml=50, bag_ml=5)
    assert exc.value.message == dosing.BAG_RANGE.format(value=5)
    with pytest.raises(ValidationError):
        pump_program(dose_mg=41, duration_min=1, vial_mg_per_ml=50, bag_ml=1000)  # 60 L/h above the pump


def test_vial_not_in_protocol_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        dose_calculate(DEPRESSION, weight_kg=82, vial_mg_per_ml=20)
    assert exc.value.message == dosing.VIAL_NOT_ALLOWED.format(value=20, allowed="10, 50, 100")


# --- soft and hard limits: at, just below and just above each -------------------------------------------
@pytest.mark.parametrize(
    ("dose", "warned"),
    [
        (0.2, False),
        (0.2 + 1e-6, False),
        (0.2 - 1e-6, True),
        (1.0, False),
        (1.0 - 1e-6, False),
        (1.0 + 1e-6, True),
        (2.0, True),
        (2.0 - 1e-6, True),
    ],
)
def test_soft_limits_edges(dose: float, warned: bool) -> None:
    c = dose_calculate(DEPRESSION, weight_kg=70, dose=mgkg(dose))
    assert bool(c.warnings) is warned
    assert c.ready_to_sign is not warned


def test_hard_limit_just_above_is_refused() -> None:
    with pytest.raises(HardLimitError) as exc:
        dose_calculate(DEPRESSION, weight_kg=70, dose=mgkg(2.0 + 1e-6))
    assert exc.value.field == "dose_mg_per_kg"
    assert "above the hard limit of 2 mg/kg" in exc.value.message


def test_dose_in_mg_at_the_limit_is_not_refused_for_round_off() -> None:
    c = dose_calculate(DEPRESSION, weight_kg=70, dose=quantity_parse("140mg", Kind.DOSE))  # 2.0 mg/kg exactly
    assert c.dose_mg_per_kg == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("duration", "outcome"),
    [
        (20, "warn"),
        (20 - 1e-6, "refuse"),
        (40, "ok"),
        (40 - 1e-6, "warn"),
        (60, "ok"),
        (60 + 1e-6, "warn"),
    ],
)
def test_duration_limit_edges(duration: float, outcome: str) -> None:
    if outcome == "refuse":
        with pytest.raises(HardLimitError):
            dose_calculate(DEPRESSION, weight_kg=70, duration_min=duration)
        return
    c = dose_calculate(DEPRESSION, weight_kg=70, duration_min=duration)
    assert bool(c.warnings) is (outcome == "warn")


def test_soft_warning_message_and_override() -> None:
    c = dose_calculate(DEPRESSION, weight_kg=70, dose=mgkg(1.2))
    (w,) = c.warnings
    assert w.bound == "soft_max"
    assert w.limit == 1.0
    assert w.message == dosing.SOFT_ABOVE.format(
        what="Dose", value=1.2, unit="mg/kg", bound=1.0, source=DEPRESSION.limits[0].source, range="0–2 mg/kg"
    )
    with pytest.raises(ValidationError) as exc:
        dose_override(c, "ok")
    assert exc.value.message == dosing.OVERRIDE_TOO_SHORT.format(low=15, value="ok")
    signed = dose_override(c, "Partial response at 1.0 mg/kg x3; discussed with patient.")
    assert signed.ready_to_sign
    assert signed.warnings == c.warnings


def test_override_without_warning_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        dose_override(dose_calculate(DEPRESSION, weight_kg=70), "a long enough reason")
    assert exc.value.message == dosing.NO_WARNINGS_TO_OVERRIDE


def test_wrong_dose_unit_for_basis() -> None:
    with pytest.raises(ValidationError) as exc:
        dose_calculate(CRPS, weight_kg=70, dose=mgkg(0.5))
    assert exc.value.field == "dose"


# --- CRPS (Schwartzman 2009): rate cap, 25 mg/h, 100 mg ------------------------------------------------
def test_crps_rate_capped_for_heavy_patient() -> None:
    c = dose_calculate(CRPS, weight_kg=100)
    assert c.rate_mg_per_h == 25
    assert c.dose_mg == pytest.approx(100)
    assert c.notes == (dosing.RATE_CAPPED.format(cap=25, uncapped=35.0),)


def test_crps_light_patient_gets_0_35_mg_kg_h() -> None:
    c = dose_calculate(CRPS, weight_kg=60)
    assert c.rate_mg_per_h == pytest.approx(21.0)
    assert c.dose_mg == pytest.approx(84.0)


@pytest.mark.parametrize(
    ("rate", "weight", "refused"),
    [
        ("25mg/h", 80, False),
        ("25.001mg/h", 80, True),
        ("0.35mg/kg/h", 70, False),
        ("0.351mg/kg/h", 70, True),
        ("25mg/h", 70, True),  # 0.357 mg/kg/h: beyond Schwartzman's 0.35 mg/kg/h
        ("0.35mg/kg/h", 80, True),  # 28 mg/h: beyond 25 mg/h
    ],
)
def test_crps_rate_edges(rate: str, weight: float, refused: bool) -> None:
    q = quantity_parse(rate, Kind.RATE)
    if refused:
        with pytest.raises(HardLimitError):
            dose_calculate(CRPS, weight_kg=weight, dose=q)
    else:
        assert dose_calculate(CRPS, weight_kg=weight, dose=q).rate_mg_per_h <= 25 * (1 + 1e-9)


def test_chronic_pain_below_cohen_trial_dose_warns() -> None:
    c = dose_calculate(PAIN, weight_kg=70, dose=quantity_parse("70mg", Kind.DOSE))
    assert [w.quantity.value for w in c.warnings] == ["dose_mg"]


# --- esketamine nasal: record only ----------------------------------------------------------------------
@pytest.mark.parametrize(("mg", "devices"), [(56, 2), (84, 3)])
def test_nasal_allowed_doses(mg: int, devices: int) -> None:
    c = dose_calculate(NASAL, weight_kg=70, dose=quantity_parse(f"{mg}mg", Kind.DOSE))
    assert c.devices == devices
    assert c.pump is None
    assert c.rate_mg_per_h is None


def test_nasal_other_dose_refused() -> None:
    with pytest.raises(HardLimitError) as exc:
        dose_calculate(NASAL, weight_kg=70, dose=quantity_parse("70mg", Kind.DOSE))
    assert exc.value.message == dosing.NOT_AN_INTRANASAL_DOSE.format(value=70, allowed="56, 84")


def test_titration() -> None:
    assert titration_next(DEPRESSION, 0.5) == 0.6
    assert titration_next(DEPRESSION, 0.9) == 1.0
    assert titration_next(DEPRESSION, 1.0) is None


@settings(deadline=None)
@given(st.floats(min_value=20, max_value=350), st.floats(min_value=0.2, max_value=2.0))
def test_dose_scales_linearly_with_weight(weight: float, per_kg: float) -> None:
    c = dose_calculate(DEPRESSION, weight_kg=weight, dose=mgkg(per_kg))
    assert c.dose_mg == pytest.approx(per_kg * weight, rel=1e-12)
    c2 = dose_calculate(DEPRESSION, weight_kg=weight, dose=mgkg(per_kg / 2))
    assert c2.dose_mg == pytest.approx(c.dose_mg / 2, rel=1e-12)


def test_rounding_up_empties_the_bag_a_little_early() -> None:
    """1.2 mg/kg at 82 kg: 101.968 mL over 40 min = 152.952 mL/h -> 153.0; the bag empties just before 40
    min."""
    c = dose_calculate(DEPRESSION, weight_kg=82, dose=mgkg(1.2))
    p = c.pump
    assert p is not None
    assert p.rate_ml_per_h == 153.0
    assert p.vtbi_ml == pytest.approx(101.968)
    assert p.run_time_min == pytest.approx(101.968 / 153.0 * 60)
    assert p.run_time_min < 40
    assert p.delivered_mg == pytest.approx(98.4)
    assert p.residual_ml == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("text", ["0mg/kg", "-0.5mg/kg", "0mg"])
def test_zero_or_negative_dose_refused(text: str) -> None:
    with pytest.raises(ValidationError) as exc:
        dose_calculate(DEPRESSION, weight_kg=70, dose=quantity_parse(text, Kind.DOSE))
    assert exc.value.field == "dose"


# chronic pain at 480 min (its duration hard maximum) so the 25 mg/h rate limit stays out of the way
@pytest.mark.parametrize(
    ("mg", "outcome"),
    [
        (80, "ok"),
        (80 - 1e-4, "warn:soft_min"),
        (80 + 1e-4, "ok"),
        (100, "ok"),
        (100 - 1e-4, "ok"),
        (100 + 1e-4, "warn:soft_max"),
        (150, "warn:soft_max"),
        (150 - 1e-4, "warn:soft_max"),
        (150 + 1e-4, "refuse"),
    ],
)
def test_chronic_pain_dose_edges(mg: float, outcome: str) -> None:
    dose = quantity_parse(f"{mg!r}mg", Kind.DOSE)
    if outcome == "refuse":
        with pytest.raises(HardLimitError) as exc:
            dose_calculate(PAIN, weight_kg=70, dose=dose, duration_min=480)
        assert exc.value.field == "dose_mg"
        return
    c = dose_calculate(PAIN, weight_kg=70, dose=dose, duration_min=480)
    got = [f"warn:{w.bound}" for w in c.warnings if w.quantity.value == "dose_mg"]
    assert got == ([] if outcome == "ok" else [outcome])


@pytest.mark.parametrize(
    ("minutes", "outcome"),
    [
        (480, "ok"),
        (480 - 1e-4, "ok"),
        (480 + 1e-4, "refuse"),
    ],
)
def test_chronic_pain_duration_hard_max(minutes: float, outcome: str) -> None:
    if outcome == "refuse":
        with pytest.raises(HardLimitError):
            dose_calculate(PAIN, weight_kg=70, duration_min=minutes)
    else:
        assert dose_calculate(PAIN, weight_kg=70, duration_min=minutes).warnings == ()


@pytest.mark.parametrize(("minutes", "outcome"), [(240, "ok"), (240 - 1e-4, "ok"), (240 + 1e-4, "refuse")])
def test_crps_session_dose_hard_max_100mg(minutes: float, outcome: str) -> None:
    """25 mg/h for 240 min is exactly 100 mg (Schwartzman's session maximum); a moment longer is refused."""
    rate = quantity_parse("25mg/h", Kind.RATE)
    if outcome == "refuse":
        with pytest.raises(HardLimitError) as exc:
            dose_calculate(CRPS, weight_kg=80, dose=rate, duration_min=minutes)
        assert exc.value.field == "dose_mg"
    else:
        assert dose_calculate(CRPS, weight_kg=80, dose=rate, duration_min=minutes).dose_mg <= 100 * (1 + 1e-9)


@pytest.mark.parametrize("mg", [55.99, 56.01, 83.99, 84.01, 28, 112])
def test_nasal_near_allowed_doses_refused(mg: float) -> None:
    with pytest.raises(HardLimitError):
        dose_calculate(NASAL, weight_kg=70, dose=quantity_parse(f"{mg}mg", Kind.DOSE))
