"""Delivered-dose behaviours that mutation testing showed were unpinned: a rate event refuses what is not a
rate (naming the field and value), and every figure of the delivery (mg, mL, running, paused, elapsed,
current rate, start, stop) on a worked history with a pause, a rate change and a reading before the stop."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.delivery import (
    AFTER_STOP,
    FIRST_NOT_START,
    NAIVE_TIME,
    OUT_OF_ORDER,
    RATE_NEGATIVE,
    Delivery,
    RateEventKind,
    RatePoint,
    delivered_regimen,
    delivery,
)
from ketaclinic.core.pharmacology.regimen import Infusion, Pause

K = RateEventKind
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize("field", ["rate_mg_per_h", "rate_ml_per_h"])
@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf, -math.inf])
def test_a_rate_that_is_not_a_number_of_at_least_zero_is_refused(field, value):
    with pytest.raises(ValidationError) as err:
        RatePoint(K.START, T0, **{field: value})
    assert err.value.field == field and err.value.message == RATE_NEGATIVE.format(value=value)
    assert err.value.value == value or value != value


def test_a_zero_rate_is_a_rate_and_a_time_needs_its_zone():
    assert RatePoint(K.RATE, T0, 0.0, 0.0).rate_mg_per_h == 0.0
    naive = datetime(2026, 11, 25, 9, 0)
    with pytest.raises(ValidationError) as err:
        RatePoint(K.START, naive, 10, 10)
    assert (err.value.field, err.value.value, err.value.message) == ("at", naive, NAIVE_TIME)


HISTORY = [
    RatePoint(K.START, at(0), 60.0, 120.0),  # 10 min at 60 mg/h = 10 mg, 20 mL
    RatePoint(K.PAUSE, at(10)),  # 5 min paused
    RatePoint(K.RESUME, at(15), 30.0, 60.0),  # 10 min at 30 mg/h = 5 mg, 10 mL
    RatePoint(K.RATE, at(25), 90.0, 180.0),  # 20 min at 90 mg/h = 30 mg, 60 mL
    RatePoint(K.STOP, at(45)),
]


def approx(expected: float) -> Any:
    """``pytest.approx`` where a dataclass wants a float: it compares equal within tolerance."""
    return pytest.approx(expected)


def test_every_figure_of_a_delivery_with_a_pause_and_a_rate_change():
    assert delivery(HISTORY, at(60)) == Delivery(
        delivered_mg=approx(45.0),
        delivered_ml=approx(90.0),
        infusing_min=approx(40.0),
        paused_min=approx(5.0),
        elapsed_min=approx(45.0),
        current_rate_mg_per_h=0.0,
        current_rate_ml_per_h=0.0,
        started_at=at(0),
        stopped_at=at(45),
    )


def test_a_reading_in_the_middle_counts_only_up_to_now():
    d = delivery(HISTORY, at(20))  # 10 mg + 5 min at 30 mg/h
    assert (d.delivered_mg, d.delivered_ml) == (pytest.approx(12.5), pytest.approx(25.0))
    assert (d.infusing_min, d.paused_min, d.elapsed_min) == (
        pytest.approx(15.0),
        pytest.approx(5.0),
        pytest.approx(20.0),
    )
    assert (d.current_rate_mg_per_h, d.current_rate_ml_per_h, d.stopped_at) == (30.0, 60.0, None)
    paused = delivery(HISTORY, at(12))
    assert (paused.current_rate_mg_per_h, paused.current_rate_ml_per_h) == (0.0, 0.0)
    assert (paused.infusing_min, paused.paused_min, paused.elapsed_min) == (
        pytest.approx(10.0),
        pytest.approx(2.0),
        pytest.approx(12.0),
    )
    exactly_at_change = delivery(HISTORY, at(25))
    assert (
        exactly_at_change.current_rate_mg_per_h == 90.0
        and exactly_at_change.delivered_mg == pytest.approx(15.0)
    )


def test_a_reading_before_the_start_delivers_nothing_and_has_no_elapsed_time():
    d = delivery(HISTORY, at(-5))
    assert (d.delivered_mg, d.infusing_min, d.paused_min, d.elapsed_min) == (0.0, 0.0, 0.0, 0.0)
    assert d.started_at == at(0) and d.stopped_at is None


def test_a_paused_pump_still_paused_now_counts_the_pause():
    d = delivery(HISTORY[:2], at(30))
    assert (d.delivered_mg, d.infusing_min, d.paused_min, d.elapsed_min) == (
        pytest.approx(10.0),
        pytest.approx(10.0),
        pytest.approx(20.0),
        pytest.approx(30.0),
    )


def test_refusals_name_the_event():
    with pytest.raises(ValidationError) as err:
        delivery([RatePoint(K.RESUME, T0, 10, 10)], at(5))
    assert (err.value.field, err.value.value, err.value.message) == (
        "kind",
        "resume",
        FIRST_NOT_START.format(value="resume"),
    )
    with pytest.raises(ValidationError) as err:
        delivery([RatePoint(K.START, at(5), 10, 10), RatePoint(K.RATE, at(4), 5, 5)], at(10))
    assert (err.value.field, err.value.value) == ("at", at(4))
    assert err.value.message == OUT_OF_ORDER.format(later=at(4).isoformat(), earlier=at(5).isoformat())
    with pytest.raises(ValidationError) as err:
        delivery(
            [RatePoint(K.START, T0, 10, 10), RatePoint(K.STOP, at(5)), RatePoint(K.RESUME, at(6), 1, 1)],
            at(10),
        )
    assert (err.value.field, err.value.value, err.value.message) == (
        "kind",
        "resume",
        AFTER_STOP.format(value="resume"),
    )
    same_time = delivery([RatePoint(K.START, T0, 10, 10), RatePoint(K.RATE, T0, 20, 20)], at(60))
    assert same_time.delivered_mg == pytest.approx(20.0)  # two events at the same minute are in order


def test_the_delivered_regimen_is_what_ran_with_its_pauses():
    regimen = delivered_regimen(HISTORY, at(60))
    assert regimen is not None
    segments = list(regimen.segments)
    assert segments == [
        Infusion(10.0, rate_mg_per_min=1.0),
        Pause(5.0),
        Infusion(10.0, rate_mg_per_min=0.5),
        Infusion(20.0, rate_mg_per_min=1.5),
    ]
    up_to_now = list(delivered_regimen(HISTORY, at(20)).segments)
    assert up_to_now == [Infusion(10.0, rate_mg_per_min=1.0), Pause(5.0), Infusion(5.0, rate_mg_per_min=0.5)]


def test_no_regimen_before_any_drug_ran():
    assert delivered_regimen([], T0) is None
    assert delivered_regimen([RatePoint(K.START, T0, 0.0, 0.0)], at(30)) is None
    assert delivered_regimen([RatePoint(K.START, T0, 60.0, 60.0)], T0) is None


# --- the bag (VTBI): the pump stops when the bag's volume is delivered ---


def same_moment(a: datetime | None, b: datetime) -> bool:
    """Equal to the millisecond (a timedelta rounds to the microsecond)."""
    return a is not None and abs((a - b).total_seconds()) < 1e-3


@pytest.mark.parametrize("vtbi", [0.0, -5.0, math.inf])
def test_a_refused_vtbi_names_the_field_and_the_value(vtbi):
    with pytest.raises(ValidationError) as err:
        delivery([RatePoint(K.START, T0, 10, 10)], at(5), vtbi_ml=vtbi)
    assert (err.value.field, err.value.value) == ("vtbi_ml", vtbi)


def test_the_stop_is_asked_exactly_when_the_ordered_time_has_run_not_before():
    points = [RatePoint(K.START, T0, 20.0, 50.0)]  # 40 min at 50 mL/h: 33 mL of a 100 mL bag
    on_time = delivery(points, at(40), vtbi_ml=100.0, ordered_duration_min=40)
    assert on_time.ordered_end_passed and on_time.stop_pump
    assert (on_time.vtbi_ml, on_time.ordered_duration_min, on_time.vtbi_reached_at) == (100.0, 40, None)
    half_a_minute_early = delivery(points, at(39.5), vtbi_ml=100.0, ordered_duration_min=40)
    assert not half_a_minute_early.ordered_end_passed and not half_a_minute_early.stop_pump


# 0.5 mg/mL: 30 mg in 60 mL/h, then 60 mg at 120 mL/h, then back to 30 mg at 60 mL/h
TITRATED = [
    RatePoint(K.START, at(0), 30.0, 60.0),  # 0-30 min: 30 mL
    RatePoint(K.RATE, at(30), 60.0, 120.0),  # 30-45 min: 30 mL (60 mL in all)
    RatePoint(K.RATE, at(45), 30.0, 60.0),  # a 70 mL bag is empty 10 min later, at 55 min
]


def test_a_bag_running_empty_after_rate_changes_stops_the_delivery_when_it_is_empty():
    d = delivery(TITRATED, at(120), vtbi_ml=70.0)
    assert same_moment(d.vtbi_reached_at, at(55))
    assert (d.delivered_ml, d.delivered_mg) == (pytest.approx(70.0), pytest.approx(35.0))
    assert (d.infusing_min, d.paused_min, d.elapsed_min) == (
        pytest.approx(55.0),
        pytest.approx(65.0),  # nothing ran from the empty bag at 55 min to now
        pytest.approx(120.0),
    )
    assert (d.current_rate_mg_per_h, d.current_rate_ml_per_h, d.stopped_at) == (0.0, 0.0, None)
    assert d.stop_pump  # the nurse must stop the pump


def test_before_the_bag_is_empty_the_delivery_is_what_ran():
    d = delivery(TITRATED, at(50), vtbi_ml=70.0)  # 65 mL of 70
    assert d.vtbi_reached_at is None and not d.stop_pump
    assert (d.delivered_ml, d.delivered_mg, d.infusing_min, d.paused_min) == (
        pytest.approx(65.0),
        pytest.approx(32.5),
        pytest.approx(50.0),
        0.0,
    )
    assert (d.current_rate_mg_per_h, d.current_rate_ml_per_h) == (30.0, 60.0)


def test_a_paused_bag_does_not_drain_even_when_the_pause_records_the_pump_rate():
    points = [
        RatePoint(K.START, at(0), 30.0, 60.0),  # 30 mL by 30 min
        RatePoint(K.PAUSE, at(30), 30.0, 60.0),  # the pump's set rate, shown but not running
        RatePoint(K.RESUME, at(60), 30.0, 60.0),  # the other 30 mL of a 60 mL bag by 90 min
    ]
    d = delivery(points, at(150), vtbi_ml=60.0)
    assert same_moment(d.vtbi_reached_at, at(90))
    assert (d.delivered_ml, d.delivered_mg, d.infusing_min, d.paused_min, d.elapsed_min) == (
        pytest.approx(60.0),
        pytest.approx(30.0),
        pytest.approx(60.0),
        pytest.approx(90.0),  # 30 min paused + 60 min with the bag empty
        pytest.approx(150.0),
    )


def test_a_bag_that_ran_empty_as_the_nurse_paused_was_empty_at_the_pause_not_at_the_resume():
    points = [
        RatePoint(K.START, at(0), 30.0, 60.0),  # 60 mL: the whole bag by 60 min
        RatePoint(K.PAUSE, at(60)),
        RatePoint(K.RESUME, at(90), 30.0, 60.0),  # resumed on an empty bag: nothing more runs
    ]
    d = delivery(points, at(120), vtbi_ml=60.0)
    assert same_moment(d.vtbi_reached_at, at(60))
    assert (d.delivered_ml, d.delivered_mg, d.infusing_min, d.paused_min) == (
        pytest.approx(60.0),
        pytest.approx(30.0),
        pytest.approx(60.0),
        pytest.approx(60.0),
    )


def test_a_stop_half_a_minute_after_the_bag_ran_empty_counts_half_a_minute_without_flow():
    points = [RatePoint(K.START, at(0), 30.0, 60.0), RatePoint(K.STOP, at(60.5))]
    d = delivery(points, at(90), vtbi_ml=60.0)
    assert same_moment(d.vtbi_reached_at, at(60)) and d.stopped_at == at(60.5)
    assert (d.delivered_ml, d.infusing_min, d.paused_min, d.elapsed_min) == (
        pytest.approx(60.0),
        pytest.approx(60.0),
        pytest.approx(0.5),
        pytest.approx(60.5),
    )
    assert not d.stop_pump  # already stopped


def test_a_stop_before_the_bag_is_empty_delivers_what_ran_up_to_the_stop():
    points = [RatePoint(K.START, at(0), 30.0, 60.0), RatePoint(K.STOP, at(30))]
    d = delivery(points, at(90), vtbi_ml=60.0)
    assert d.vtbi_reached_at is None and not d.stop_pump
    assert (d.delivered_ml, d.delivered_mg, d.infusing_min, d.paused_min, d.elapsed_min) == (
        pytest.approx(30.0),
        pytest.approx(15.0),
        pytest.approx(30.0),
        0.0,
        pytest.approx(30.0),
    )


def test_a_slow_syringe_of_half_a_millilitre_empties_at_one_millilitre_an_hour():
    points = [RatePoint(K.START, at(0), 10.0, 1.0)]  # 10 mg/mL at 1 mL/h
    d = delivery(points, at(60), vtbi_ml=0.5)
    assert same_moment(d.vtbi_reached_at, at(30))
    assert (d.delivered_ml, d.delivered_mg, d.infusing_min, d.paused_min) == (
        pytest.approx(0.5),
        pytest.approx(5.0),  # what the half millilitre held
        pytest.approx(30.0),
        pytest.approx(30.0),
    )


def test_every_pause_counts_when_the_pump_is_paused_again_now():
    points = [
        RatePoint(K.START, at(0), 60.0, 120.0),  # 10 mg
        RatePoint(K.PAUSE, at(10)),  # 5 min
        RatePoint(K.RESUME, at(15), 60.0, 120.0),  # 10 mg
        RatePoint(K.PAUSE, at(25)),  # still paused at 40 min: 15 min
    ]
    d = delivery(points, at(40))
    assert (d.delivered_mg, d.infusing_min, d.paused_min, d.elapsed_min) == (
        pytest.approx(20.0),
        pytest.approx(20.0),
        pytest.approx(20.0),
        pytest.approx(40.0),
    )
