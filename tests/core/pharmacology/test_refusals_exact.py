"""Every refusal of the dose engine says exactly which field, which value and which allowed range, in the
words the page shows beside the field (the page highlights the field the refusal names): pinned word for
word, so that a wrong unit or a missing field name in a message is a failing test, not a surprise at the
chair. Also the edges where a limit is inclusive, and the protocol's default rate on a mg/h basis."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology import body_weight, dosing
from ketaclinic.core.pharmacology.body_weight import Sex, body_mass_index, ideal_body_weight_kg, sex_parse
from ketaclinic.core.pharmacology.dosing import (
    HARD_ABOVE,
    HARD_BELOW,
    LIMIT_RTOL,
    NO_DURATION,
    NO_WARNINGS_TO_OVERRIDE,
    RATE_ABOVE_PUMP,
    RATE_CAPPED,
    SOFT_BELOW,
    WRONG_DOSE_UNIT,
    HardLimitError,
    dose_calculate,
    dose_override,
    pump_program,
)
from ketaclinic.core.pharmacology.units import OUT_OF_RANGE, Kind, quantity_parse
from ketaclinic.core.protocols.dosing import DoseBasis, Limit, LimitQuantity
from ketaclinic.protocols.files import shipped_protocol

DEPRESSION = shipped_protocol("depression-standard").dosing
PAIN = shipped_protocol("chronic-pain").dosing  # 80 mg over 240 min, at most 25 mg/h
CRPS = shipped_protocol("crps-schwartzman").dosing  # 0.35 mg/kg/h over 240 min, at most 25 mg/h
GOOD = {"dose_mg": 35.0, "duration_min": 40.0, "vial_mg_per_ml": 50.0, "bag_ml": 100.0}


def refusal(call, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        call(*args, **kwargs)
    return err.value


def test_an_unknown_sex_is_refused_on_the_sex_field_with_what_was_typed() -> None:
    err = refusal(sex_parse, "x")
    assert (err.field, err.value, err.message) == ("sex", "x", body_weight.UNKNOWN_SEX.format(value="x"))


@pytest.mark.parametrize("formula", [ideal_body_weight_kg, body_mass_index])
def test_a_height_outside_its_range_is_refused_on_the_height_field_in_cm(formula) -> None:
    args = (10.0, Sex.FEMALE) if formula is ideal_body_weight_kg else (70.0, 10.0)
    err = refusal(formula, *args)
    assert (err.field, err.value) == ("height", 10.0)
    assert err.message == OUT_OF_RANGE.format(field="height", value="10", unit="cm", low="100", high="250")


@pytest.mark.parametrize(
    ("change", "name", "unit", "low", "high"),
    [
        ({"dose_mg": 10001.0}, "dose", "mg", "0.001", "10000"),
        ({"duration_min": 10081.0}, "infusion duration", "min", "0.001", "10080"),
        ({"vial_mg_per_ml": 1001.0}, "vial strength", "mg/mL", "0.1", "1000"),
    ],
)
def test_pump_inputs_out_of_range_are_refused_word_for_word(change, name, unit, low, high) -> None:
    err = refusal(pump_program, **{**GOOD, **change})
    value = next(iter(change.values()))
    assert (err.field, err.value) == (name, value)
    assert err.message == OUT_OF_RANGE.format(field=name, value=f"{value:g}", unit=unit, low=low, high=high)


def test_the_pump_refuses_above_999_ml_per_hour_unless_told_its_own_maximum() -> None:
    # 99.95 mL bag + 0.05 mL drawn over 6 min: 999.5 mL/h, above a standard pump's 999 mL/h
    args = {"dose_mg": 2.5, "duration_min": 6.0, "vial_mg_per_ml": 50.0, "bag_ml": 99.95}
    err = refusal(pump_program, **args)
    assert err.message == RATE_ABOVE_PUMP.format(value=1000.0, high=999)
    assert pump_program(**args, max_rate_ml_per_h=1200).rate_ml_per_h == 1000.0


def test_what_stays_in_the_bag_is_recorded_in_mg_at_the_bag_s_concentration() -> None:
    """35 mg into 100 mL over 43 min: 140.5 mL/h (140.51 exact, rounded down) leaves a little in the bag."""
    p = pump_program(dose_mg=35.0, duration_min=43.0, vial_mg_per_ml=50.0, bag_ml=100.0)
    assert p.rate_ml_per_h < p.exact_rate_ml_per_h and p.residual_ml > 0
    assert p.residual_mg == pytest.approx(p.residual_ml * p.concentration_mg_per_ml)
    assert p.residual_mg + p.delivered_mg == pytest.approx(35.0)


def test_a_duration_out_of_range_is_refused_before_the_protocol_s_limits() -> None:
    err = refusal(dose_calculate, DEPRESSION, weight_kg=70, duration_min=10081)
    assert (err.field, err.value) == ("infusion duration", 10081)
    assert err.message == OUT_OF_RANGE.format(
        field="infusion duration", value="10081", unit="min", low="0.001", high="10080"
    )
    assert dose_calculate(DEPRESSION, weight_kg=70, duration_min=10080).duration_min == 10080
    # one minute is a valid number of minutes: it is the protocol's hard minimum of 20 that refuses it
    only_duration = _only(Limit(quantity=LimitQuantity.DURATION_MIN, hard_min=20, source="clinic"))
    short = refusal(dose_calculate, only_duration, weight_kg=70, duration_min=1)
    assert isinstance(short, HardLimitError) and short.field == "duration_min"


def test_a_dose_in_the_wrong_kind_of_unit_is_refused_with_the_units_the_protocol_takes() -> None:
    err = refusal(dose_calculate, DEPRESSION, weight_kg=70, dose=quantity_parse("30 mg/h", Kind.RATE))
    assert (err.field, err.value) == ("dose", "30 mg/h")
    assert err.message == WRONG_DOSE_UNIT.format(
        value="30 mg/h", kind="dose rate", basis="mg/kg", allowed="mg/kg, mg"
    )
    # the message names what was typed, never the unit the core converts it to
    assert "'30 mg/h' is a dose rate" in err.message and "mg/min" not in err.message


def test_a_dose_of_zero_is_refused_naming_what_was_typed() -> None:
    err = refusal(dose_calculate, DEPRESSION, weight_kg=70, dose=quantity_parse("0 mg/kg", Kind.DOSE))
    assert (err.field, err.value) == ("dose", "0 mg/kg")
    assert err.message == "Dose '0 mg/kg' must be above zero (allowed units mg/kg, mg)."


def test_a_rate_protocol_without_a_duration_is_refused_never_given_one() -> None:
    no_duration = CRPS.model_copy(update={"infusion_duration_min": None})
    err = refusal(dose_calculate, no_duration, weight_kg=70)
    assert (err.field, err.value, err.message) == ("duration", None, NO_DURATION)


def test_a_mg_per_hour_default_is_not_multiplied_by_the_weight() -> None:
    per_hour = CRPS.model_copy(update={"basis": DoseBasis.MG_PER_H, "default": 10.0, "limits": ()})
    c = dose_calculate(per_hour, weight_kg=70)
    assert c.rate_mg_per_h == 10.0 and c.dose_mg == pytest.approx(40.0) and c.notes == ()


def test_a_default_rate_exactly_at_the_protocol_maximum_is_not_capped() -> None:
    at_cap = CRPS.model_copy(update={"default": 25.0 / 70, "limits": ()})
    c = dose_calculate(at_cap, weight_kg=70)
    assert c.rate_mg_per_h == pytest.approx(25.0) and not any("capped" in n for n in c.notes)
    above = dose_calculate(CRPS.model_copy(update={"limits": ()}), weight_kg=80)  # 28 mg/h
    assert above.notes == (RATE_CAPPED.format(cap=25, uncapped=0.35 * 80),)


def test_a_rate_above_the_protocol_maximum_is_refused_word_for_word() -> None:
    err = refusal(dose_calculate, CRPS, weight_kg=70, dose=quantity_parse("30 mg/h", Kind.RATE))
    assert isinstance(err, HardLimitError)
    assert (err.field, err.value) == ("rate_mg_per_h", pytest.approx(30.0))
    assert err.message == HARD_ABOVE.format(
        what="Rate", value=30.0, unit="mg/h", bound=25, source="protocol maximum rate", range="0–25 mg/h"
    )
    at_max = dose_calculate(CRPS, weight_kg=80, dose=quantity_parse("25 mg/h", Kind.RATE))
    assert at_max.rate_mg_per_h == pytest.approx(25.0)


def _only(limit: Limit):
    return DEPRESSION.model_copy(update={"limits": (limit,)})


def test_a_hard_maximum_without_a_minimum_says_the_range_starts_at_zero() -> None:
    section = _only(Limit(quantity=LimitQuantity.DOSE_MG, hard_max=50, source="clinic"))
    err = refusal(dose_calculate, section, weight_kg=120)  # 60 mg
    assert (err.field, err.value) == ("dose_mg", 60.0)
    assert err.message == HARD_ABOVE.format(
        what="Dose", value=60.0, unit="mg", bound=50, source="clinic", range="0–50 mg"
    )


def test_a_hard_minimum_without_a_maximum_says_there_is_no_upper_hard_limit() -> None:
    section = _only(Limit(quantity=LimitQuantity.DOSE_MG, hard_min=40, source="clinic"))
    err = refusal(dose_calculate, section, weight_kg=70)  # 35 mg
    assert (err.field, err.value) == ("dose_mg", 35.0)
    assert err.message == HARD_BELOW.format(
        what="Dose",
        value=35.0,
        unit="mg",
        bound=40,
        source="clinic",
        range="40 mg or more (no upper hard limit)",
    )


@pytest.mark.parametrize("bound", ["hard_max", "soft_max"])
def test_a_dose_at_a_maximum_within_the_rounding_tolerance_is_within_it(bound: str) -> None:
    section = _only(Limit(quantity=LimitQuantity.DOSE_MG, source="clinic", **{bound: 50}))
    edge = 50 * (1 + LIMIT_RTOL)
    c = dose_calculate(section, weight_kg=70, dose=quantity_parse(f"{edge!r} mg", Kind.DOSE))
    assert c.dose_mg == edge and c.warnings == ()


@pytest.mark.parametrize("bound", ["hard_min", "soft_min"])
def test_a_dose_at_a_minimum_within_the_rounding_tolerance_is_within_it(bound: str) -> None:
    section = _only(Limit(quantity=LimitQuantity.DOSE_MG, source="clinic", **{bound: 50}))
    edge = 50 * (1 - LIMIT_RTOL)
    c = dose_calculate(section, weight_kg=70, dose=quantity_parse(f"{edge!r} mg", Kind.DOSE))
    assert c.dose_mg == edge and c.warnings == ()


def test_a_limit_on_a_quantity_the_calculation_lacks_does_not_hide_the_limits_after_it() -> None:
    """An intranasal-style calculation has no rate: a rate limit listed first must not end the checking."""
    section = PAIN.model_copy(
        update={
            "limits": (
                Limit(quantity=LimitQuantity.RATE_MG_PER_H, hard_max=1000, source="clinic"),
                Limit(quantity=LimitQuantity.DOSE_MG, soft_min=90, source="clinic"),
            ),
            "infusion_duration_min": None,
            "max_rate_mg_per_h": None,
            "route": shipped_protocol("esketamine-nasal").dosing.route,
            "intranasal": shipped_protocol("esketamine-nasal").dosing.intranasal,
            "pump": None,
            "default": 84,
        }
    )
    c = dose_calculate(section, weight_kg=70)
    assert [(w.quantity, w.bound, w.limit, w.value) for w in c.warnings] == [
        (LimitQuantity.DOSE_MG, "soft_min", 90, 84.0)
    ]
    assert c.warnings[0].message == SOFT_BELOW.format(
        what="Dose",
        value=84.0,
        unit="mg",
        bound=90,
        source="clinic",
        range="0 mg or more (no upper hard limit)",
    )


def test_overriding_a_dose_without_warnings_is_refused_on_the_reason_field() -> None:
    calc = dose_calculate(DEPRESSION, weight_kg=70)
    err = refusal(dose_override, calc, "Because the patient asked for it")
    assert (err.field, err.value, err.message) == (
        "override_reason",
        "Because the patient asked for it",
        NO_WARNINGS_TO_OVERRIDE,
    )


NASAL = shipped_protocol("esketamine-nasal").dosing


def test_an_intranasal_dose_not_on_the_device_list_is_refused_on_the_dose_field() -> None:
    err = refusal(dose_calculate, NASAL, weight_kg=70, dose=quantity_parse("70mg", Kind.DOSE))
    assert isinstance(err, HardLimitError) and (err.field, err.value) == ("dose", 70.0)
    # within a billionth of an allowed dose is that dose (a unit conversion's last binary digit)
    near = dose_calculate(NASAL, weight_kg=70, dose=quantity_parse(f"{84 * (1 + 5e-10)!r}mg", Kind.DOSE))
    assert near.devices == 3
    far = refusal(
        dose_calculate, NASAL, weight_kg=70, dose=quantity_parse(f"{84 * (1 + 1e-8)!r}mg", Kind.DOSE)
    )
    assert far.field == "dose"


def test_an_intranasal_protocol_without_its_device_is_refused_never_guessed() -> None:
    err = refusal(dose_calculate, NASAL.model_copy(update={"intranasal": None}), weight_kg=70)
    assert (err.field, err.value, err.message) == ("intranasal", None, dosing.NO_DEVICE)


def test_an_intranasal_calculation_has_no_duration_rate_or_pump() -> None:
    c = dose_calculate(NASAL.model_copy(update={"infusion_duration_min": 5}), weight_kg=70)
    assert (c.duration_min, c.rate_mg_per_h, c.rate_mg_per_kg_per_h, c.pump) == (None, None, None, None)
    assert c.devices == 2 and c.dose_mg == 56


def test_a_vial_the_protocol_does_not_stock_is_refused_on_the_vial_field() -> None:
    err = refusal(dose_calculate, DEPRESSION, weight_kg=82, vial_mg_per_ml=20)
    assert (err.field, err.value) == ("vial", 20)


def test_the_bag_the_nurse_chose_is_the_bag_in_the_pump_program() -> None:
    c = dose_calculate(DEPRESSION, weight_kg=70, bag_ml=250)
    assert c.pump is not None and c.pump.bag_ml == 250 and c.pump.total_volume_ml == pytest.approx(250.7)
    assert c.pump.precision_ml_per_h == 0.1
    default = dose_calculate(DEPRESSION, weight_kg=70)
    assert default.pump is not None and default.pump.bag_ml == 100


def test_a_dose_entered_in_mg_is_checked_against_the_mg_per_kg_limit_by_the_dosing_weight() -> None:
    c = dose_calculate(DEPRESSION, weight_kg=50, dose=quantity_parse("75mg", Kind.DOSE))
    assert c.dose_mg_per_kg == pytest.approx(1.5)
    assert [w.quantity for w in c.warnings] == [LimitQuantity.DOSE_MG_PER_KG]
    assert c.rate_mg_per_h == pytest.approx(112.5) and c.rate_mg_per_kg_per_h == pytest.approx(2.25)


def test_a_capped_default_rate_is_checked_per_kg_at_the_capped_rate() -> None:
    c = dose_calculate(CRPS.model_copy(update={"limits": ()}), weight_kg=100)  # 35 mg/h capped to 25
    assert c.rate_mg_per_h == 25 and c.rate_mg_per_kg_per_h == pytest.approx(0.25)
    plain = dose_calculate(CRPS.model_copy(update={"limits": ()}), weight_kg=60)  # 21 mg/h, not capped
    assert plain.rate_mg_per_kg_per_h == 0.35  # the protocol's own figure, no division round-off


def test_a_rate_protocol_s_limits_see_the_rate_in_mg_per_hour() -> None:
    section = CRPS.model_copy(
        update={"limits": (Limit(quantity=LimitQuantity.RATE_MG_PER_H, soft_max=20, source="clinic"),)}
    )
    c = dose_calculate(section, weight_kg=70)  # 24.5 mg/h
    assert [(w.quantity, w.value) for w in c.warnings] == [(LimitQuantity.RATE_MG_PER_H, pytest.approx(24.5))]
