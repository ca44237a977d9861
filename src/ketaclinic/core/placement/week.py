"""The week to fill: chairs with opening hours and fixed bookings, requests for sessions, and the result.

Time is an integer number of **minutes since the start of the week** (Monday 00:00) in the location's
local time zone. The caller converts (aware datetimes to minutes before, minutes to datetimes after, with
``zoneinfo``), so the core needs no time zone and a daylight-saving change is the caller's arithmetic.
Intervals are half-open: ``[start_min, end_min)``.

A request is one patient's wish for sessions this week. Its spacing and weekly limit come from the plan's
:class:`~ketaclinic.core.series.SeriesRules` (``min_spacing_hours`` between the *starts* of two sessions,
``max_per_week`` in the calendar week), the same rules :func:`~ketaclinic.core.series.check_slot` keeps.
Preferred windows (e.g. mornings only) are **hard** when ``windows_hard`` is true (a session outside them
is never proposed) and **soft** otherwise (a session outside them costs the objective, see
:mod:`ketaclinic.core.placement.solver`). ``planned_min`` are the plan's own starts of the sessions, in
order (the time of day the prescriber chose with the patient): the solver keeps each session as near its
planned start as it can (a shift from it costs the objective).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.series import SeriesRules

WEEK_MINUTES = 7 * 24 * 60
GRID_MINUTES = 15  # sessions start on a quarter-hour grid from the week's start
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def clock(minute: int) -> str:
    """``minute`` since the week's start as a desk reads it: ``Tue 09:30``."""
    day, rest = divmod(minute, 1440)
    name = DAY_NAMES[day] if 0 <= day < 7 else f"day {day + 1}"
    return f"{name} {rest // 60:02d}:{rest % 60:02d}"


@dataclass(frozen=True, order=True)
class Interval:
    start_min: int
    end_min: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_min < self.end_min <= WEEK_MINUTES:
            raise ValidationError(
                f"Interval {self.start_min}-{self.end_min} min must start before it ends, "
                f"within the week (0-{WEEK_MINUTES} min).",
                field="interval",
                value=(self.start_min, self.end_min),
            )

    @property
    def minutes(self) -> int:
        return self.end_min - self.start_min

    def contains(self, start_min: int, end_min: int) -> bool:
        return self.start_min <= start_min and end_min <= self.end_min

    def overlaps(self, start_min: int, end_min: int) -> bool:
        return start_min < self.end_min and self.start_min < end_min


def _disjoint(intervals: tuple[Interval, ...], what: str, field_name: str) -> None:
    ordered = sorted(intervals)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start_min < a.end_min:
            raise ValidationError(
                f"{what} {clock(a.start_min)}-{clock(a.end_min)} and {clock(b.start_min)}-"
                f"{clock(b.end_min)} overlap.",
                field=field_name,
                value=(a, b),
            )


@dataclass(frozen=True)
class Booking:
    """A fixed appointment in a chair (kept as it is); ``patient_id`` is empty when it is not a patient's
    (a blocked chair, another service). A patient's booking counts against their spacing and weekly limit."""

    interval: Interval
    patient_id: str = ""


@dataclass(frozen=True)
class Chair:
    chair_id: str
    open_hours: tuple[Interval, ...]
    booked: tuple[Booking, ...] = ()

    def __post_init__(self) -> None:
        _disjoint(self.open_hours, f"Opening hours of chair {self.chair_id}", "open_hours")
        _disjoint(tuple(b.interval for b in self.booked), f"Bookings in chair {self.chair_id}", "booked")

    @property
    def open_minutes(self) -> int:
        return sum(i.minutes for i in self.open_hours)


