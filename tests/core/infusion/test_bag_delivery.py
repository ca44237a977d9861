"""The order is the bag: delivery never exceeds the bag's volume to be infused (VTBI), says when it ran empty
and when the ordered time has run (issue: 42.5 mg / 118.5 mL "given" from a 36.1 mg / 100.7 mL bag, still
running)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.delivery import (
    VTBI_NOT_POSITIVE,
    RateEventKind,
    RatePoint,
    delivered_regimen,
    delivery,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
K = RateEventKind


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_the_demo_overrun_is_capped_at_the_bag():
    # 36.1 mg in 100.7 mL at 151.1 mL/h: the bag is empty after 40 min; 47 min later it must not read 42.5 mg.
    conc = 36.1 / 100.7
    points = [RatePoint(K.START, T0, 151.1 * conc, 151.1)]
    raw = delivery(points, at(47))
    assert raw.delivered_ml == pytest.approx(118.4, abs=0.1)  # what the old integration said
    d = delivery(points, at(47), vtbi_ml=100.7, ordered_duration_min=40)
    assert d.delivered_ml == pytest.approx(100.7) and d.delivered_mg == pytest.approx(36.1, rel=1e-6)
    assert d.vtbi_reached_at is not None
    assert abs((d.vtbi_reached_at - at(100.7 / 151.1 * 60)).total_seconds()) < 1
    assert (
        d.stop_pump
    )  # the bag ran empty (a few seconds before the ordered 40 min: the pump's rate is rounded)
    assert d.current_rate_ml_per_h == 0 and d.infusing_min == pytest.approx(100.7 / 151.1 * 60, rel=1e-6)


def test_before_the_bag_is_empty_nothing_changes_and_no_stop_is_asked():
    points = [RatePoint(K.START, T0, 52.5, 151.1)]
    d = delivery(points, at(20), vtbi_ml=100.7, ordered_duration_min=40)
    assert d.delivered_ml == pytest.approx(151.1 / 3) and d.vtbi_reached_at is None
    assert not d.ordered_end_passed and not d.stop_pump


def test_the_ordered_time_having_run_asks_for_the_stop_even_with_volume_left():
    points = [RatePoint(K.START, T0, 20, 50)]  # titrated down: the bag lasts longer than ordered
    d = delivery(points, at(41), vtbi_ml=100.7, ordered_duration_min=40)
    assert d.vtbi_reached_at is None and d.ordered_end_passed and d.stop_pump


def test_pauses_do_not_count_towards_the_ordered_time():
    points = [RatePoint(K.START, T0, 20, 50), RatePoint(K.PAUSE, at(10)), RatePoint(K.RESUME, at(20), 20, 50)]
    d = delivery(points, at(45), vtbi_ml=100.7, ordered_duration_min=40)
    assert d.infusing_min == pytest.approx(35) and not d.ordered_end_passed


def test_a_stopped_infusion_asks_for_nothing():
    points = [RatePoint(K.START, T0, 52.5, 151.1), RatePoint(K.STOP, at(50))]
    d = delivery(points, at(60), vtbi_ml=100.7, ordered_duration_min=40)
    assert d.delivered_ml == pytest.approx(100.7) and d.vtbi_reached_at is not None and not d.stop_pump


def test_the_delivered_regimen_ends_when_the_bag_ran_empty():
    points = [RatePoint(K.START, T0, 52.5, 151.1)]
    regimen = delivered_regimen(points, at(90), vtbi_ml=100.7)
    assert regimen is not None and regimen.end_min == pytest.approx(100.7 / 151.1 * 60, rel=1e-6)


@pytest.mark.parametrize("vtbi", [0.0, -5.0, float("nan"), float("inf")])
def test_a_vtbi_that_is_not_a_positive_number_is_refused(vtbi):
    with pytest.raises(ValidationError) as exc:
        delivery([RatePoint(K.START, T0, 10, 10)], at(5), vtbi_ml=vtbi)
    assert exc.value.message == VTBI_NOT_POSITIVE.format(value=vtbi)


@st.composite
def histories(draw):
    """Any pump history: a start, then pauses, resumes, rate changes, maybe a stop, at increasing times."""
    n = draw(st.integers(0, 8))
    t = 0.0
    rate = draw(st.floats(0.5, 999))
    points = [RatePoint(K.START, at(0), rate * 0.35, rate)]
    running = True
    for _ in range(n):
        t += draw(st.floats(0, 60))
        kind = draw(st.sampled_from([K.PAUSE, K.RATE] if running else [K.RESUME]))
        if kind is K.PAUSE:
            points.append(RatePoint(K.PAUSE, at(t)))
            running = False
        else:
            rate = draw(st.floats(0.5, 999))
            points.append(RatePoint(kind, at(t), rate * 0.35, rate))
            running = True
    if draw(st.booleans()):
        t += draw(st.floats(0, 60))
        points.append(RatePoint(K.STOP, at(t)))
    return points


@settings(max_examples=200, deadline=None)
@given(histories(), st.floats(1, 1000), st.floats(0, 600), st.floats(0, 600))
def test_delivered_never_exceeds_the_bag_and_never_goes_down(points, vtbi, t1, dt):
    early = delivery(points, at(t1), vtbi_ml=vtbi)
    late = delivery(points, at(t1 + dt), vtbi_ml=vtbi)
    for d in (early, late):
        assert d.delivered_ml <= vtbi + 1e-6
        assert d.delivered_mg <= vtbi * 0.35 + 1e-6  # the bag's content at its concentration
    assert late.delivered_ml >= early.delivered_ml - 1e-6
    assert late.delivered_mg >= early.delivered_mg - 1e-6
    raw = delivery(points, at(t1 + dt))
    assert late.delivered_ml == pytest.approx(min(raw.delivered_ml, vtbi), rel=1e-6, abs=1e-6)
    if late.vtbi_reached_at is not None:
        assert late.delivered_ml == pytest.approx(vtbi)
