"""Travel estimates: the haversine distance against values computed by hand, the road factor, speed,
rounding up and buffer exactly, the refusals, and the properties a distance must have."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.travel import (
    EARTH_MEAN_RADIUS_MILES,
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    OUTSIDE_AREA,
    Coordinates,
    ServiceArea,
    TravelRules,
    great_circle_miles,
    service_area_check,
    travel_estimate,
)

R = EARTH_MEAN_RADIUS_MILES
ORIGIN = Coordinates(0.0, 0.0)


def east(miles: float) -> Coordinates:
    """A point ``miles`` east of (0, 0) along the equator."""
    return Coordinates(0.0, math.degrees(miles / R))


def north(base: Coordinates, miles: float) -> Coordinates:
    return Coordinates(base.latitude_deg + math.degrees(miles / R), base.longitude_deg)


def test_the_radius_is_the_iugg_mean_radius_in_miles() -> None:
    assert pytest.approx(6371.0088 / 1.609344, abs=1e-4) == R


def test_distances_computed_by_hand() -> None:
    assert great_circle_miles(ORIGIN, Coordinates(1.0, 0.0)) == pytest.approx(R * math.pi / 180, rel=1e-12)
    assert great_circle_miles(ORIGIN, Coordinates(90.0, 0.0)) == pytest.approx(R * math.pi / 2, rel=1e-12)
    assert great_circle_miles(ORIGIN, Coordinates(0.0, 180.0)) == pytest.approx(R * math.pi, rel=1e-12)
    # 60° apart on the 60th parallel: cos(c) = sin²60 + cos²60·cos60 = 0.875 (spherical law of cosines)
    expected = R * math.acos(0.875)
    assert great_circle_miles(Coordinates(60, 0), Coordinates(60, 60)) == pytest.approx(expected, rel=1e-9)


def test_boston_zip_centres_are_a_few_miles_apart() -> None:
    downtown, cambridge = Coordinates(42.3601, -71.0589), Coordinates(42.3736, -71.1097)
    assert 2.5 < great_circle_miles(downtown, cambridge) < 3.0


def test_an_estimate_is_road_factor_then_speed_then_rounded_up_then_the_buffer() -> None:
    e = travel_estimate(ORIGIN, east(5.0))  # 6.5 road miles at 30 mph = 13 min -> 15, + 10
    assert e.straight_miles == pytest.approx(5.0) and e.road_miles == pytest.approx(6.5)
    assert e.minutes == 25 and e.summary == "about 25 min by road (6.5 mi)"


def test_an_exact_multiple_is_not_rounded_up_a_step_further() -> None:
    assert travel_estimate(ORIGIN, east(7.5 / 1.3)).minutes == 15 + 10  # exactly 15 min of driving


def test_the_same_zip_code_still_needs_the_buffer() -> None:
    assert travel_estimate(ORIGIN, ORIGIN).minutes == 10


def test_the_rules_are_the_clinic_defaults_and_change_the_estimate() -> None:
    assert TravelRules() == TravelRules(circuity=1.3, average_speed_mph=30, round_up_to_min=5, buffer_min=10)
    rules = TravelRules(circuity=1.0, average_speed_mph=60, round_up_to_min=1, buffer_min=0)
    assert travel_estimate(ORIGIN, east(10.0), rules).minutes == 10
    assert TravelRules().method == (
        "estimated from ZIP-code centres: straight-line distance × 1.3 for the roads, at 30 mph, "
        "rounded up to 5 min, plus 10 min to park and set up"
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("circuity", 0.9, "The road circuity factor must be from 1 to 3, got 0.9."),
        ("average_speed_mph", 0.0, "The average speed must be from 5 to 80 mph, got 0.0."),
        ("round_up_to_min", 0, "The rounding step must be from 1 to 60 minutes, got 0."),
        ("buffer_min", -1, "The parking and set-up buffer must be from 0 to 120 minutes, got -1."),
        ("average_speed_mph", math.nan, "The average speed must be from 5 to 80 mph, got nan."),
    ],
)
def test_rules_out_of_range_are_refused_in_words(field: str, value: Any, words: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TravelRules(**{field: value})
    assert exc.value.message == words and exc.value.field == "travel"


def test_coordinates_out_of_range_are_refused_naming_the_value() -> None:
    with pytest.raises(ValidationError) as exc:
        Coordinates(90.5, 0)
    assert exc.value.message == LATITUDE_RANGE.format(value=90.5) and exc.value.field == "latitude"
    with pytest.raises(ValidationError) as exc:
        Coordinates(0, -180.01)
    assert exc.value.message == LONGITUDE_RANGE.format(value=-180.01) and exc.value.field == "longitude"
    assert Coordinates(-90, 180) == Coordinates(-90.0, 180.0)


AREA = ServiceArea(name="Mobile", centre_postal_code="00000", centre=ORIGIN, radius_miles=10.0)


def test_a_home_on_the_edge_of_the_area_is_inside_and_beyond_it_is_refused_in_words() -> None:
    assert service_area_check(AREA, home=north(ORIGIN, 9.999), postal_code="1", place="Home") < 10
    with pytest.raises(ValidationError) as exc:
        service_area_check(AREA, home=north(ORIGIN, 10.4), postal_code="02139", place="The patient's home")
    assert exc.value.message == (
        "The patient's home (ZIP 02139) is about 10.4 miles from the centre of Mobile's service area "
        "(ZIP 00000); Mobile visits homes within 10 miles."
    )
    assert OUTSIDE_AREA.startswith("{place}") and exc.value.field == "postal_code"


@pytest.mark.parametrize("radius", [0.0, -1.0, 200.5, math.inf])
def test_a_radius_must_be_positive_and_at_most_200_miles(radius: float) -> None:
    with pytest.raises(ValidationError, match="more than 0 and at most 200 miles"):
        ServiceArea(name="Mobile", centre_postal_code="02110", centre=ORIGIN, radius_miles=radius)


points = st.builds(
    Coordinates,
    st.floats(min_value=-90, max_value=90, allow_nan=False),
    st.floats(min_value=-180, max_value=180, allow_nan=False),
)


@given(points, points)
def test_distance_is_symmetric_non_negative_and_at_most_half_the_circumference(a, b) -> None:
    d = great_circle_miles(a, b)
    assert d == pytest.approx(great_circle_miles(b, a), abs=1e-6)
    assert 0 <= d <= math.pi * R + 1e-6
    assert great_circle_miles(a, a) == pytest.approx(0.0, abs=1e-6)


@given(points, points, points)
def test_distance_obeys_the_triangle_inequality(a, b, c) -> None:
    assert great_circle_miles(a, c) <= great_circle_miles(a, b) + great_circle_miles(b, c) + 1e-6


@given(
    st.floats(min_value=0, max_value=500, allow_nan=False),
    st.floats(min_value=0, max_value=500, allow_nan=False),
)
def test_minutes_never_fall_as_the_distance_grows_and_are_whole_steps_plus_the_buffer(x, y) -> None:
    near, far = sorted((x, y))
    a, b = travel_estimate(ORIGIN, east(near)), travel_estimate(ORIGIN, east(far))
    assert a.minutes <= b.minutes
    assert (b.minutes - 10) % 5 == 0 and b.minutes >= 10
    assert (b.minutes - 10) >= far * 1.3 / 30 * 60 - 1e-6  # never under the drive
    assert (b.minutes - 10) < far * 1.3 / 30 * 60 + 5