@dataclass(frozen=True)
class Request:
    """One patient's sessions wanted this week, in arrival order (first-fit books them in this order)."""

    patient_id: str
    kind: str  # what the desk calls it: "series infusion", "booster"
    duration_min: int  # chair time, observation included (e.g. 120)
    sessions: int  # wanted this week (a series wants 2)
    rules: SeriesRules
    earliest_min: int = 0  # not before (e.g. the plan's start)
    windows: tuple[Interval, ...] = ()  # preferred windows; empty = any time the chair is open
    windows_hard: bool = False
    planned_min: tuple[int, ...] = ()  # the plan's starts of the sessions in order; empty = none planned

    def __post_init__(self) -> None:
        if not 0 < self.duration_min <= 24 * 60:
            raise ValidationError(
                f"Duration {self.duration_min} min of {self.patient_id} is outside 1-1440 min.",
                field="duration_min",
                value=self.duration_min,
            )
        if self.sessions < 1:
            raise ValidationError(
                f"{self.patient_id} asks for {self.sessions} sessions; at least 1.",
                field="sessions",
                value=self.sessions,
            )
        if not 0 <= self.earliest_min < WEEK_MINUTES:
            raise ValidationError(
                f"Earliest start {self.earliest_min} min of {self.patient_id} is outside the week.",
                field="earliest_min",
                value=self.earliest_min,
            )
        bad = [m for m in self.planned_min if not 0 <= m < WEEK_MINUTES]
        if bad:
            raise ValidationError(
                f"Planned start {bad[0]} min of {self.patient_id} is outside the week "
                f"(0-{WEEK_MINUTES} min).",
                field="planned_min",
                value=bad[0],
            )
        if list(self.planned_min) != sorted(self.planned_min):
            raise ValidationError(
                f"Planned starts of {self.patient_id} must be in time order; "
                f"{list(self.planned_min)} is not.",
                field="planned_min",
                value=self.planned_min,
            )
        if self.windows_hard and not self.windows:
            raise ValidationError(
                f"{self.patient_id}: hard windows need at least one window.", field="windows", value=()
            )

    @property
    def spacing_min(self) -> int:
        return self.rules.min_spacing_hours * 60


@dataclass(frozen=True)
class Week:
    chairs: tuple[Chair, ...]
    requests: tuple[Request, ...]

    def __post_init__(self) -> None:
        for what, ids in (
            ("chair", [c.chair_id for c in self.chairs]),
            ("request for patient", [r.patient_id for r in self.requests]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValidationError(
                    f"More than one {what} {', '.join(dupes)}: one each.", field=what, value=dupes
                )

    @property
    def open_minutes(self) -> int:
        return sum(c.open_minutes for c in self.chairs)

    def patient_bookings(self, patient_id: str) -> tuple[Interval, ...]:
        """The patient's fixed bookings this week, in any chair, in time order."""
        found = [b.interval for c in self.chairs for b in c.booked if b.patient_id == patient_id]
        return tuple(sorted(found))

    def wanted(self, request: Request) -> int:
        """Sessions to place: what is asked, capped by the weekly limit less what is already booked."""
        room = request.rules.max_per_week - len(self.patient_bookings(request.patient_id))
        return max(0, min(request.sessions, room))


@dataclass(frozen=True)
class Placement:
    patient_id: str
    chair_id: str
    start_min: int
    end_min: int


@dataclass(frozen=True)
class Unplaced:
    patient_id: str
    sessions: int  # how many of the wanted sessions were not placed
    reason: str


@dataclass(frozen=True)
class WeekPlan:
    """A proposal: what goes where, what could not, and how full the chairs are."""

    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    booked_minutes: int  # fixed bookings within opening hours plus placed sessions
    open_minutes: int
    method: str  # "cp-sat optimal", "cp-sat feasible", "first-fit", ...
    idle_minutes: int = field(default=0)  # chair time left empty between a chair-day's first and last session

    @property
    def utilisation(self) -> float:
        """Booked chair-minutes / open chair-minutes (0 when nothing is open)."""
        return self.booked_minutes / self.open_minutes if self.open_minutes else 0.0

    @property
    def sessions_placed(self) -> int:
        return len(self.placements)
