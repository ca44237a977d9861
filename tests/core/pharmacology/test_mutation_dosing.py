"""Dose engine behaviours that mutation testing showed were unpinned: every refusal names its field, value
and allowed range; the inclusive edges of each range; the pump program and the recorded calculation carry
exactly what the nurse prepares and keys in (hand-worked: 70 kg, 0.5 mg/kg over 40 min, 50 mg/mL into
100 mL)."""

from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.dosing import (
    BAG_RANGE,
    RATE_ABOVE_PUMP,
    RATE_ROUNDS_TO_ZERO,
    dose_calculate,
    pump_program,
)
from ketaclinic.core.pharmacology.units import Kind, quantity_parse
from ketaclinic.protocols.files import shipped_protocol

DEPRESSION = shipped_protocol("depression-standard").dosing
CRPS = shipped_protocol("crps-schwartzman").dosing
NASAL = shipped_protocol("esketamine-nasal").dosing
GOOD = {"dose_mg": 35.0, "duration_min": 40.0, "vial_mg_per_ml": 50.0, "bag_ml": 100.0}


def refused(**changes: float) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        pump_program(**{**GOOD, **changes})
    return err.value


@pytest.mark.parametrize(
    ("field", "name", "value", "unit", "low", "high"),
    [
        ("dose_mg", "dose", 10000.5, "mg", "0.001", "10000"),
        ("dose_mg", "dose", 0.0009, "mg", "0.001", "10000"),
        ("duration_min", "infusion duration", 10081, "min", "0.001", "10080"),
        ("duration_min", "infusion duration", 0.0009, "min", "0.001", "10080"),
        ("vial_mg_per_ml", "vial strength", 1000.5, "mg/mL", "0.1", "1000"),
        ("vial_mg_per_ml", "vial strength", 0.09, "mg/mL", "0.1", "1000"),
    ],
)
def test_pump_inputs_outside_their_range_are_refused_naming_field_value_and_range(
    field, name, value, unit, low, high
):
    err = refused(**{field: value})
    assert (err.field, err.value) == (name, value)
    assert name in err.message and unit in err.message and low in err.message and high in err.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dose_mg", 10000),
        ("duration_min", 10080),
        ("vial_mg_per_ml", 1000),
        ("vial_mg_per_ml", 0.1),
        ("bag_ml", 10),
        ("bag_ml", 1000),
    ],
)
def test_the_edges_of_each_pump_range_are_allowed(field, value):
    changes = {field: value}
    if field in ("dose_mg", "bag_ml"):
        changes["duration_min"] = 600  # keeps the rate under the pump maximum
    assert pump_program(**{**GOOD, **changes}).rate_ml_per_h > 0


@pytest.mark.parametrize("bag", [9.99, 1000.01, float("nan")])
def test_a_bag_outside_10_to_1000_ml_is_refused(bag):
    err = refused(bag_ml=bag)
    assert err.field == "bag" and err.message == BAG_RANGE.format(value=bag)
    assert err.value == bag or bag != bag


def test_a_rate_that_rounds_to_zero_is_refused_and_one_at_the_precision_is_kept():
    err = refused(dose_mg=0.001, duration_min=10080, bag_ml=10, precision_ml_per_h=1)  # 10 mL over a week
    assert err.field == "rate" and err.value == pytest.approx(10.00002 / 168)
    assert err.message == RATE_ROUNDS_TO_ZERO.format(value=err.value, precision=1)
    one = pump_program(dose_mg=0.001, duration_min=600, vial_mg_per_ml=50, bag_ml=10, precision_ml_per_h=1)
    assert one.rate_ml_per_h == 1.0  # 1 mL/h exactly: a real rate, not refused


def test_the_pump_maximum_is_inclusive_and_above_it_is_refused():
    at_max = pump_program(dose_mg=35, duration_min=60, vial_mg_per_ml=50, bag_ml=100, max_rate_ml_per_h=100.7)
    assert at_max.rate_ml_per_h == 100.7
    with pytest.raises(ValidationError) as err:
        pump_program(dose_mg=35, duration_min=60, vial_mg_per_ml=50, bag_ml=100, max_rate_ml_per_h=100.6)
    assert (err.value.field, err.value.value) == ("rate", 100.7)
    assert err.value.message == RATE_ABOVE_PUMP.format(value=100.7, high=100.6)


