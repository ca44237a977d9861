"""Delivered dose from the rate history: worked examples and the integral properties (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.delivery import (
    AFTER_STOP,
    FIRST_NOT_START,
    NOTHING,
    RateEventKind,
    RatePoint,
    delivery,
)

K = RateEventKind
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_no_events_nothing_delivered() -> None:
    assert delivery([], T0) == NOTHING


def test_constant_rate_for_40_minutes() -> None:
    d = delivery([RatePoint(K.START, T0, 52.5, 151.3), RatePoint(K.STOP, at(40))], at(90))
    assert d.delivered_mg == pytest.approx(35.0)
    assert d.delivered_ml == pytest.approx(151.3 * 40 / 60)
    assert d.elapsed_min == pytest.approx(40) and d.infusing_min == pytest.approx(40)
    assert d.stopped_at == at(40) and d.current_rate_mg_per_h == 0


def test_a_pause_adds_nothing_and_is_counted_as_paused() -> None:
    d = delivery(
        [
            RatePoint(K.START, T0, 60),
            RatePoint(K.PAUSE, at(10)),
            RatePoint(K.RESUME, at(15), 60),
            RatePoint(K.STOP, at(45)),
        ],
        at(60),
    )
    assert d.delivered_mg == pytest.approx(40.0)  # 40 running minutes at 1 mg/min
    assert (
        d.paused_min == pytest.approx(5)
        and d.infusing_min == pytest.approx(40)
        and d.elapsed_min == pytest.approx(45)
    )


def test_titration_changes_the_rate_from_its_time() -> None:
    d = delivery([RatePoint(K.START, T0, 30), RatePoint(K.RATE, at(20), 60)], at(30))
    assert d.delivered_mg == pytest.approx(10 + 10)
    assert d.current_rate_mg_per_h == 60


def test_so_far_while_running() -> None:
    d = delivery([RatePoint(K.START, T0, 60)], at(12))
    assert d.delivered_mg == pytest.approx(12) and d.stopped_at is None and d.elapsed_min == pytest.approx(12)


def test_events_after_now_are_not_yet_in_effect() -> None:
    d = delivery([RatePoint(K.START, T0, 60), RatePoint(K.STOP, at(40))], at(10))
    assert d.delivered_mg == pytest.approx(10) and d.stopped_at is None


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([RatePoint(K.PAUSE, T0)], FIRST_NOT_START.format(value="pause")),
        (
            [RatePoint(K.START, T0, 1), RatePoint(K.STOP, at(1)), RatePoint(K.RESUME, at(2), 1)],
            AFTER_STOP.format(value="resume"),
        ),
    ],
)
def test_senseless_histories_are_refused(points, message) -> None:
    with pytest.raises(ValidationError) as exc:
        delivery(points, at(60))
    assert exc.value.message == message


def test_out_of_order_is_refused() -> None:
    with pytest.raises(ValidationError, match="time order"):
        delivery([RatePoint(K.START, at(5), 1), RatePoint(K.PAUSE, at(1))], at(60))


@pytest.mark.parametrize("rate", [-1.0, float("nan"), float("inf")])
def test_negative_or_non_finite_rates_are_refused(rate: float) -> None:
    with pytest.raises(ValidationError):
        RatePoint(K.START, T0, rate)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        RatePoint(K.START, datetime(2026, 1, 1), 1.0)  # noqa: DTZ001 - the point of the test


segments = st.lists(
    st.tuples(st.sampled_from(["run", "pause"]), st.integers(0, 120), st.floats(0, 500, allow_nan=False)),
    min_size=1,
    max_size=12,
)


def _history(segs):
    """Build events from (kind, minutes, rate) segments and the exact integral by hand."""
    points, t, expected, paused = (
        [RatePoint(K.START, T0, segs[0][2] if segs[0][0] == "run" else 0.0)],
        0,
        0.0,
        False,
    )
    if segs[0][0] == "pause":
        points.append(RatePoint(K.PAUSE, T0))
        paused = True
    expected += (0 if paused else segs[0][2]) * segs[0][1] / 60
    t += segs[0][1]
    for kind, minutes, rate in segs[1:]:
        if kind == "pause":
            if not paused:
                points.append(RatePoint(K.PAUSE, at(t)))
            paused = True
        else:
            points.append(RatePoint(K.RESUME if paused else K.RATE, at(t), rate))
            paused = False
            expected += rate * minutes / 60
        t += minutes
    return points, t, expected


@given(segments)
def test_delivered_is_the_integral_of_the_rate(segs) -> None:
    points, end, expected = _history(segs)
    d = delivery([*points, RatePoint(K.STOP, at(end))], at(end + 30))
    assert d.delivered_mg == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert d.delivered_mg >= 0 and d.delivered_ml >= 0
    assert d.infusing_min + d.paused_min == pytest.approx(d.elapsed_min)


@given(segments, st.integers(0, 300))
def test_never_negative_and_monotone_in_time(segs, later) -> None:
    points, end, _ = _history(segs)
    a = delivery(points, at(end))
    b = delivery(points, at(end + later))
    assert 0 <= a.delivered_mg <= b.delivered_mg + 1e-9


@given(segments, st.integers(1, 120))
def test_inserting_a_pause_never_adds(segs, pause_len) -> None:
    points, end, _ = _history(segs)
    base = delivery(points, at(end)).delivered_mg
    with_pause = [*points, RatePoint(K.PAUSE, at(end))]
    assert delivery(with_pause, at(end + pause_len)).delivered_mg == pytest.approx(base)


def test_the_delivered_regimen_follows_the_history() -> None:
    from ketaclinic.core.infusion.delivery import delivered_regimen
    from ketaclinic.core.pharmacology.regimen import Infusion, Pause

    reg = delivered_regimen(
        [
            RatePoint(K.START, T0, 60),
            RatePoint(K.PAUSE, at(10)),
            RatePoint(K.RESUME, at(15), 60),
            RatePoint(K.RATE, at(25), 30),
            RatePoint(K.STOP, at(45)),
        ],
        at(90),
    )
    assert reg is not None
    assert reg.segments == (
        Infusion(10, rate_mg_per_min=1.0),
        Pause(5),
        Infusion(10, rate_mg_per_min=1.0),
        Infusion(20, rate_mg_per_min=0.5),
    )
    assert reg.total_mg_for(70) == pytest.approx(
        delivery(
            [
                RatePoint(K.START, T0, 60),
                RatePoint(K.PAUSE, at(10)),
                RatePoint(K.RESUME, at(15), 60),
                RatePoint(K.RATE, at(25), 30),
                RatePoint(K.STOP, at(45)),
            ],
            at(90),
        ).delivered_mg
    )
    assert delivered_regimen([], T0) is None
    assert delivered_regimen([RatePoint(K.START, T0, 60)], T0) is None  # nothing run yet


@given(segments)
def test_the_regimen_delivers_what_the_history_delivered(segs) -> None:
    """Found by hypothesis: a rate of 5e-324 mg/h is 0 mg/min — treated as no drug, not refused."""
    from ketaclinic.core.infusion.delivery import delivered_regimen

    points, end, expected = _history(segs)
    reg = delivered_regimen(points, at(end))
    if reg is None:
        assert expected == pytest.approx(0, abs=1e-12)
    else:
        assert reg.total_mg_for(70) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_regression_a_vanishing_rate_is_no_drug_not_a_refusal() -> None:
    """Hypothesis found a rate of 5e-324 mg/h, which is 0.0 mg/min: the PK regimen refused it."""
    from ketaclinic.core.infusion.delivery import delivered_regimen

    assert delivered_regimen([RatePoint(K.START, T0, 5e-324)], at(31)) is None
