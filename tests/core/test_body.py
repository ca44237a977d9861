"""Weights and heights arrive with a unit, are stored in SI, and absurd values are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.body import BAD_UNIT, NO_UNIT, NOT_A_NUMBER, height_measure, weight_measure
from ketaclinic.core.errors import ValidationError


def test_pounds_are_converted_to_kilograms():
    m = weight_measure("180", "lb")
    assert m.value_si == Decimal("81.65")  # 180 / 2.20462262185 = 81.6466...
    assert (m.entered_value, m.entered_unit) == (Decimal("180"), "lb")


def test_inches_are_converted_to_centimetres():
    assert height_measure(70, "in").value_si == Decimal("177.80")


@pytest.mark.parametrize("unit", ["KG", " kg ", "Kg"])
def test_unit_case_and_spaces_do_not_matter(unit):
    assert weight_measure(70, unit).value_si == Decimal("70.00")


@pytest.mark.parametrize("unit", [None, "", "  "])
def test_a_weight_without_a_unit_is_refused(unit):
    with pytest.raises(ValidationError) as exc:
        weight_measure(70, unit)
    assert exc.value.message == NO_UNIT.format(field="Weight", value=70, units="kg or lb")
    assert exc.value.field == "weight"


def test_an_unknown_unit_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValidationError) as exc:
        weight_measure(70, "stone")
    assert exc.value.message == BAD_UNIT.format(field="Weight", unit="stone", units="kg or lb")


@pytest.mark.parametrize(("value", "unit"), [(0, "kg"), (900, "kg"), (-5, "kg"), (19.99, "kg"), (350.01, "kg"), (40, "lb"), (800, "lb")])
def test_absurd_weights_are_refused_with_the_range(value, unit):
    with pytest.raises(ValidationError, match=r"outside the allowed range"):
        weight_measure(value, unit)


@pytest.mark.parametrize(("value", "unit"), [(20, "kg"), (350, "kg"), (44.1, "lb")])
def test_weights_at_the_range_edges_are_accepted(value, unit):
    assert Decimal("20") <= weight_measure(value, unit).value_si <= Decimal("350")


@pytest.mark.parametrize("value", ["abc", "nan", "NaN", "inf", "-inf", ""])
def test_non_numbers_are_refused(value):
    with pytest.raises(ValidationError) as exc:
        weight_measure(value, "kg")
    assert exc.value.message == NOT_A_NUMBER.format(field="Weight", value=value)


@pytest.mark.parametrize(("value", "unit"), [(99, "cm"), (251, "cm"), (30, "in")])
def test_absurd_heights_are_refused(value, unit):
    with pytest.raises(ValidationError, match="Height .* outside the allowed range"):
        height_measure(value, unit)


@given(st.decimals(min_value=Decimal("44.1"), max_value=Decimal("771"), places=1))
def test_pounds_round_trip_within_rounding(lb):
    kg = weight_measure(lb, "lb").value_si
    assert abs(kg * Decimal("2.20462262185") - lb) <= Decimal("0.012")
