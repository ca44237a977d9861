"""The nurse's day route: visits in time order, the leg before each, and the refusal when a drive does not
fit the gap (naming both visits, the gap and the estimate)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.home_route import (
    DURATION_RANGE,
    NAIVE_START,
    HomeVisit,
    home_day_route,
    route_problems,
    travel_fits,
)
from ketaclinic.core.travel import DEFAULT_TRAVEL_RULES, EARTH_MEAN_RADIUS_MILES, Coordinates

NY = ZoneInfo("America/New_York")
DAY = datetime(2026, 12, 7, 8, 0, tzinfo=NY)


def at(miles_east: float) -> Coordinates:
    return Coordinates(0.0, math.degrees(miles_east / EARTH_MEAN_RADIUS_MILES))


def visit(label: str, hour: float, miles: float = 0.0, minutes: int = 120) -> HomeVisit:
    return HomeVisit(label, DAY + timedelta(hours=hour), minutes, at(miles))


def test_the_route_is_in_time_order_with_the_leg_before_each_visit() -> None:
    # given out of order; 5 straight miles -> 25 min (6.5 road miles at 30 mph, rounded up, + 10)
    b, a, c = visit("B", 2.5, 5.0), visit("A", 0), visit("C", 5, 5.0)
    stops = home_day_route([b, a, c])
    assert [s.visit.label for s in stops] == ["A", "B", "C"]
    assert stops[0].travel is None and stops[0].gap_min is None and stops[0].fits
    assert stops[1].travel is not None and stops[1].travel.minutes == 25 and stops[1].gap_min == 30
    assert stops[1].fits
    assert stops[2].travel is not None and stops[2].travel.minutes == 10 and stops[2].gap_min == 30
    assert route_problems(stops, DEFAULT_TRAVEL_RULES, NY) == ()


def test_a_gap_exactly_the_estimate_fits_and_one_minute_less_does_not() -> None:
    a = visit("A", 0)
    assert home_day_route([a, visit("B", 2 + 25 / 60, 5.0)])[1].fits
    short = home_day_route([a, visit("B", 2 + 24 / 60, 5.0)])
    assert not short[1].fits and short[1].gap_min == 24


def test_the_refusal_names_both_visits_their_times_the_gap_and_the_estimate() -> None:
    a, b = visit("Maria Garcia (Infusion 2)", 0), visit("James Nguyen (Infusion 1)", 2 + 15 / 60, 5.0)
    with pytest.raises(ValidationError) as exc:
        travel_fits(b, [a], tz=NY)
    assert exc.value.message == (
        "Not enough time to travel from Maria Garcia (Infusion 2) (ends 10:00) to James Nguyen (Infusion 1) "
        "(starts 10:15): the gap is 15 min and the drive is about 25 min by road (6.5 mi), estimated from "
        "ZIP-code centres: straight-line distance × 1.3 for the roads, at 30 mph, rounded up to 5 min, "
        "plus 10 min to park and set up."
    )
    assert exc.value.field == "scheduled_start" and exc.value.value == b.start.isoformat()


def test_overlapping_visits_never_fit_and_say_so() -> None:
    stops = home_day_route([visit("A", 0), visit("B", 1)])
    assert stops[1].gap_min == -60 and not stops[1].fits
    (problem,) = route_problems(stops, DEFAULT_TRAVEL_RULES, NY)
    assert "the visits overlap by 60 min and the drive is about 10 min" in problem


def test_a_new_visit_is_checked_against_the_visit_before_and_the_visit_after() -> None:
    before, after = visit("Before", 0), visit("After", 5, 5.0)
    travel_fits(visit("New", 2.5), [after, before], tz=NY)  # 30 min after Before, 2 h 30 before After
    with pytest.raises(ValidationError, match=r"from New \(ends 12:50\) to After \(starts 13:00\)"):
        travel_fits(visit("New", 2 + 50 / 60, minutes=120), [after, before], tz=NY)
    with pytest.raises(ValidationError, match=r"from Before \(ends 10:00\) to New \(starts 10:05\)"):
        travel_fits(visit("New", 2 + 5 / 60, 0.0, minutes=60), [before], tz=NY)
    travel_fits(visit("Alone", 3), [], tz=NY)


def test_times_in_the_refusal_are_in_the_zone_given() -> None:
    a, b = visit("A", 0), visit("B", 2, 5.0)
    with pytest.raises(ValidationError, match=r"\(ends 15:00\) to B \(starts 15:00\)"):
        travel_fits(b, [a], tz=UTC)


def test_a_visit_needs_an_aware_start_and_a_sensible_duration() -> None:
    with pytest.raises(ValidationError) as exc:
        HomeVisit("A", datetime(2026, 12, 7, 8, 0), 120, at(0))  # noqa: DTZ001 - the naive start refused
    assert exc.value.message == NAIVE_START.format(label="A")
    for minutes in (0, 721):
        with pytest.raises(ValidationError) as exc:
            HomeVisit("A", DAY, minutes, at(0))
        assert exc.value.message == DURATION_RANGE.format(label="A", value=minutes)
    assert HomeVisit("A", DAY, 720, at(0)).end == DAY + timedelta(hours=12)


visits = st.lists(
    st.builds(
        lambda h, m, d: visit(f"v{h}", h, m, d),
        st.floats(min_value=0, max_value=12, allow_nan=False),
        st.floats(min_value=0, max_value=30, allow_nan=False),
        st.integers(min_value=30, max_value=180),
    ),
    max_size=8,
)


@given(visits)
def test_any_route_is_in_time_order_and_each_leg_fits_exactly_when_the_check_agrees(vs) -> None:
    stops = home_day_route(vs)
    assert len(stops) == len(vs)
    assert [s.visit.start for s in stops] == sorted(v.start for v in vs)
    for before, after in zip(stops, stops[1:], strict=False):
        assert after.gap_min == (after.visit.start - before.visit.end).total_seconds() / 60
        assert after.travel is not None and after.fits == (after.gap_min >= after.travel.minutes)
    assert len(route_problems(stops, DEFAULT_TRAVEL_RULES, NY)) == sum(not s.fits for s in stops)
