"""The front desk's pure rules: intervals and clashes, opening hours in the location's zone across the clock
changes, shift cover, what each appointment type needs, and the nearest free starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.scheduling.hours import (
    CLOSED_DAY,
    CLOSED_FOR,
    OUTSIDE_HOURS,
    OVERNIGHT,
    Closure,
    DayHours,
    LocationCalendar,
    check_hours,
    hours_problem,
)
from ketaclinic.core.scheduling.intervals import Booking, Interval, clashes, covered, merged
from ketaclinic.core.scheduling.needs import (
    HOME_NOT_ALLOWED,
    NEEDS_CHAIR,
    NEEDS_ROOM,
    NO_PRESCRIBER_ON_SITE,
    STAFF_LACKS_SKILL,
    AppointmentRules,
    Skill,
    check_prescriber_on_site,
    needs_problem,
)
from ketaclinic.core.scheduling.slots import GRID_MINUTES, nearest_free_slots, slot_free, slots_words

NY = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = tuple(DayHours(d, time(9), time(17)) for d in range(5))
CAL = LocationCalendar(tz=NY, hours=WEEKDAYS_9_TO_5)
MONDAY = date(2026, 11, 2)  # the day after the clocks went back in New York (Sun 2026-11-01)


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = NY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def span(day: date, hour: int, minutes: int, minute: int = 0) -> Interval:
    return Interval.of(at(day, hour, minute), minutes)


# --- intervals


def test_touching_intervals_do_not_clash_and_a_shared_minute_does():
    a = span(MONDAY, 9, 120)
    assert not a.overlaps(span(MONDAY, 11, 60))
    assert a.overlaps(span(MONDAY, 10, 59, minute=59))
    assert clashes(span(MONDAY, 10, 60), [Booking(a, "an infusion"), Booking(span(MONDAY, 12, 30))]) == (
        Booking(a, "an infusion"),
    )


def test_an_interval_must_end_after_it_starts_and_carry_its_zone():
    with pytest.raises(ValidationError, match="must end after it starts"):
        Interval(at(MONDAY, 10), at(MONDAY, 10))
    with pytest.raises(ValidationError, match="has no time zone"):
        Interval(datetime(2026, 11, 2, 9), datetime(2026, 11, 2, 10))


moments = st.integers(min_value=0, max_value=7 * 24 * 4).map(
    lambda q: datetime(2026, 11, 2, tzinfo=UTC) + timedelta(minutes=15 * q)
)
intervals = st.tuples(moments, st.integers(min_value=1, max_value=16)).map(
    lambda t: Interval.of(t[0], 15 * t[1])
)


@given(intervals, intervals)
def test_overlap_is_symmetric_and_means_a_shared_minute(a, b):
    assert a.overlaps(b) == b.overlaps(a)
    shared = max(a.start, b.start) < min(a.end, b.end)
    assert a.overlaps(b) == shared


@given(st.lists(intervals, max_size=8), intervals)
def test_cover_by_the_union_of_shifts_is_cover_minute_by_minute(shifts, wanted):
    minutes = int(wanted.minutes)
    every_minute = all(
        any(s.start <= wanted.start + timedelta(minutes=m) < s.end for s in shifts) for m in range(minutes)
    )
    assert covered(wanted, shifts) == every_minute
    union = merged(shifts)
    assert all(x.end < y.start for x, y in zip(union, union[1:], strict=False))


# --- opening hours


def test_inside_the_hours_on_a_weekday():
    assert hours_problem(CAL, span(MONDAY, 9, 120)) is None
    assert hours_problem(CAL, span(MONDAY, 15, 120)) is None  # ends on the dot at closing


def test_outside_the_hours_is_named_with_the_days_hours_in_local_time():
    assert hours_problem(CAL, span(MONDAY, 16, 120)) == OUTSIDE_HOURS.format(
        when="Mon 2026-11-02 16:00-18:00", hours="09:00-17:00", weekday="Monday"
    )
    assert hours_problem(CAL, span(MONDAY - timedelta(days=2), 10, 60)) == CLOSED_DAY.format(
        when="Sat 2026-10-31 10:00-11:00", weekday="Saturday"
    )
    with pytest.raises(ValidationError) as exc:
        check_hours(CAL, span(MONDAY, 8, 60, minute=45))
    assert exc.value.field == "start"


def test_a_closure_closes_every_day_it_covers():
    cal = LocationCalendar(
        tz=NY,
        hours=WEEKDAYS_9_TO_5,
        closures=(Closure(date(2026, 11, 26), date(2026, 11, 27), "Thanksgiving"),),
    )
    assert hours_problem(cal, span(date(2026, 11, 27), 10, 60)) == CLOSED_FOR.format(
        when="Fri 2026-11-27 10:00-11:00", reason="Thanksgiving", first="2026-11-26", last="2026-11-27"
    )
    assert hours_problem(cal, span(date(2026, 11, 25), 10, 60)) is None
    with pytest.raises(ValidationError, match="must not end before it starts"):
        Closure(date(2026, 11, 27), date(2026, 11, 26), "backwards")


def test_nothing_runs_past_midnight():
    late = LocationCalendar(
        tz=NY, hours=(DayHours(0, time(20), time(23, 59)), DayHours(1, time(0, 1), time(6)))
    )
    assert hours_problem(late, span(MONDAY, 23, 120)) == OVERNIGHT.format(
        when="Mon 2026-11-02 23:00-Tue 2026-11-03 01:00"
    )


def test_hours_are_wall_clock_hours_on_the_days_the_clocks_change():
    """09:00-17:00 is nine to five local time on the Sundays the clocks change (23 and 25 hour days)."""
    sundays = LocationCalendar(tz=NY, hours=(DayHours(6, time(9), time(17)),))
    for day in (date(2026, 3, 8), date(2026, 11, 1)):
        assert hours_problem(sundays, span(day, 9, 480)) is None
        assert hours_problem(sundays, span(day, 9, 481)) is not None
        assert hours_problem(sundays, Interval.of(at(day, 8, 59), 60)) is not None


@given(
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(min_value=0, max_value=95),
    st.integers(min_value=1, max_value=40),
)
def test_inside_the_hours_iff_local_start_and_end_lie_within_them(day, quarter, quarters):
    start = datetime.combine(day, time(quarter // 4, 15 * (quarter % 4)), tzinfo=NY)
    interval = Interval.of(start, 15 * quarters)
    a, b = interval.start.astimezone(NY), interval.end.astimezone(NY)
    expected = a.weekday() < 5 and a.date() == b.date() and time(9) <= a.time() and b.time() <= time(17)
    assert (hours_problem(CAL, interval) is None) == expected


def test_hours_must_open_before_they_close():
    with pytest.raises(ValidationError, match="close at 09:00, before they open at 17:00"):
        DayHours(0, time(17), time(9))
    with pytest.raises(ValidationError, match="Weekday 7 is unknown"):
        DayHours(7, time(9), time(17))


# --- what a type needs

INFUSION = AppointmentRules(
    name="Ketamine infusion",
    duration_minutes=120,
    needs_chair=True,
    skill=Skill.INFUSES,
    prescriber_on_site=True,
    at_home_allowed=True,
)
TMS = AppointmentRules(name="TMS session", duration_minutes=40, needs_room=True, prescriber_on_site=True)
NURSE = frozenset({Skill.INFUSES})


def needs(rules=INFUSION, chair="Chair 1", room=None, at_home=False, skills=NURSE):
    problem = needs_problem(
        rules,
        chair=chair,
        room=room,
        at_home=at_home,
        staff="Ann Lee, RN",
        staff_skills=skills,
        prescriber_present=True,
    )
    return None if problem is None else problem.message


def test_a_type_gets_the_place_and_the_skill_it_needs():
    assert needs() is None
    assert needs(chair=None) == NEEDS_CHAIR.format(type="ketamine infusion")
    assert needs(rules=TMS, chair=None) == NEEDS_ROOM.format(type="tms session")
    assert needs(skills=frozenset({Skill.PRESCRIBES})) == STAFF_LACKS_SKILL.format(
        staff="Ann Lee, RN", skill="gives infusions", type="ketamine infusion"
    )
    assert needs(rules=TMS, chair=None, room="Room A", skills=frozenset()) is None


def test_each_refusal_names_the_field_to_change():
    fields = {
        "chair": needs_problem(
            INFUSION,
            chair=None,
            room=None,
            at_home=False,
            staff="A",
            staff_skills=NURSE,
            prescriber_present=True,
        ),
        "room": needs_problem(
            INFUSION,
            chair="Chair 1",
            room="Room A",
            at_home=False,
            staff="A",
            staff_skills=NURSE,
            prescriber_present=True,
        ),
        "staff": needs_problem(
            INFUSION,
            chair="Chair 1",
            room=None,
            at_home=False,
            staff="A",
            staff_skills=frozenset(),
            prescriber_present=True,
        ),
        "at_home": needs_problem(
            TMS, chair=None, room=None, at_home=True, staff="A", staff_skills=NURSE, prescriber_present=True
        ),
    }
    assert {field: p.field if p else None for field, p in fields.items()} == {f: f for f in fields}
    assert (
        fields["room"] is not None
        and fields["room"].message == "A ketamine infusion needs a chair; choose one."
    )


def test_a_home_visit_needs_a_type_given_at_home_and_someone_who_visits():
    assert needs(chair=None, at_home=True) == STAFF_LACKS_SKILL.format(
        staff="Ann Lee, RN", skill="makes home visits", type="ketamine infusion"
    )
    assert needs(chair=None, at_home=True, skills=NURSE | {Skill.HOME_VISITS}) is None
    assert needs(rules=TMS, chair=None, at_home=True) == HOME_NOT_ALLOWED.format(type="tms session")


def test_a_type_that_needs_a_prescriber_on_site_is_refused_without_one():
    check_prescriber_on_site(TMS, present=True, location="Downtown", when="Mon")
    check_prescriber_on_site(
        AppointmentRules(name="Follow-up", duration_minutes=30), present=False, location="D", when="x"
    )
    with pytest.raises(ValidationError) as exc:
        check_prescriber_on_site(
            INFUSION, present=False, location="Downtown Clinic", when="Mon 2026-11-02 09:00-11:00"
        )
    assert exc.value.message == NO_PRESCRIBER_ON_SITE.format(
        location="Downtown Clinic", when="Mon 2026-11-02 09:00-11:00", type="ketamine infusion"
    )


def test_type_rules_are_checked():
    with pytest.raises(ValidationError, match="outside 5-480 minutes"):
        AppointmentRules(name="x", duration_minutes=600)
    with pytest.raises(ValidationError, match="a chair or a room, not both"):
        AppointmentRules(name="x", duration_minutes=60, needs_chair=True, needs_room=True)


# --- nearest free starts

NOW = at(MONDAY, 7)


def test_the_nearest_free_starts_go_around_the_busy_time():
    busy = [span(MONDAY, 9, 120)]
    got = nearest_free_slots(want=at(MONDAY, 9), minutes=120, calendar=CAL, busy=busy, now=NOW, n=3)
    assert got == (at(MONDAY, 11), at(MONDAY, 11, 15), at(MONDAY, 11, 30))
    assert slots_words(got[:1], CAL) == "Mon 2026-11-02 11:00"


def test_free_starts_keep_hours_shifts_and_the_future():
    shift = [span(MONDAY, 12, 240)]
    got = nearest_free_slots(
        want=at(MONDAY, 9), minutes=60, calendar=CAL, busy=[], now=NOW, shifts=shift, n=2
    )
    assert got == (at(MONDAY, 12), at(MONDAY, 12, 15))
    late = nearest_free_slots(
        want=at(MONDAY, 9), minutes=60, calendar=CAL, busy=[], now=at(MONDAY, 15, 1), n=1
    )
    assert late == (at(MONDAY, 15, 15),)
    closed = LocationCalendar(tz=NY, hours=())
    assert (
        nearest_free_slots(want=at(MONDAY, 9), minutes=60, calendar=closed, busy=[], now=NOW, horizon_days=2)
        == ()
    )
    assert slots_words((), closed) == "no free time within 14 days"


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12)), max_size=6),
    st.integers(0, 40),
    st.integers(1, 12),
)
def test_every_offered_start_is_free_and_none_nearer_was_skipped(busy_q, want_q, length_q):
    day0 = at(MONDAY, 9)
    busy = [Interval.of(day0 + timedelta(minutes=15 * s), 15 * n) for s, n in busy_q]
    want = day0 + timedelta(minutes=15 * want_q)
    minutes = 15 * length_q
    got = nearest_free_slots(
        want=want, minutes=minutes, calendar=CAL, busy=busy, now=NOW, n=3, horizon_days=3
    )
    assert list(got) == sorted(got) and len(got) == 3
    for start in got:
        assert slot_free(Interval.of(start, minutes), calendar=CAL, busy=busy, shifts=None, now=NOW)
        assert (start - day0).total_seconds() % (GRID_MINUTES * 60) == 0
    farthest = max(abs(s - want) for s in got)
    for q in range(-200, 200):  # no free start strictly nearer than the farthest offered was left out
        cand = want + timedelta(minutes=15 * q)
        if abs(cand - want) < farthest and cand not in got:
            assert not slot_free(Interval.of(cand, minutes), calendar=CAL, busy=busy, shifts=None, now=NOW)
