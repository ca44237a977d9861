"""The nearest free starts to offer when a wanted time cannot be booked.

Candidates lie on a 15-minute grid of the wall clock (every zone's offset is a multiple of 15 minutes, so
the grid is the same in UTC) and are tried outward from the wanted start: the same time first, then 15
minutes later, 15 minutes earlier, 30 later, ... A candidate is offered when it is in the future, inside
the opening hours and outside closures, covered by the staff member's shifts (when shifts are given), and
clashes with none of the busy times of the chair or room, the staff member and the patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ketaclinic.core.scheduling.hours import LocationCalendar, hours_problem
from ketaclinic.core.scheduling.intervals import Interval, covered

GRID_MINUTES = 15
HORIZON_DAYS = 14
NO_FREE_SLOTS = "no free time within {days} days"


def on_grid(moment: datetime, minutes: int = GRID_MINUTES) -> datetime:
    """``moment`` rounded down to the grid."""
    step = minutes * 60
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % step, tz=UTC)


def slot_free(
    candidate: Interval,
    *,
    calendar: LocationCalendar,
    busy: Sequence[Interval],
    shifts: Sequence[Interval] | None,
    now: datetime,
) -> bool:
    return (
        candidate.start > now
        and hours_problem(calendar, candidate) is None
        and (shifts is None or covered(candidate, shifts))
        and not any(b.overlaps(candidate) for b in busy)
    )


def nearest_free_slots(
    *,
    want: datetime,
    minutes: int,
    calendar: LocationCalendar,
    busy: Sequence[Interval],
    now: datetime,
    shifts: Sequence[Interval] | None = None,
    n: int = 3,
    horizon_days: int = HORIZON_DAYS,
) -> tuple[datetime, ...]:
    """Up to ``n`` free starts nearest to ``want`` (ties: the later one first), in time order."""
    step = timedelta(minutes=GRID_MINUTES)
    base = on_grid(want)
    found: list[tuple[timedelta, datetime]] = []
    steps = horizon_days * 24 * 60 // GRID_MINUTES
    for k in range(steps + 1):
        for sign in (1, -1) if k else (1,):
            start = base + sign * k * step
            if slot_free(Interval.of(start, minutes), calendar=calendar, busy=busy, shifts=shifts, now=now):
                found.append((abs(start - want), start))
        if len(found) >= n:
            break
    found.sort(key=lambda f: (f[0], -f[1].timestamp()))
    return tuple(sorted(start for _, start in found[:n]))


def slots_words(starts: Sequence[datetime], calendar: LocationCalendar, days: int = HORIZON_DAYS) -> str:
    """``Mon 2026-11-02 11:00, Mon 2026-11-02 11:15`` in the location's zone, or why there are none."""
    if not starts:
        return NO_FREE_SLOTS.format(days=days)
    return ", ".join(f"{s.astimezone(calendar.tz):%a %Y-%m-%d %H:%M}" for s in starts)
