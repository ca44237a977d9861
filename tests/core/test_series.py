"""Series scheduling in the pure core: proposals keep every rule (exhaustively and by hypothesis), a moved
slot is refused naming the conflicting infusion and the rule."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.protocols.series import SeriesSection
from ketaclinic.core.series import (
    CANNOT_FIT,
    CLOSED_DATE,
    NO_WEEKDAYS,
    TOO_CLOSE,
    WEEK_FULL,
    SeriesRules,
    Slot,
    check_schedule,
    check_slot,
    propose_series,
    week_of,
)

NY = ZoneInfo("America/New_York")
MON = date(2026, 11, 2)
RULES = SeriesRules(count=6, max_per_week=2, min_spacing_hours=48)


def slots(starts) -> list[Slot]:
    return [Slot(f"Infusion {i}", s) for i, s in enumerate(starts, 1)]


def assert_keeps_rules(rules: SeriesRules, starts, tz=NY) -> None:
    assert list(starts) == sorted(starts)
    for a, b in itertools.pairwise(starts):
        assert b - a >= timedelta(hours=rules.min_spacing_hours)
    weeks: dict[date, int] = {}
    for s in starts:
        weeks[week_of(s, tz)] = weeks.get(week_of(s, tz), 0) + 1
    assert max(weeks.values()) <= rules.max_per_week


def test_six_over_three_weeks_twice_weekly():
    starts = propose_series(rules=RULES, start=MON, weekdays=(0, 3), at=time(9), tz=NY)
    assert [s.date() for s in starts] == [date(2026, 11, d) for d in (2, 5, 9, 12, 16, 19)]
    assert all(s.time() == time(9) and s.tzinfo is NY for s in starts)


def test_spacing_skips_a_preferred_day_too_close():
    # Monday and Tuesday preferred, 48 h apart required: Tuesday never fits after Monday.
    starts = propose_series(rules=RULES, start=MON, weekdays=(0, 1), at=time(9), tz=NY)
    assert [s.weekday() for s in starts] == [0] * 6


def test_per_week_limit_with_three_weekdays():
    starts = propose_series(rules=RULES, start=MON, weekdays=(0, 2, 4), at=time(9), tz=NY)
    assert [s.date().day for s in starts] == [2, 4, 9, 11, 16, 18]


def test_closed_dates_are_skipped():
    starts = propose_series(
        rules=RULES,
        start=MON,
        weekdays=(0, 3),
        at=time(9),
        tz=NY,
        closed={date(2026, 11, 26), date(2026, 11, 5)},
    )
    assert date(2026, 11, 5) not in [s.date() for s in starts]
    assert [s.date().day for s in starts] == [2, 9, 12, 16, 19, 23]


def test_no_weekday_and_unknown_weekday_refused():
    with pytest.raises(ValidationError, match=NO_WEEKDAYS):
        propose_series(rules=RULES, start=MON, weekdays=(), at=time(9), tz=NY)
    with pytest.raises(ValidationError, match="Weekday 7 is unknown"):
        propose_series(rules=RULES, start=MON, weekdays=(7,), at=time(9), tz=NY)


def test_cannot_fit_names_how_many():
    closed = {MON + timedelta(days=d) for d in range(400)}
    with pytest.raises(ValidationError) as exc:
        propose_series(rules=RULES, start=MON, weekdays=(0,), at=time(9), tz=NY, closed=closed)
    assert exc.value.message == CANNOT_FIT.format(found=0, count=6, start="2026-11-02", weekdays="Monday")


def test_rules_refuse_out_of_range():
    with pytest.raises(ValidationError, match="outside 1-3"):
        SeriesRules(count=6, max_per_week=4, min_spacing_hours=48)
    with pytest.raises(ValidationError, match="at least 1"):
        SeriesRules(count=0, max_per_week=2, min_spacing_hours=48)


def test_moved_slot_too_close_names_the_other_infusion_and_the_rule():
    plan = slots(propose_series(rules=RULES, start=MON, weekdays=(0, 3), at=time(9), tz=NY))
    moved = Slot("Infusion 2", datetime(2026, 11, 3, 9, tzinfo=NY))
    with pytest.raises(ValidationError) as exc:
        check_slot(rules=RULES, slot=moved, others=[s for s in plan if s.label != "Infusion 2"], tz=NY)
    assert exc.value.message == TOO_CLOSE.format(
        label="Infusion 2",
        when="Tue 2026-11-03 09:00",
        hours=24,
        other="Infusion 1",
        other_when="Mon 2026-11-02 09:00",
        min_hours=48,
    )
    assert exc.value.field == "scheduled_start"


def test_moved_slot_into_a_full_week_refused():
    rules = SeriesRules(count=6, max_per_week=2, min_spacing_hours=24)
    others = slots([datetime(2026, 11, 2, 9, tzinfo=NY), datetime(2026, 11, 4, 9, tzinfo=NY)])
    moved = Slot("Infusion 3", datetime(2026, 11, 6, 9, tzinfo=NY))
    with pytest.raises(ValidationError) as exc:
        check_slot(rules=rules, slot=moved, others=others, tz=NY)
    assert exc.value.message == WEEK_FULL.format(
        label="Infusion 3",
        when="Fri 2026-11-06 09:00",
        n=3,
        monday="2026-11-02",
        others="Infusion 1 on Mon 2026-11-02 09:00, Infusion 2 on Wed 2026-11-04 09:00",
        max_per_week=2,
    )
    # The next Monday is another week, and 72 h after Friday's slot: allowed.
    check_slot(
        rules=rules, slot=Slot("Infusion 3", datetime(2026, 11, 9, 9, tzinfo=NY)), others=others, tz=NY
    )


def test_moved_slot_on_a_closed_date_refused():
    with pytest.raises(
        ValidationError, match=CLOSED_DATE.format(label="Infusion 1", when="Mon 2026-11-02 09:00")
    ):
        check_slot(
            rules=RULES,
            slot=Slot("Infusion 1", datetime(2026, 11, 2, 9, tzinfo=NY)),
            others=[],
            tz=NY,
            closed={MON},
        )


def test_week_is_local_monday_to_sunday():
    # Sunday 23:30 in New York is Monday in UTC; it belongs to the New York week that started the Monday
    # before.
    sunday_night = datetime(2026, 11, 8, 23, 30, tzinfo=NY)
    assert week_of(sunday_night, NY) == MON


def test_exactly_spaced_is_allowed():
    others = slots([datetime(2026, 11, 2, 9, tzinfo=NY)])
    check_slot(
        rules=RULES, slot=Slot("Infusion 2", datetime(2026, 11, 4, 9, tzinfo=NY)), others=others, tz=NY
    )
    with pytest.raises(ValidationError):
        check_slot(
            rules=RULES,
            slot=Slot("Infusion 2", datetime(2026, 11, 4, 8, 59, tzinfo=NY)),
            others=others,
            tz=NY,
        )


@pytest.mark.parametrize("max_per_week", [1, 2, 3])
@pytest.mark.parametrize("spacing", [0, 24, 48, 56])
@pytest.mark.parametrize(
    "weekday_set", [ws for n in (1, 2, 3, 4) for ws in itertools.combinations(range(7), n)]
)
def test_exhaustive_weekday_sets(max_per_week, spacing, weekday_set):
    if spacing * max_per_week > 7 * 24:
        return
    rules = SeriesRules(count=6, max_per_week=max_per_week, min_spacing_hours=spacing)
    starts = propose_series(rules=rules, start=MON, weekdays=weekday_set, at=time(8, 30), tz=NY)
    assert len(starts) == 6
    assert {s.weekday() for s in starts} <= set(weekday_set)
    assert_keeps_rules(rules, starts)
    check_schedule(rules=rules, slots=slots(starts), tz=NY)


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(1, 12),
    max_per_week=st.integers(1, 3),
    spacing=st.integers(0, 56),
    weekdays=st.sets(st.integers(0, 6), min_size=1),
    start=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    at=st.times(time(7), time(18)),
    closed_offsets=st.sets(st.integers(0, 60), max_size=15),
    tz=st.sampled_from([NY, ZoneInfo("America/Los_Angeles"), ZoneInfo("UTC")]),
)
def test_proposals_always_keep_the_rules(
    count, max_per_week, spacing, weekdays, start, at, closed_offsets, tz
):
    rules = SeriesRules(count=count, max_per_week=max_per_week, min_spacing_hours=spacing)
    closed = {start + timedelta(days=o) for o in closed_offsets}
    starts = propose_series(rules=rules, start=start, weekdays=tuple(weekdays), at=at, tz=tz, closed=closed)
    assert len(starts) == count
    assert all(s.date() >= start and s.date() not in closed and s.weekday() in weekdays for s in starts)
    assert_keeps_rules(rules, starts, tz)
    check_schedule(rules=rules, slots=slots(starts), tz=tz)


def test_series_section_defaults_and_limits():
    s = SeriesSection()
    assert (s.initial_count, s.max_per_week, s.min_spacing_hours, s.evaluation_after) == (6, 2, 48, 6)
    for bad in (
        {"max_per_week": 4},
        {"max_per_week": 0},
        {"evaluation_after": 7},
        {"max_per_week": 3, "min_spacing_hours": 60},
    ):
        with pytest.raises(ValueError, match="max_per_week|evaluation_after|cannot be"):
            SeriesSection(**bad)
