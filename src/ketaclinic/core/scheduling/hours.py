"""Opening hours per weekday and closures of a location, read on the location's wall clock.

An appointment is inside the hours when, in the location's time zone, it starts and ends on the same day,
that day is not closed, and it lies within one of that weekday's opening periods. Wall-clock comparison is
what makes it DST-safe: on the morning clocks change, "09:00-17:00" still means nine to five local time,
though the day is 23 or 25 hours long.

>>> from datetime import datetime, time, timedelta
>>> from zoneinfo import ZoneInfo
>>> ny = ZoneInfo("America/New_York")
>>> week = LocationCalendar(tz=ny, hours=(DayHours(0, time(9), time(17)),))
>>> start = datetime(2026, 11, 2, 9, tzinfo=ny)  # a Monday
>>> hours_problem(week, Interval(start, start + timedelta(hours=2))) is None
True
>>> hours_problem(week, Interval(start + timedelta(days=1), start + timedelta(days=1, hours=2)))
'Tue 2026-11-03 09:00-11:00 is outside the opening hours: closed on Tuesdays.'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, tzinfo

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.scheduling.intervals import Interval
from ketaclinic.core.series import WEEKDAY_NAMES

CLOSED_DAY = "{when} is outside the opening hours: closed on {weekday}s."
OUTSIDE_HOURS = "{when} is outside the opening hours: open {hours} on {weekday}s."
CLOSED_FOR = "{when} falls in a closure ({reason}, {first} to {last}): the location is closed."
OVERNIGHT = "{when} runs past midnight; an appointment starts and ends on the same day."
HOURS_ORDER = "Opening hours on {weekday}s close at {closes}, before they open at {opens}."
WEEKDAY_RANGE = "Weekday {value} is unknown: 0 (Monday) to 6 (Sunday)."
CLOSURE_ORDER = "A closure ending on {last} must not end before it starts ({first})."


@dataclass(frozen=True, slots=True)
class DayHours:
    """One opening period of a weekday (0 Monday .. 6 Sunday); a day may have several (a lunch break)."""

    weekday: int
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValidationError(
                WEEKDAY_RANGE.format(value=self.weekday), field="weekday", value=self.weekday
            )
        if self.closes <= self.opens:
            raise ValidationError(
                HOURS_ORDER.format(
                    weekday=WEEKDAY_NAMES[self.weekday],
                    opens=f"{self.opens:%H:%M}",
                    closes=f"{self.closes:%H:%M}",
                ),
                field="closes",
                value=self.closes,
            )


@dataclass(frozen=True, slots=True)
class Closure:
    """Whole days the location is closed, ``first`` to ``last`` inclusive (a holiday, a training day)."""

    first: date
    last: date
    reason: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValidationError(
                CLOSURE_ORDER.format(first=self.first.isoformat(), last=self.last.isoformat()),
                field="last_day",
                value=self.last,
            )


@dataclass(frozen=True, slots=True)
class LocationCalendar:
    tz: tzinfo
    hours: Sequence[DayHours]
    closures: Sequence[Closure] = ()


def span_words(interval: Interval, tz: tzinfo) -> str:
    """``Mon 2026-11-02 09:00-11:00`` in the location's zone (the end's date added if it differs)."""
    a, b = interval.start.astimezone(tz), interval.end.astimezone(tz)
    end = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%a %Y-%m-%d %H:%M}"
    return f"{a:%a %Y-%m-%d %H:%M}-{end}"


def hours_problem(calendar: LocationCalendar, interval: Interval) -> str | None:
    """Why ``interval`` cannot be booked at this location (None when it can)."""
    tz = calendar.tz
    a, b = interval.start.astimezone(tz), interval.end.astimezone(tz)
    when = span_words(interval, tz)
    day = a.date()
    if b.date() != day:
        return OVERNIGHT.format(when=when)
    for c in calendar.closures:
        if c.first <= day <= c.last:
            return CLOSED_FOR.format(
                when=when, reason=c.reason, first=c.first.isoformat(), last=c.last.isoformat()
            )
    periods = sorted((h for h in calendar.hours if h.weekday == day.weekday()), key=lambda h: h.opens)
    weekday = WEEKDAY_NAMES[day.weekday()]
    if not periods:
        return CLOSED_DAY.format(when=when, weekday=weekday)
    start_t, end_t = a.time(), b.time()
    if any(p.opens <= start_t and end_t <= p.closes for p in periods):
        return None
    opening = ", ".join(f"{p.opens:%H:%M}-{p.closes:%H:%M}" for p in periods)
    return OUTSIDE_HOURS.format(when=when, hours=opening, weekday=weekday)


def check_hours(calendar: LocationCalendar, interval: Interval) -> None:
    problem = hours_problem(calendar, interval)
    if problem is not None:
        raise ValidationError(problem, field="start", value=interval.start)


HOURS_OVERLAP = (
    "{weekday}s {opens}-{closes} overlaps the opening hours already set for {weekday}s ({other}); "
    "a day's periods must not overlap. Change or remove that period first."
)


def check_new_period(existing: Sequence[DayHours], new: DayHours) -> None:
    """Refuse ``new`` when it shares a minute with another period of the same weekday (a period ending at
    12:00 and one opening at 12:00 touch, and do not overlap)."""
    for other in existing:
        if other.weekday == new.weekday and other.opens < new.closes and new.opens < other.closes:
            raise ValidationError(
                HOURS_OVERLAP.format(
                    weekday=WEEKDAY_NAMES[new.weekday],
                    opens=f"{new.opens:%H:%M}",
                    closes=f"{new.closes:%H:%M}",
                    other=f"{other.opens:%H:%M}-{other.closes:%H:%M}",
                ),
                field="opens",
                value=f"{new.opens:%H:%M}",
            )
