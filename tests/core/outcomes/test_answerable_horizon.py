"""The worklist skips patients whose last infusion is further back than any questionnaire can still be
answered: that is only safe if the horizon really bounds every answerable item."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.outcomes import (
    DEFAULT_WINDOWS,
    MeasurementSchedule,
    answerable_days_after_last,
    due_schedule,
    due_statuses,
)

schedules = st.builds(
    MeasurementSchedule,
    instruments=st.just(("phq9",)),
    follow_up_days=st.integers(1, 30),
    post_series_weeks=st.lists(st.integers(1, 26), max_size=5, unique=True).map(lambda w: tuple(sorted(w))),
    monthly_days=st.integers(7, 120),
    monthly_count=st.integers(0, 24),
)


@settings(max_examples=300, deadline=None)
@given(
    schedule=schedules,
    gaps=st.lists(st.integers(0, 30), min_size=1, max_size=8),
    after=st.integers(-10, 40),
)
def test_past_the_horizon_nothing_can_still_be_answered(
    schedule: MeasurementSchedule, gaps: list[int], after: int
) -> None:
    first = date(2026, 1, 5)
    dates = [first]
    for gap in gaps[1:]:
        dates.append(dates[-1] + timedelta(days=gap))
    horizon = answerable_days_after_last(schedule)
    today = dates[-1] + timedelta(days=horizon + after)
    items = due_statuses(due_schedule(dates, today=today, schedule=schedule), [], today=today)
    answerable = [item for item in items if item.can_still_answer]
    if after > 0:
        assert answerable == [], (
            f"{answerable[0]} is still answerable {horizon + after} days after the series"
        )


def test_the_default_schedule_is_answerable_for_236_days_after_the_last_infusion() -> None:
    # six weeks after the series, then six monthly questionnaires, the last worth asking 14 days late
    assert answerable_days_after_last(MeasurementSchedule()) == 6 * 7 + 6 * 30 + 14
    last = date(2026, 3, 1)
    dates = [last - timedelta(days=14), last]
    for offset, expect_some in ((236, True), (237, False)):
        today = last + timedelta(days=offset)
        items = due_statuses(due_schedule(dates, today=today), [], today=today)
        assert any(i.can_still_answer for i in items) is expect_some


def test_without_monthly_questionnaires_the_horizon_is_the_last_post_series_week_plus_its_late_days() -> None:
    schedule = MeasurementSchedule(monthly_count=0, post_series_weeks=(1, 2))
    assert answerable_days_after_last(schedule) == 14 + DEFAULT_WINDOWS["post_series"].late_days
