"""Weights and heights arrive with a unit, are stored in SI, and absurd values are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.body import (
    BAD_UNIT,
    BMI_IMPLAUSIBLE,
    NO_UNIT,
    NOT_A_NUMBER,
    WEIGHT_CHANGED,
    bmi,
    height_measure,
    order_weight_problem,
    weight_change_percent,
    weight_confirmations,
    weight_measure,
)
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


@pytest.mark.parametrize(
    ("value", "unit"),
    [(0, "kg"), (900, "kg"), (-5, "kg"), (19.99, "kg"), (350.01, "kg"), (40, "lb"), (800, "lb")],
)
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


# --- weight comparisons (confirmation of a large change or an implausible BMI; an order's weight)
# -------------


def _confirm(new: str, previous: str | None = "79.80", height: str | None = None):
    return weight_confirmations(
        Decimal(new),
        previous_kg=None if previous is None else Decimal(previous),
        height_cm=None if height is None else Decimal(height),
        change_percent=10,
        bmi_low=12,
        bmi_high=70,
    )


def test_176_kg_after_79_8_kg_needs_confirmation_showing_both_weights_regression() -> None:
    (msg,) = _confirm("176.00")
    assert msg.startswith(WEIGHT_CHANGED.split("{")[0]) and "176.00 kg" in msg and "79.80 kg" in msg


def test_ten_percent_is_the_edge() -> None:
    assert _confirm("110", "100") == () and _confirm("90", "100") == ()
    assert len(_confirm("110.01", "100")) == 1 and len(_confirm("89.99", "100")) == 1


def test_bmi_outside_the_range_needs_confirmation_only_when_height_is_known() -> None:
    assert _confirm("206", "205", "165")[0].startswith(BMI_IMPLAUSIBLE.split("{")[0])
    assert _confirm("206", "205", None) == ()
    assert bmi(Decimal("70"), Decimal("175")).quantize(Decimal("0.1")) == Decimal("22.9")
    assert len(_confirm("30", None, "165")) == 1  # BMI 11.0


def test_no_previous_weight_and_plausible_bmi_needs_nothing() -> None:
    assert _confirm("70", None, "170") == ()


def test_an_order_for_another_weight_is_void() -> None:
    assert order_weight_problem(Decimal("70.00"), Decimal("70.00")) is None
    assert "70.00 kg" in (order_weight_problem(Decimal("70.00"), Decimal("57.00")) or "")
    assert order_weight_problem(Decimal("70.00"), None) is not None


@given(st.decimals(20, 350, places=2), st.decimals(20, 350, places=2))
def test_confirmation_iff_change_beyond_the_limit(new, previous) -> None:
    needed = _confirm(str(new), str(previous))
    assert (len(needed) == 1) == (weight_change_percent(new, previous) > 10)
    assert weight_change_percent(new, previous) >= 0
