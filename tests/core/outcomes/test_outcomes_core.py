"""The pure measurement-based-care core: due schedule, confidence intervals, status in words."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.outcomes import (
    MeasurementSchedule,
    TrajectoryPoint,
    due_schedule,
    mean_estimate,
    proportion_estimate,
    t_critical_975,
    trajectory_status,
)
from ketaclinic.core.outcomes.stats import Z_975

SERIES = [date(2026, 3, 2) + timedelta(days=d) for d in (0, 3, 7, 10, 14, 17)]  # six infusions, twice a week


def test_due_schedule_follows_the_documented_rule():
    due = due_schedule(SERIES, today=date(2026, 3, 1))
    by_kind: dict[str, list[Any]] = {}
    for d in due:
        by_kind.setdefault(d.timepoint, []).append(d)
    assert [d.due_on for d in by_kind["baseline"]] == [date(2026, 3, 2)]
    assert [(d.infusion_number, d.due_on) for d in by_kind["pre_infusion"]] == list(
        zip(range(2, 7), SERIES[1:], strict=True)
    )
    assert [d.due_on for d in by_kind["follow_up"]] == [date(2026, 3, 5)]
    assert [d.due_on for d in by_kind["post_series"]] == [
        SERIES[-1] + timedelta(weeks=w) for w in (1, 2, 4, 6)
    ]
    last_post = SERIES[-1] + timedelta(weeks=6)
    assert [d.due_on for d in by_kind["monthly"]] == [last_post + timedelta(days=30 * m) for m in range(1, 7)]
    assert [d.due_on for d in due] == sorted(d.due_on for d in due)
    assert all(d.instruments == ("phq9", "gad7") for d in due)


def test_due_schedule_without_infusions_is_a_baseline_today_and_honours_the_protocol():
    assert [(d.timepoint, d.due_on) for d in due_schedule([], today=date(2026, 5, 1))] == [
        ("baseline", date(2026, 5, 1))
    ]
    s = MeasurementSchedule(instruments=("pcl5",), follow_up_days=5, post_series_weeks=(2,), monthly_count=0)
    due = due_schedule(SERIES[:2], today=date(2026, 3, 1), schedule=s)
    assert [(d.timepoint, d.due_on) for d in due] == [
        ("baseline", SERIES[0]),
        ("pre_infusion", SERIES[1]),
        ("follow_up", SERIES[0] + timedelta(days=5)),
        ("post_series", SERIES[1] + timedelta(weeks=2)),
    ]


def test_due_schedule_refuses_unsorted_dates():
    with pytest.raises(ValidationError, match="in order"):
        due_schedule([SERIES[2], SERIES[0]], today=date(2026, 3, 1))


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (5, 10, (50.0, 23.7, 76.3)),  # Wilson 1927; Brown, Cai & DasGupta 2001 table values
        (0, 10, (0.0, 0.0, 27.8)),
        (10, 10, (100.0, 72.2, 100.0)),
        (2, 3, (66.7, 20.8, 93.9)),
    ],
)
def test_wilson_interval_matches_worked_values(successes, n, expected):
    e = proportion_estimate(successes, n)
    assert (e.value, e.low, e.high) == expected
    assert (e.n, e.numerator, e.method) == (n, successes, "Wilson")


def test_no_interval_without_data():
    assert proportion_estimate(0, 0).value is None
    assert mean_estimate([]).value is None
    one = mean_estimate([40.0])
    assert (one.value, one.low, one.high, one.n) == (40.0, None, None, 1)


def test_t_interval_by_hand():
    # mean 2.5, s = 1.29099, t(0.975, 3) = 3.182: 2.5 ± 2.054
    e = mean_estimate([1, 2, 3, 4])
    assert (e.value, e.low, e.high, e.method) == (2.5, 0.4, 4.6, "t")


def test_an_interval_is_clipped_to_what_the_measure_can_be():
    # days to response 2, 3 and 44: mean 16.3, t interval -40.8 to 73.5 before clipping
    days = mean_estimate([2, 3, 44], lowest=0.0)
    assert (days.value, days.low) == (16.3, 0.0)
    assert days.high == mean_estimate([2, 3, 44]).high
    change = mean_estimate([100.0, 100.0, 40.0], highest=100.0)
    assert change.high == 100.0 and change.low == mean_estimate([100.0, 100.0, 40.0]).low
    with pytest.raises(ValueError, match="outside the quantity's range"):
        mean_estimate([-1.0, 3.0], lowest=0.0)


@given(st.lists(st.floats(0, 400, allow_nan=False), min_size=2, max_size=50))
def test_a_clipped_interval_never_leaves_the_range_and_still_holds_the_mean(values):
    e = mean_estimate(values, lowest=0.0)
    assert e.low is not None and e.high is not None
    assert 0.0 <= e.low <= e.value + 0.05 <= e.high + 0.1


@pytest.mark.parametrize(
    ("df", "t"),
    [
        (1, 12.706),
        (2, 4.303),
        (5, 2.571),
        (10, 2.228),
        (20, 2.086),
        (30, 2.042),
        (40, 2.021),
        (60, 2.000),
        (100, 1.984),
        (120, 1.980),
    ],
)
def test_t_critical_values_against_the_nist_table(df, t):
    """NIST/SEMATECH e-Handbook 1.3.6.7.2, upper 0.025 critical values (three decimals)."""
    assert t_critical_975(df) == pytest.approx(t, abs=5e-4)


@given(st.integers(1, 10_000))
def test_t_critical_values_fall_with_the_degrees_of_freedom_towards_the_normal(df):
    assert Z_975 < t_critical_975(df + 1) < t_critical_975(df) <= 12.7063


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_interval_contains_the_estimate(k, n):
    k = min(k, n)
    e = proportion_estimate(k, n)
    assert e.low is not None and e.high is not None
    assert 0 <= e.low <= e.value + 0.05 and e.value - 0.05 <= e.high <= 100


@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=50))
def test_t_interval_is_symmetric_about_the_mean(values):
    e = mean_estimate(values)
    assert e.low is not None and e.high is not None
    assert math.isclose(e.value - e.low, e.high - e.value, abs_tol=0.11)


def pts(*totals_and_infusions):
    return [TrajectoryPoint(t, n) for t, n in totals_and_infusions]


def test_status_in_words():
    s = trajectory_status("phq9", pts((20, 0), (15, 1), (9, 4), (8, 6)))
    assert s.words == "responder since infusion 4"
    assert (s.responder, s.remission, s.response_line, s.remission_line) == (True, False, 10.0, 5.0)
    s = trajectory_status("phq9", pts((20, 0), (9, 3), (4, 6)))
    assert s.words == "in remission since infusion 6 (responder since infusion 3)"
    s = trajectory_status("phq9", pts((20, 0), (16, 2)))
    assert s.words.startswith("not responding yet (20% change")
    s = trajectory_status("phq9", pts((20, 0), (8, 4), (16, 6)), relapse_fraction=0.5)
    assert s.relapsed and s.words.startswith("relapse: responded at infusion 4")
    assert trajectory_status("phq9", pts((8, 0), (2, 1))).words.startswith("baseline 8 is below 10")
    assert trajectory_status("phq9", []).words == "no answers yet"
    assert trajectory_status("gad7", pts((14, 0), (7, 6))).words == "-7 points from baseline 14"
