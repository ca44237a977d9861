"""Fill the chairs: CP-SAT's week placement beats (or equals) the first-fit desk on weeks with a known
optimum, keeps hard windows, spacing and the weekly limit, says why a session is left out, and never
returns a placement the independent checker refuses."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.placement import (
    Booking,
    Chair,
    Interval,
    Placement,
    PlacementRefused,
    Request,
    SolverSettings,
    Week,
    clock,
    placement_check,
    solver,
    week_first_fit,
    week_place,
)
from ketaclinic.core.series import SeriesRules

SERIES = SeriesRules(count=6, max_per_week=2, min_spacing_hours=48)
BOOSTER = SeriesRules(count=1, max_per_week=1, min_spacing_hours=48)
FAST = SolverSettings(time_limit_s=1.0)
MON, TUE, WED, THU, FRI = range(5)


def hours(day: int, start_h: float, end_h: float) -> Interval:
    return Interval(day * 1440 + int(start_h * 60), day * 1440 + int(end_h * 60))


def series(patient: str, *, earliest: int = 0, **kw) -> Request:
    return Request(patient, "series infusion", 120, 2, SERIES, earliest_min=earliest, **kw)


def booster(patient: str, **kw) -> Request:
    return Request(patient, "booster", 120, 1, BOOSTER, **kw)


def one_chair(*days: int, booked=()) -> tuple[Chair, ...]:
    return (Chair("chair 1", tuple(hours(d, 9, 11) for d in days), booked=booked),)


def starts(plan, patient: str) -> list[str]:
    return [clock(p.start_min) for p in plan.placements if p.patient_id == patient]


def test_the_solver_fits_a_series_that_first_fit_splits():
    # One chair, one 2-hour slot on Monday, Wednesday and Thursday. The booster asked first: the desk gives
    # it Monday, and the series can then have Wednesday only (Thursday is 24 h later). The optimum gives the
    # series Monday and a later day, and the booster the day left: all three sessions.
    week = Week(one_chair(MON, WED, THU), (booster("booster"), series("series")))
    desk = week_first_fit(week)
    plan = week_place(week, FAST)
    assert desk.sessions_placed == 2
    assert [(u.patient_id, u.sessions) for u in desk.unplaced] == [("series", 1)]
    assert plan.sessions_placed == 3 and plan.unplaced == ()
    # Mon+Wed or Mon+Thu for the series, the booster on the other day: both wait as long in total
    assert starts(plan, "series")[0] == "Mon 09:00"
    assert sorted(p.start_min // 1440 for p in plan.placements) == [MON, WED, THU]
    assert plan.method == "cp-sat: optimal"
    assert plan.utilisation == pytest.approx(1.0)
    assert desk.utilisation == pytest.approx(2 / 3)


def test_sessions_are_packed_together_rather_than_leaving_gaps_in_a_chair_day():
    # Two boosters, one chair open 9-17 on Monday; booster b may not start before 13:00. Compact: a at 11:00,
    # b at 13:00 (no idle chair time), not a at 9:00 with two idle hours before b.
    week = Week(
        (Chair("chair 1", (hours(MON, 9, 17),)),),
        (booster("a"), booster("b", earliest_min=13 * 60)),
    )
    plan = week_place(week, FAST)
    assert starts(plan, "a") == ["Mon 11:00"] and starts(plan, "b") == ["Mon 13:00"]
    assert plan.idle_minutes == 0
    assert week_first_fit(week).idle_minutes == 120


def test_a_patient_waits_as_little_as_the_chairs_allow():
    week = Week(
        (Chair("chair 1", tuple(hours(d, 9, 17) for d in range(5))),), (series("s", earliest=TUE * 1440),)
    )
    plan = week_place(week, FAST)
    assert starts(plan, "s") == ["Tue 09:00", "Thu 09:00"]


def test_hard_windows_are_kept_even_when_a_session_is_left_out():
    # Mornings only (9-13): two 2-hour sessions fit in Monday's morning, the third is left out although
    # the chair is free all afternoon; with the same windows soft, all three are placed.
    mornings = (hours(MON, 9, 13),)
    chairs = (Chair("chair 1", (hours(MON, 9, 17),)),)
    hard = Week(chairs, tuple(booster(f"m{i}", windows=mornings, windows_hard=True) for i in range(3)))
    plan = week_place(hard, FAST)
    assert plan.sessions_placed == 2
    assert all(p.end_min <= 13 * 60 for p in plan.placements)
    assert [(u.sessions, u.reason) for u in plan.unplaced] == [
        (1, "the chairs are full: no free 120-min slot is left")
    ]
    soft = Week(chairs, tuple(booster(f"m{i}", windows=mornings) for i in range(3)))
    assert week_place(soft, FAST).sessions_placed == 3


def test_soft_windows_are_preferred_but_not_required():
    mornings = (hours(MON, 9, 12), hours(TUE, 9, 12))
    week = Week(
        (Chair("chair 1", (hours(MON, 9, 17),)),),
        (booster("any"), booster("likes mornings", windows=mornings)),
    )
    plan = week_place(week, FAST)
    assert starts(plan, "likes mornings") == ["Mon 09:00"]
    assert starts(plan, "any") == ["Mon 11:00"]
    crowded = Week(week.chairs, tuple(booster(f"m{i}", windows=mornings) for i in range(3)))
    assert week_place(crowded, FAST).sessions_placed == 3  # one goes in the afternoon


def test_fixed_bookings_are_kept_and_counted():
    fixed = (Booking(hours(MON, 9, 11), patient_id="series"),)
    week = Week(one_chair(MON, TUE, WED, THU, booked=fixed), (series("series"), booster("other")))
    plan = week_place(week, FAST)
    # one session already booked Monday: one more, 48 h later at the earliest; the booster takes Tuesday
    assert starts(plan, "series") == ["Wed 09:00"]
    assert starts(plan, "other") == ["Tue 09:00"]
    assert plan.booked_minutes == 3 * 120


def test_the_weekly_limit_caps_what_is_placed_and_says_so():
    fixed = (Booking(hours(MON, 9, 11), patient_id="p"), Booking(hours(WED, 9, 11), patient_id="p"))
    week = Week(one_chair(MON, WED, FRI, booked=fixed), (series("p"),))
    plan = week_place(week, FAST)
    assert plan.placements == ()
    (left,) = plan.unplaced
    assert left.sessions == 2 and "at most 2 a week" in left.reason


def test_a_series_that_cannot_keep_its_spacing_gets_one_session_and_the_reason():
    week = Week(one_chair(MON, TUE), (series("s"),))
    plan = week_place(week, FAST)
    assert plan.sessions_placed == 1
    assert "only 1 session(s) 48 h apart fit" in plan.unplaced[0].reason


def test_no_open_chair_is_reported_in_words():
    week = Week(one_chair(MON), (booster("late", earliest_min=TUE * 1440),))
    plan = week_place(week, FAST)
    assert plan.placements == ()
    assert plan.unplaced[0].reason.startswith("no chair is open for 120 min from Tue 00:00")


def test_the_solver_is_deterministic():
    week = Week(
        tuple(Chair(f"c{i}", tuple(hours(d, 9, 15) for d in range(5))) for i in range(2)),
        tuple(series(f"s{i}", earliest=(i % 3) * 1440) for i in range(5))
        + tuple(booster(f"b{i}") for i in range(4)),
    )
    first = week_place(week, FAST)
    assert all(week_place(week, FAST) == first for _ in range(2))


# --- the checker refuses broken placements -------------------------------------------------------------

CHECKED = Week(
    (Chair("chair 1", (hours(MON, 9, 17), hours(WED, 9, 17)), booked=(Booking(hours(MON, 15, 17)),)),),
    (series("s"), booster("b", windows=(hours(MON, 9, 12),), windows_hard=True)),
)
GOOD = (Placement("s", "chair 1", 9 * 60, 11 * 60), Placement("b", "chair 1", 11 * 60 - 60 + 60, 13 * 60))


def test_the_checker_accepts_a_valid_placement():
    placement_check(
        CHECKED,
        [
            Placement("s", "chair 1", 9 * 60, 11 * 60),
            Placement("s", "chair 1", 2 * 1440 + 9 * 60, 2 * 1440 + 11 * 60),
        ],
    )


@pytest.mark.parametrize(
    ("placements", "problem"),
    [
        ([Placement("s", "chair 1", 8 * 60, 10 * 60)], "outside the chair's opening hours"),
        ([Placement("s", "chair 1", 16 * 60, 18 * 60)], "outside the chair's opening hours"),
        ([Placement("s", "chair 1", 14 * 60, 16 * 60)], "overlaps a fixed booking"),
        ([Placement("s", "chair 1", 9 * 60 + 5, 11 * 60 + 5)], "off the 15-minute grid"),
        ([Placement("s", "chair 1", 9 * 60, 10 * 60)], "lasts 60 min, not 120"),
        ([Placement("s", "chair 2", 9 * 60, 11 * 60)], "no such chair"),
        ([Placement("x", "chair 1", 9 * 60, 11 * 60)], "no such request"),
        ([Placement("b", "chair 1", 11 * 60, 13 * 60)], "outside the patient's required windows"),
        (
            [Placement("s", "chair 1", 9 * 60, 11 * 60), Placement("b", "chair 1", 10 * 60, 12 * 60)],
            "overlaps b in chair 1",
        ),
        (
            [Placement("s", "chair 1", 9 * 60, 11 * 60), Placement("s", "chair 1", 11 * 60, 13 * 60)],
            "2 h apart; the protocol sets at least 48 h",
        ),
        (
            [Placement("b", "chair 1", 9 * 60, 11 * 60)] * 1
            + [Placement("b", "chair 1", 2 * 1440 + 9 * 60, 2 * 1440 + 11 * 60)],
            "asked for 1",
        ),
    ],
)
def test_the_checker_refuses_a_broken_placement(placements, problem):
    with pytest.raises(PlacementRefused) as refused:
        placement_check(CHECKED, placements)
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_the_checker_refuses_more_than_the_weekly_limit():
    week = Week(one_chair(MON, WED, FRI), (Request("p", "series", 120, 3, SERIES),))
    three = [Placement("p", "chair 1", d * 1440 + 540, d * 1440 + 660) for d in (MON, WED, FRI)]
    with pytest.raises(PlacementRefused, match="at most 2"):
        placement_check(week, three)


def test_bad_input_is_refused_with_the_field():
    with pytest.raises(ValidationError) as bad:
        Chair("c", (hours(MON, 9, 12), hours(MON, 11, 14)))
    assert bad.value.field == "open_hours"
    with pytest.raises(ValidationError):
        Week(one_chair(MON), (booster("p"), booster("p")))
    with pytest.raises(ValidationError):
        Interval(600, 600)
    with pytest.raises(ValidationError):
        booster("p", windows_hard=True)


# --- the solver's answer is never trusted unchecked -----------------------------------------------------


def test_a_broken_answer_from_the_solver_is_refused_not_returned(monkeypatch):
    week = Week(one_chair(MON, WED, THU), (booster("a"), booster("b")))
    clash = [Placement("a", "chair 1", 540, 660), Placement("b", "chair 1", 600, 720)]
    monkeypatch.setattr(solver._WeekModel, "solve", lambda self, baseline: ("cp-sat: optimal", clash))
    with pytest.raises(PlacementRefused, match="overlaps"):
        week_place(week, FAST)


def test_when_the_solver_finds_nothing_or_less_the_desk_placement_is_returned(monkeypatch):
    week = Week(one_chair(MON, WED, THU), (booster("a"), booster("b")))
    monkeypatch.setattr(solver._WeekModel, "solve", lambda self, baseline: None)
    plan = week_place(week, FAST)
    assert plan.method.startswith("first-fit") and plan.sessions_placed == 2
    monkeypatch.setattr(solver._WeekModel, "solve", lambda self, baseline: ("cp-sat: optimal", baseline[:1]))
    plan = week_place(week, FAST)
    assert plan.method.startswith("first-fit") and plan.sessions_placed == 2


def test_a_series_crowded_out_is_told_the_chairs_are_full_with_its_spacing():
    # two slots, two series: one series gets both (less waiting than one each), the other is told why
    week = Week(one_chair(MON, WED), (series("first"), series("second")))
    plan = week_place(week, FAST)
    assert plan.sessions_placed == 2
    assert [(u.patient_id, u.reason) for u in plan.unplaced] == [
        (
            "second",
            "the chairs are full: no free 120-min slot is left "
            "that keeps 48 h from the patient's other sessions",
        )
    ]


def test_a_run_cut_short_by_the_work_limit_gives_the_same_proposal_every_time():
    fixed = tuple(Booking(hours(d, 10.25, 12.25)) for d in (MON, TUE, THU))
    week = Week(
        tuple(
            Chair(f"c{i}", tuple(hours(d, 9, 18) for d in range(5)), booked=fixed if i == 0 else ())
            for i in range(3)
        ),
        tuple(series(f"s{i}", earliest=(i % 3) * 1440) for i in range(8))
        + tuple(booster(f"b{i}", windows=(hours(i % 5, 9, 13),)) for i in range(6)),
    )
    cut_short = SolverSettings(time_limit_s=30, work_limit=0.05)
    first = week_place(week, cut_short)
    assert week_place(week, cut_short) == first
    assert first.sessions_placed == 22


def clinic_day_chairs(n: int = 1, booked=()) -> tuple[Chair, ...]:
    """Chairs open 07:00-20:00 Monday to Friday, as the demo's clinics are."""
    return tuple(
        Chair(f"chair {i + 1}", tuple(hours(d, 7, 20) for d in range(5)), booked=booked if i == 0 else ())
        for i in range(n)
    )


