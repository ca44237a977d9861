"""Due questionnaires' status (done, due, overdue, upcoming): the window, the matching rule, and the
properties that make the status safe to act on (an answer never makes anything overdue; time only moves a
status forward)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.outcomes import (
    DEFAULT_WINDOWS,
    Answered,
    DueStatus,
    DueWindow,
    MeasurementSchedule,
    WindowRule,
    due_schedule,
    due_statuses,
    due_windows,
)
from ketaclinic.core.outcomes.due_status import (
    answer_counts_for,
    dated_items,
    item_status,
    longest_window_days,
)
from ketaclinic.core.outcomes.schedule import DueQuestionnaire

D0 = date(2026, 3, 2)
SERIES = [D0 + timedelta(days=d) for d in (0, 3, 7, 10, 14, 17)]  # six infusions, twice a week
LAST = SERIES[-1]
ONE = MeasurementSchedule(instruments=("phq9",))


def statuses(
    answers: list[Answered], today: date, series: list[date] = SERIES, schedule: MeasurementSchedule = ONE
):
    return due_statuses(due_schedule(series, today=today, schedule=schedule), answers, today=today)


def find(items, timepoint: str, n: int | None = None, due_on: date | None = None):
    return next(
        i
        for i in items
        if i.questionnaire.timepoint == timepoint
        and (n is None or i.questionnaire.infusion_number == n)
        and (due_on is None or i.questionnaire.due_on == due_on)
    )


# -- the windows ------------------------------------------------------------------------------------------


def test_default_windows_are_the_documented_ones():
    assert DEFAULT_WINDOWS == {
        "baseline": WindowRule(-7, 0, 0),
        "pre_infusion": WindowRule(-2, 0, 0),
        "follow_up": WindowRule(-1, 2, 7),
        "post_series": WindowRule(-2, 3, 6),
        "monthly": WindowRule(-3, 7, 14),
    }


def test_window_of_each_timepoint():
    items = due_schedule(SERIES, today=D0, schedule=ONE)
    w = dict(
        zip([(i.timepoint, i.infusion_number, i.due_on) for i in items], due_windows(items), strict=True)
    )
    assert w[("baseline", None, D0)] == DueWindow(D0 - timedelta(days=7), D0, D0)
    assert w[("pre_infusion", 2, SERIES[1])] == DueWindow(SERIES[1] - timedelta(days=2), SERIES[1], SERIES[1])
    fu = D0 + timedelta(days=3)
    assert w[("follow_up", None, fu)] == DueWindow(
        fu - timedelta(days=1), fu + timedelta(days=2), fu + timedelta(days=7)
    )
    week1, week2, week4 = (LAST + timedelta(weeks=k) for k in (1, 2, 4))
    # Week 1's window stops the day before week 2's opens (week 2 opens on day 12): closes day 10, late until
    # day 11.
    assert w[("post_series", None, week1)] == DueWindow(
        week1 - timedelta(days=2), week1 + timedelta(days=3), week2 - timedelta(days=3)
    )
    assert w[("post_series", None, week2)] == DueWindow(
        week2 - timedelta(days=2), week2 + timedelta(days=3), week2 + timedelta(days=6)
    )
    assert w[("post_series", None, week4)].late_until == week4 + timedelta(days=6)
    month1 = LAST + timedelta(weeks=6, days=30)
    assert w[("monthly", None, month1)] == DueWindow(
        month1 - timedelta(days=3), month1 + timedelta(days=7), month1 + timedelta(days=14)
    )


def test_clipping_never_closes_before_the_due_day():
    close = [
        DueQuestionnaire("post_series", D0, "a", ("phq9",)),
        DueQuestionnaire("post_series", D0 + timedelta(days=1), "b", ("phq9",)),
    ]
    first, second = due_windows(close)
    assert first.closes == D0 and first.late_until == D0  # the next one opens 2 days before its due day
    assert second == DueWindow(D0 - timedelta(days=1), D0 + timedelta(days=4), D0 + timedelta(days=7))


@pytest.mark.parametrize("rule", [(1, 2, 3), (-1, -1, 0), (-1, 3, 2)])
def test_a_window_rule_must_surround_the_due_day(rule):
    with pytest.raises(ValidationError):
        WindowRule(*rule)


def test_a_window_must_be_in_order():
    with pytest.raises(ValidationError):
        DueWindow(D0, D0 - timedelta(days=1), D0)


def test_unknown_timepoint_has_no_window():
    with pytest.raises(ValidationError, match="ad_hoc"):
        due_windows([DueQuestionnaire("ad_hoc", D0, "x", ("phq9",))])


# -- the matching rule ------------------------------------------------------------------------------------

PRE2 = DueQuestionnaire("pre_infusion", SERIES[1], "Before infusion 2", ("phq9",), 2)
PRE2_WINDOW = DueWindow(SERIES[1] - timedelta(days=2), SERIES[1], SERIES[1])


@pytest.mark.parametrize(
    ("answer", "counts"),
    [
        (Answered("phq9", "pre_infusion", 2, SERIES[1]), True),
        (Answered("phq9", "pre_infusion", 2, SERIES[1] - timedelta(days=2)), True),
        (Answered("phq9", "pre_infusion", 2, SERIES[1] - timedelta(days=3)), False),  # too early
        (Answered("phq9", "pre_infusion", 2, SERIES[1] + timedelta(days=1)), False),  # after the infusion
        (Answered("phq9", "pre_infusion", 3, SERIES[1]), False),  # another infusion
        (Answered("phq9", "pre_infusion", None, SERIES[1]), False),
        (Answered("gad7", "pre_infusion", 2, SERIES[1]), False),  # another instrument
        (Answered("phq9", "ad_hoc", None, SERIES[1]), False),  # another timepoint
        (Answered("phq9", "baseline", None, SERIES[1]), False),
    ],
)
def test_matching_rule_before_an_infusion(answer, counts):
    assert answer_counts_for(PRE2, "phq9", PRE2_WINDOW, answer) is counts


def test_matching_ignores_the_infusion_number_except_before_an_infusion():
    base = DueQuestionnaire("baseline", D0, "Baseline", ("phq9",))
    window = DueWindow(D0 - timedelta(days=7), D0, D0)
    assert answer_counts_for(base, "phq9", window, Answered("phq9", "baseline", 1, D0))
    assert answer_counts_for(base, "phq9", window, Answered("phq9", "baseline", None, D0 - timedelta(days=7)))


# -- the status ---------------------------------------------------------------------------------------------

W = DueWindow(D0, D0 + timedelta(days=3), D0 + timedelta(days=6))


@pytest.mark.parametrize(
    ("today_offset", "answered", "expected", "on"),
    [
        (-1, [], DueStatus.UPCOMING, None),
        (0, [], DueStatus.DUE, None),
        (3, [], DueStatus.DUE, None),
        (4, [], DueStatus.OVERDUE, None),
        (30, [], DueStatus.OVERDUE, None),
        (1, [1], DueStatus.DONE, 1),
        (1, [2], DueStatus.DUE, None),  # answered later than "today": not yet
        (5, [5], DueStatus.DONE, 5),  # late, but within the late limit
        (8, [7], DueStatus.OVERDUE, None),  # after the late limit: does not count
        (-1, [-1], DueStatus.UPCOMING, None),  # before the window: does not count
        (9, [6, 2, 4], DueStatus.DONE, 2),  # the first counting answer
    ],
)
def test_item_status_table(today_offset, answered, expected, on):
    status, day = item_status(
        W, [D0 + timedelta(days=d) for d in answered], today=D0 + timedelta(days=today_offset)
    )
    assert status is expected
    assert day == (None if on is None else D0 + timedelta(days=on))


def test_status_of_a_series_in_progress():
    today = SERIES[2]  # the day of infusion 3
    answers = [
        Answered("phq9", "baseline", None, D0 - timedelta(days=5)),
        Answered("phq9", "pre_infusion", 3, today),
    ]
    items = statuses(answers, today)
    assert find(items, "baseline").status is DueStatus.DONE
    assert find(items, "pre_infusion", 2).status is DueStatus.OVERDUE  # infusion 2 passed without one
    assert not find(items, "pre_infusion", 2).can_still_answer  # a pre-infusion answer cannot be late
    assert find(items, "pre_infusion", 3).status is DueStatus.DONE
    assert find(items, "pre_infusion", 4).status is DueStatus.UPCOMING
    follow_up = find(items, "follow_up")
    assert (
        follow_up.status is DueStatus.OVERDUE and follow_up.can_still_answer
    )  # closed day 5, late until day 10
    assert {i.status for i in items if i.questionnaire.timepoint in ("post_series", "monthly")} == {
        DueStatus.UPCOMING
    }


def test_late_answer_is_done_and_marked_late():
    fu = D0 + timedelta(days=3)
    items = statuses([Answered("phq9", "follow_up", None, fu + timedelta(days=6))], fu + timedelta(days=6))
    item = find(items, "follow_up")
    assert item.status is DueStatus.DONE and item.late


def test_one_answer_counts_for_one_post_series_week_only():
    week1, week2 = LAST + timedelta(weeks=1), LAST + timedelta(weeks=2)
    answer = Answered("phq9", "post_series", None, week2 - timedelta(days=1))  # in week 2's window only
    items = statuses([answer], week2)
    assert find(items, "post_series", due_on=week1).status is DueStatus.OVERDUE
    assert find(items, "post_series", due_on=week2).status is DueStatus.DONE


def test_each_instrument_has_its_own_status():
    answers = [Answered("phq9", "baseline", None, D0)]
    items = statuses(answers, D0, schedule=MeasurementSchedule())
    base = {i.instrument: i.status for i in items if i.questionnaire.timepoint == "baseline"}
    assert base == {"phq9": DueStatus.DONE, "gad7": DueStatus.DUE}


def test_without_infusions_the_baseline_is_due_today():
    (item,) = statuses([], D0, series=[])
    assert item.status is DueStatus.DUE and item.open_today and item.window.opens == D0 - timedelta(days=7)


def test_rank_orders_the_statuses():
    assert [s.rank for s in (DueStatus.UPCOMING, DueStatus.DUE, DueStatus.OVERDUE, DueStatus.DONE)] == [
        0,
        1,
        2,
        3,
    ]
    assert DueStatus.OVERDUE.label == "Overdue"


# -- properties -------------------------------------------------------------------------------------------

TIMEPOINTS = ["baseline", "pre_infusion", "follow_up", "post_series", "monthly", "ad_hoc"]
series_dates = st.lists(st.integers(0, 60), min_size=0, max_size=8).map(
    lambda xs: [D0 + timedelta(days=x) for x in sorted(xs)]
)
schedules = st.builds(
    MeasurementSchedule,
    instruments=st.just(("phq9", "gad7")),
    follow_up_days=st.integers(1, 10),
    post_series_weeks=st.lists(st.integers(1, 8), min_size=1, max_size=4).map(lambda xs: tuple(sorted(xs))),
    monthly_days=st.integers(5, 40),
    monthly_count=st.integers(0, 4),
)
answers = st.builds(
    Answered,
    instrument=st.sampled_from(["phq9", "gad7"]),
    timepoint=st.sampled_from(TIMEPOINTS),
    infusion_number=st.one_of(st.none(), st.integers(1, 8)),
    answered_on=st.integers(-20, 400).map(lambda d: D0 + timedelta(days=d)),
)
days = st.integers(-20, 400).map(lambda d: D0 + timedelta(days=d))


@settings(max_examples=300, deadline=None)
@given(
    series=series_dates,
    schedule=schedules,
    given_answers=st.lists(answers, max_size=12),
    extra=answers,
    today=days,
)
def test_an_answer_never_lowers_a_status(series, schedule, given_answers, extra, today):
    items = due_schedule(series, today=today, schedule=schedule)
    before = due_statuses(items, given_answers, today=today)
    after = due_statuses(items, [*given_answers, extra], today=today)
    for b, a in zip(before, after, strict=True):
        assert a.status.rank >= b.status.rank
        if a.status is DueStatus.OVERDUE:
            assert b.status is DueStatus.OVERDUE  # an answer never makes anything overdue


@settings(max_examples=300, deadline=None)
@given(
    series=series_dates,
    schedule=schedules,
    given_answers=st.lists(answers, max_size=12),
    today=days,
    step=st.integers(1, 120),
)
def test_status_only_moves_forward_in_time(series, schedule, given_answers, today, step):
    items = due_schedule(series, today=min(today, D0), schedule=schedule)  # one schedule, seen on two days
    now = due_statuses(items, given_answers, today=today)
    later = due_statuses(items, given_answers, today=today + timedelta(days=step))
    for n, lt in zip(now, later, strict=True):
        assert lt.status.rank >= n.status.rank
        if n.status is DueStatus.DONE:
            assert lt.answered_on == n.answered_on


@settings(max_examples=300, deadline=None)
@given(series=series_dates, schedule=schedules, given_answers=st.lists(answers, max_size=12), today=days)
def test_done_exactly_when_a_counting_answer_exists(series, schedule, given_answers, today):
    for item in due_statuses(
        due_schedule(series, today=today, schedule=schedule), given_answers, today=today
    ):
        q, w = item.questionnaire, item.window
        counting = [
            a
            for a in given_answers
            if a.instrument == item.instrument
            and a.timepoint == q.timepoint
            and (q.timepoint != "pre_infusion" or a.infusion_number == q.infusion_number)
            and w.opens <= a.answered_on <= min(w.late_until, today)
        ]
        assert (item.status is DueStatus.DONE) == bool(counting)
        if not counting:
            expected = (
                DueStatus.UPCOMING
                if today < w.opens
                else DueStatus.DUE
                if today <= w.closes
                else DueStatus.OVERDUE
            )
            assert item.status is expected
        assert w.opens <= q.due_on <= w.closes <= w.late_until
        assert item.can_still_answer == (
            item.status is not DueStatus.DONE and w.opens <= today <= w.late_until
        )


@settings(max_examples=300, deadline=None)
@given(series=series_dates, schedule=schedules)
def test_one_answer_counts_for_one_item_of_a_kind_when_they_are_spaced(series, schedule):
    items = due_schedule(series, today=D0, schedule=schedule)
    windows = due_windows(items)
    pairs = list(zip(items, windows, strict=True))
    for q, w in pairs:
        for q2, w2 in pairs:
            if (q2.timepoint, q2.infusion_number) != (
                q.timepoint,
                q.infusion_number,
            ) or q2.due_on <= q.due_on:
                continue
            if w2.opens > q.due_on:  # spaced enough for clipping: the windows are disjoint
                assert w.late_until < w2.opens


def _windows_pairwise(items: list[DueQuestionnaire]) -> list[DueWindow]:
    """The clipping rule read literally: each item's window stops the day before the earliest later item of
    its timepoint and infusion number opens (every pair compared)."""
    out = []
    for item in items:
        rule = DEFAULT_WINDOWS[item.timepoint]
        opens = item.due_on + timedelta(days=rule.opens_days)
        closes = item.due_on + timedelta(days=rule.closes_days)
        late = item.due_on + timedelta(days=rule.late_days)
        later = [
            o.due_on + timedelta(days=DEFAULT_WINDOWS[o.timepoint].opens_days)
            for o in items
            if (o.timepoint, o.infusion_number) == (item.timepoint, item.infusion_number)
            and o.due_on > item.due_on
        ]
        if later:
            stop = min(later) - timedelta(days=1)
            closes = max(item.due_on, min(closes, stop))
            late = max(closes, min(late, stop))
        out.append(DueWindow(opens, closes, late))
    return out


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(DEFAULT_WINDOWS)),
            st.integers(min_value=0, max_value=60),
            st.sampled_from([None, 1, 2]),
        ),
        max_size=25,
    )
)
def test_the_windows_are_those_of_the_pairwise_rule_in_any_order(rows):
    """The windows are computed per group in linear time (the worklist computes them for every patient of a
    clinic); they must be exactly the pairwise rule's, same-day items included."""
    items = [DueQuestionnaire(tp, D0 + timedelta(days=d), "x", ("phq9",), n) for tp, d, n in rows]
    assert list(due_windows(items)) == _windows_pairwise(items)


@settings(max_examples=300, deadline=None)
@given(series=series_dates, schedule=schedules, given_answers=st.lists(answers, max_size=12), today=days)
def test_the_dated_items_give_every_days_status_from_dates_alone(series, schedule, given_answers, today):
    """What is stored per patient (the windows and the first counting answer's day, computed once) gives the
    status on any day that the answers themselves give, and no window is longer than the worklist reads."""
    items = due_schedule(series, today=D0, schedule=schedule)
    stored = dated_items(items, given_answers)
    for d, item in zip(stored, due_statuses(items, given_answers, today=today), strict=True):
        days = [
            a.answered_on
            for a in given_answers
            if answer_counts_for(d.questionnaire, d.instrument, d.window, a)
        ]
        assert d.on(today) == item
        assert (item.status, item.answered_on) == item_status(d.window, days, today=today)
        assert (d.window.late_until - d.window.opens).days <= longest_window_days() == 17
