"""Random small weeks: whatever CP-SAT proposes passes the independent checker, places at least as many
sessions as the first-fit desk, accounts for every wanted session, and the checker refuses it once a
session is moved off the grid or onto another. On tiny weeks, it places as many as a brute-force search
over every quarter-hour start (judged by the checker) finds possible."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.placement import (
    Booking,
    Chair,
    Interval,
    Placement,
    PlacementRefused,
    Request,
    SolverSettings,
    Week,
    placement_check,
    placement_problems,
    week_first_fit,
    week_place,
)
from ketaclinic.core.series import SeriesRules

QUICK = SolverSettings(time_limit_s=0.5)


@st.composite
def chairs(draw, n: int) -> tuple[Chair, ...]:
    out = []
    for c in range(n):
        days = draw(st.lists(st.integers(0, 4), min_size=1, max_size=3, unique=True))
        open_hours, booked = [], []
        for d in sorted(days):
            start, end = draw(st.integers(8, 10)), draw(st.integers(12, 17))
            open_hours.append(Interval(d * 1440 + start * 60, d * 1440 + end * 60))
            if draw(st.booleans()):
                at = d * 1440 + start * 60 + draw(st.sampled_from([0, 60, 120]))
                patient = draw(st.sampled_from(["", "p0", "p1"]))
                booked.append(Booking(Interval(at, at + 120), patient_id=patient))
        out.append(Chair(f"chair {c}", tuple(open_hours), tuple(booked)))
    return tuple(out)


@st.composite
def requests(draw, n: int) -> tuple[Request, ...]:
    out = []
    for i in range(n):
        is_series = draw(st.booleans())
        rules = SeriesRules(count=6, max_per_week=2, min_spacing_hours=draw(st.sampled_from([24, 48])))
        windows: tuple[Interval, ...] = ()
        if draw(st.booleans()):
            d = draw(st.integers(0, 4))
            windows = (Interval(d * 1440 + 8 * 60, d * 1440 + 13 * 60),)
        out.append(
            Request(
                f"p{i}",
                "series infusion" if is_series else "booster",
                draw(st.sampled_from([60, 90, 120])),
                2 if is_series else 1,
                rules,
                earliest_min=draw(st.integers(0, 3)) * 1440 + draw(st.sampled_from([0, 600])),
                windows=windows,
                windows_hard=bool(windows) and draw(st.booleans()),
            )
        )
    return tuple(out)


@st.composite
def weeks(draw) -> Week:
    return Week(draw(chairs(draw(st.integers(1, 2)))), draw(requests(draw(st.integers(1, 6)))))


@settings(max_examples=25)
@given(weeks())
def test_every_proposal_passes_the_checker_and_places_at_least_as_many_as_first_fit(week):
    plan = week_place(week, QUICK)
    desk = week_first_fit(week)
    assert placement_problems(week, plan.placements) == ()
    assert plan.sessions_placed >= desk.sessions_placed
    assert plan.booked_minutes <= plan.open_minutes
    left: Counter[str] = Counter()
    for u in plan.unplaced:
        left[u.patient_id] += u.sessions
        assert u.reason
    placed = Counter(p.patient_id for p in plan.placements)
    for r in week.requests:
        assert placed[r.patient_id] + left[r.patient_id] == r.sessions


@settings(max_examples=25)
@given(weeks(), st.integers(1, 14), st.data())
def test_the_checker_refuses_a_session_moved_off_the_grid_or_onto_another(week, offset, data):
    plan = week_first_fit(week)
    if not plan.placements:
        return
    i = data.draw(st.integers(0, len(plan.placements) - 1))
    moved = list(plan.placements)
    p = moved[i]
    moved[i] = Placement(p.patient_id, p.chair_id, p.start_min + offset, p.end_min + offset)
    assert any("off the 15-minute grid" in x for x in placement_problems(week, moved))
    with pytest.raises(PlacementRefused):
        placement_check(week, moved)
    doubled = [*plan.placements, Placement("intruder", p.chair_id, p.start_min, p.end_min)]
    assert any("overlaps" in x or "no such request" in x for x in placement_problems(week, doubled))
    twice = [*plan.placements, p]
    assert any("overlaps" in x for x in placement_problems(week, twice))


def _most_by_brute_force(week: Week) -> int:
    """The most sessions any placement keeps (every quarter-hour start tried, the checker as the judge)."""
    chair = week.chairs[0]
    slots = [
        (r.patient_id, s, s + r.duration_min)
        for r in week.requests
        for hours in chair.open_hours
        for s in range(hours.start_min, hours.end_min - r.duration_min + 1, 15)
        if s >= r.earliest_min
    ]
    best = 0
    for size in range(1, sum(r.sessions for r in week.requests) + 1):
        for combo in itertools.combinations(slots, size):
            placements = [Placement(p, chair.chair_id, s, e) for p, s, e in combo]
            if not placement_problems(week, placements):
                best = size
                break
        if best < size:
            return best
    return best


@settings(max_examples=10)
@given(
    st.lists(st.integers(0, 2), min_size=2, max_size=2, unique=True),
    st.lists(st.tuples(st.booleans(), st.sampled_from([90, 120]), st.integers(0, 2)), min_size=1, max_size=2),
)
def test_on_tiny_weeks_the_solver_places_as_many_as_the_best_placement_there_is(days, wishes):
    chair = Chair("chair 1", tuple(Interval(d * 1440 + 540, d * 1440 + 780) for d in sorted(days)))
    rules = SeriesRules(count=6, max_per_week=2, min_spacing_hours=24)
    week = Week(
        (chair,),
        tuple(
            Request(f"p{i}", "infusion", minutes, 2 if is_series else 1, rules, earliest_min=day * 1440)
            for i, (is_series, minutes, day) in enumerate(wishes)
        ),
    )
    assert week_place(week, QUICK).sessions_placed == _most_by_brute_force(week)


@settings(max_examples=30)
@given(
    st.sampled_from([(0, 3), (0, 4), (1, 4)]),
    st.integers(4, 95),
    st.integers(4, 95),
    st.integers(1, 2),
)
def test_a_planned_time_is_kept_inside_opening_hours_else_the_nearest_open_start(days, q1, q2, n_chairs):
    # Chairs open 07:00-20:00 on weekdays, nothing else booked, a 2-hour series planned at any quarter hour
    # from 01:00 to 23:45 of two days 3 or 4 apart (48 h spacing always holds): each session starts at its
    # planned time when the chair is open then, else at the nearest start inside the opening hours, which from
    # 01:00 on is the same day's (07:00, or 18:00 to end by 20:00; before 00:30 the evening before is nearer).
    chairs = tuple(
        Chair(f"chair {c}", tuple(Interval(d * 1440 + 7 * 60, d * 1440 + 20 * 60) for d in range(5)))
        for c in range(n_chairs)
    )
    planned = (days[0] * 1440 + q1 * 15, days[1] * 1440 + q2 * 15)
    rules = SeriesRules(count=6, max_per_week=2, min_spacing_hours=48)
    week = Week(chairs, (Request("p", "series infusion", 120, 2, rules, planned_min=planned),))
    plan = week_place(week, QUICK)
    assert placement_problems(week, plan.placements) == ()
    expected = [d * 1440 + min(max(q * 15, 7 * 60), 18 * 60) for d, q in zip(days, (q1, q2), strict=True)]
    assert sorted(p.start_min for p in plan.placements) == expected