def test_the_pump_program_is_what_the_nurse_prepares():
    p = pump_program(**GOOD)
    assert (p.vial_mg_per_ml, p.drug_volume_ml, p.bag_ml, p.total_volume_ml) == (50.0, 0.7, 100.0, 100.7)
    assert p.concentration_mg_per_ml == pytest.approx(35 / 100.7)
    assert (p.exact_rate_ml_per_h, p.rate_ml_per_h, p.precision_ml_per_h) == (
        pytest.approx(151.05),
        151.1,
        0.1,
    )
    assert (p.duration_min, p.vtbi_ml, p.residual_ml, p.residual_mg) == (40.0, 100.7, 0.0, 0.0)
    assert p.run_time_min == pytest.approx(100.7 / 151.1 * 60)
    assert p.delivered_mg == pytest.approx(35.0) and p.delivered_rate_mg_per_h == pytest.approx(
        151.1 * 35 / 100.7
    )


def test_the_recorded_calculation_carries_the_dose_the_weights_and_the_pump_program():
    calc = dose_calculate(DEPRESSION, weight_kg=70, height_cm=175, sex="female")
    ibw = 45.5 + 2.3 * (175 / 2.54 - 60)
    assert calc.as_dict() == {
        "route": "iv",
        "basis": "mg_per_kg",
        "dose_mg": 35.0,
        "dose_mg_per_kg": 0.5,
        "dosing_weight_kg": 70,
        "dosing_weight_basis": "actual",
        "actual_weight_kg": 70,
        "ideal_weight_kg": pytest.approx(ibw),
        "adjusted_weight_kg": pytest.approx(ibw + 0.4 * (70 - ibw)),
        "bmi_kg_per_m2": pytest.approx(70 / 1.75**2),
        "duration_min": 40.0,
        "rate_mg_h": 52.5,
        "rate_mg_kg_h": 0.75,
        "rate_ml_h": 151.1,
        "pump": {
            "vial_mg_per_ml": 50.0,
            "drug_volume_ml": 0.7,
            "bag_ml": 100.0,
            "total_volume_ml": 100.7,
            "concentration_mg_per_ml": pytest.approx(35 / 100.7),
            "exact_rate_ml_h": pytest.approx(151.05),
            "rate_ml_h": 151.1,
            "precision_ml_h": 0.1,
            "vtbi_ml": 100.7,
            "run_time_min": pytest.approx(100.7 / 151.1 * 60),
            "delivered_mg": pytest.approx(35.0),
            "delivered_rate_mg_h": pytest.approx(151.1 * 35 / 100.7),
            "residual_ml": 0.0,
            "residual_mg": 0.0,
        },
        "devices": None,
        "warnings": [],
        "requires_override": False,
        "ready_to_sign": True,
        "override_reason": None,
        "notes": [],
    }


def test_a_soft_limit_warning_and_its_override_are_in_the_record():
    from ketaclinic.core.pharmacology.dosing import dose_override

    calc = dose_calculate(DEPRESSION, weight_kg=70, dose=quantity_parse("1.5mg/kg", Kind.DOSE))
    record: dict[str, Any] = calc.as_dict()
    assert record["requires_override"] is True and record["ready_to_sign"] is False
    assert len(record["warnings"]) == 1 and "soft limit of 1 mg/kg" in record["warnings"][0]
    signed = dose_override(calc, "Partial response at 1 mg/kg, discussed").as_dict()
    assert (
        signed["ready_to_sign"] is True
        and signed["override_reason"] == "Partial response at 1 mg/kg, discussed"
    )


def test_an_intranasal_dose_has_devices_and_no_rate_or_pump():
    calc = dose_calculate(NASAL, weight_kg=70)
    record: dict[str, Any] = calc.as_dict()
    assert (record["route"], record["basis"], record["devices"], record["dose_mg"]) == (
        "intranasal",
        "mg",
        2,
        56.0,
    )
    assert record["duration_min"] is None and record["rate_mg_h"] is None and record["rate_mg_kg_h"] is None
    assert record["pump"] is None and record["rate_ml_h"] is None
    assert any("2 device(s)" in n for n in record["notes"])


def test_a_rate_protocol_records_its_rate_per_kg_and_duration():
    calc = dose_calculate(CRPS, weight_kg=60)  # 0.35 mg/kg/h x 60 kg = 21 mg/h, under the 25 mg/h cap
    assert calc.rate_mg_per_h == pytest.approx(21.0) and calc.rate_mg_per_kg_per_h == pytest.approx(0.35)
    assert calc.duration_min == 240.0 and calc.dose_mg == pytest.approx(84.0)
    assert calc.pump is not None and calc.pump.duration_min == 240.0 and calc.pump.bag_ml == 250.0


@pytest.mark.parametrize("text", ["0mg/kg", "-1mg/kg"])
def test_a_dose_of_zero_or_less_is_refused(text):
    with pytest.raises(ValidationError) as err:
        dose_calculate(DEPRESSION, weight_kg=70, dose=quantity_parse(text, Kind.DOSE))
    assert err.value.field == "dose" and "above zero" in err.value.message
