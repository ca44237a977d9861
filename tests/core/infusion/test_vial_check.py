"""The independent check of the bag: the vial strength exactly, the volume drawn within a syringe's
tolerance."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.vial_check import (
    VIAL_MISMATCH,
    VOLUME_MISMATCH,
    VOLUME_NOT_NUMBER,
    VOLUME_TOLERANCE_ML,
    typed_values,
    vial_check_compare,
)


def test_matching_values_pass():
    r = vial_check_compare(
        ordered_vial_mg_per_ml=50, ordered_drawn_ml=0.722, typed_vial_mg_per_ml=50, typed_drawn_ml=0.7
    )
    assert r.match and r.problems(50, 0.7) == ()


def test_a_ten_times_stronger_vial_is_a_mismatch():
    r = vial_check_compare(
        ordered_vial_mg_per_ml=10, ordered_drawn_ml=3.5, typed_vial_mg_per_ml=100, typed_drawn_ml=3.5
    )
    assert not r.match and r.problems(100, 3.5) == (VIAL_MISMATCH.format(typed=100),)


def test_a_volume_off_by_more_than_the_tolerance_is_a_mismatch():
    r = vial_check_compare(
        ordered_vial_mg_per_ml=50, ordered_drawn_ml=0.7, typed_vial_mg_per_ml=50, typed_drawn_ml=7
    )
    assert not r.match and r.problems(50, 7) == (
        VOLUME_MISMATCH.format(typed=7, tolerance=VOLUME_TOLERANCE_ML),
    )


@pytest.mark.parametrize("value", ["", "abc", 0, -1, float("nan")])
def test_typed_volume_must_be_a_positive_number(value):
    with pytest.raises(ValidationError) as exc:
        typed_values(50, value)
    assert exc.value.message == VOLUME_NOT_NUMBER.format(value=value)


@given(st.floats(0.1, 100), st.floats(0.01, 50), st.floats(-5, 5))
def test_the_volume_matches_exactly_within_the_tolerance(vial, drawn, delta):
    r = vial_check_compare(
        ordered_vial_mg_per_ml=vial,
        ordered_drawn_ml=drawn,
        typed_vial_mg_per_ml=vial,
        typed_drawn_ml=drawn + delta,
    )
    assert r.vial_matches and r.volume_matches == (abs(delta) <= VOLUME_TOLERANCE_ML + 1e-9)