def test_a_series_planned_at_13_00_is_proposed_at_13_00_not_at_opening_time():
    # The pathway's finding: a plan at 13:00 on Tuesday and Friday was proposed at 07:00, the opening time,
    # because the objective counted waiting from the start of the day and knew nothing of the plan's time.
    planned = (TUE * 1440 + 13 * 60, FRI * 1440 + 13 * 60)
    week = Week(clinic_day_chairs(2), (series("planned", earliest=TUE * 1440, planned_min=planned),))
    plan = week_place(week, FAST)
    assert starts(plan, "planned") == ["Tue 13:00", "Fri 13:00"]


def test_a_planned_time_already_taken_moves_to_the_nearest_free_start():
    # 12:00-14:00 on Tuesday is a fixed booking in the only chair: 14:00 is one hour away, 10:00 three
    taken = (Booking(hours(TUE, 12, 14)),)
    planned = (TUE * 1440 + 13 * 60, FRI * 1440 + 13 * 60)
    week = Week(
        clinic_day_chairs(1, booked=taken), (series("planned", earliest=TUE * 1440, planned_min=planned),)
    )
    plan = week_place(week, FAST)
    assert starts(plan, "planned") == ["Tue 14:00", "Fri 13:00"]


def test_the_planned_time_outweighs_packing_the_chair_beside_another_session():
    # A booster at 07:00 in the only chair: packing the series next to it (09:00) would save idle chair time,
    # but the patient planned 15:00; the proposal keeps 15:00.
    taken = (Booking(hours(WED, 7, 9), patient_id="other"),)
    planned = (WED * 1440 + 15 * 60,)
    request = Request("planned", "booster", 120, 1, BOOSTER, earliest_min=WED * 1440, planned_min=planned)
    plan = week_place(Week(clinic_day_chairs(1, booked=taken), (request,)), FAST)
    assert starts(plan, "planned") == ["Wed 15:00"]


@pytest.mark.parametrize(
    ("planned", "why"),
    [((-15,), "outside the week"), ((7 * 1440,), "outside the week"), ((600, 300), "in time order")],
)
def test_planned_starts_outside_the_week_or_out_of_order_are_refused(planned, why):
    with pytest.raises(ValidationError, match=why) as refused:
        series("p", planned_min=planned)
    assert refused.value.field == "planned_min"
