"""The week calendar page's read: for each day of a location's week, one track per chair, room and member of
staff from the opening of the earliest day to the closing of the latest, each appointment a block placed on
it (the location's wall clock), staff shifts under their appointments, closed time and closures shaded, and
each infusion's day-before preparation answer as the desk reads it. Built on ``selectors.week_grid`` (its
queries are fixed whatever the week holds), so the page's query count does not grow with the bookings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.selectors import Lane, WeekGrid, week_grid

LOCATION_NOT_YOURS = "You do not work at {value}; the calendar shows your own locations."
DEFAULT_OPENS, DEFAULT_CLOSES = time(8), time(18)

# The preparation badge: (css class, words for the desk, what it means)
PREP_CONFIRMED = ("prep-ok", "Prepared", "The patient confirmed the preparation and named a driver.")
PREP_PROBLEM = ("prep-problem", "Problem reported", "The patient answered with a problem: call them.")
PREP_NOT_ANSWERED = ("prep-wait", "Not answered", "The reminder was sent; no answer yet.")
PREP_NOT_CONFIRMED = ("prep-none", "Not confirmed", "No reminder answered yet.")
PREP_NOT_SENT = ("prep-problem", "Not confirmed", "No reminder could be sent: call the patient.")


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class Span:
    """A stretch of a day's track, as percentages of the track's width."""

    left: float
    width: float


@dataclass(frozen=True)
class Block:
    appointment: Appointment
    span: Span
    start: datetime  # local
    end: datetime

    @property
    def preparation(self) -> tuple[str, str, str] | None:
        """The day-before answer of an infusion (the reminders app's row for the appointment's present start:
        a reminder of the time before a move is not it), None for other types."""
        a = self.appointment
        if not a.type.is_infusion:
            return None
        current = [r for r in a.reminders.all() if r.starts_at == a.start]
        check = max(current, key=lambda r: r.created_at, default=None)
        if check is None:
            return PREP_NOT_CONFIRMED
        if check.status == "confirmed":
            return PREP_CONFIRMED
        if check.status == "problem":
            return (PREP_PROBLEM[0], PREP_PROBLEM[1], "; ".join(check.problems) or PREP_PROBLEM[2])
        if check.status == "not_sent" or (check.message is not None and check.message.status == "failed"):
            return PREP_NOT_SENT
        return PREP_NOT_ANSWERED


@dataclass(frozen=True)
class Held:
    """A signed plan's slot not yet booked: it holds its chair (drawn hatched) until the desk books it."""

    slot: PlannedInfusion
    span: Span
    start: datetime  # local
    end: datetime


@dataclass(frozen=True)
class Row:
    kind: str  # chair, room, staff
    name: str
    blocks: list[Block]
    shifts: list[Span]
    held: list[Held] = field(default_factory=list)


@dataclass(frozen=True)
class Day:
    day: date
    hours: str  # "08:00-18:00", or "" when closed
    closure: str  # the closure's reason, or ""
    shaded: list[Span]  # the track's closed time
    rows: list[Row]
    is_today: bool
    unplaced: list[Held] = field(default_factory=list)  # held slots naming no chair (home visits)

    @property
    def bookings(self) -> int:
        return sum(len(r.blocks) for r in self.rows if r.kind != "staff")

    @property
    def held(self) -> int:
        return sum(len(r.held) for r in self.rows) + len(self.unplaced)


@dataclass(frozen=True)
class CalendarWeek:
    location: Location
    monday: date
    days: list[Day]
    ruler: list[tuple[str, Span]]  # hour marks along the track
    patients: list[Patient]  # the patients the page names, for the read audit

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=7)


class _Track:
    """A day's track from ``first`` to ``last`` minute of the local day."""

    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, max(last, first + 60)

    def span(self, start_min: int, end_min: int) -> Span | None:
        a, b = max(start_min, self.first), min(end_min, self.last)
        if b <= a:
            return None
        total = self.last - self.first
        return Span(round(100 * (a - self.first) / total, 2), round(100 * (b - a) / total, 2))


def _local_minutes(day: date, moment: datetime, tz: ZoneInfo) -> int:
    local = moment.astimezone(tz)
    return (local.date() - day).days * 1440 + local.hour * 60 + local.minute


def _held(slots: list[PlannedInfusion], day: date, tz: ZoneInfo, track: _Track) -> list[Held]:
    found = []
    for p in slots:
        start, end = p.scheduled_start, p.scheduled_end
        span = track.span(_local_minutes(day, start, tz), _local_minutes(day, end, tz))
        if span is not None:
            found.append(Held(p, span, start.astimezone(tz), end.astimezone(tz)))
    return found


def _row(lane: Lane, day: date, tz: ZoneInfo, track: _Track) -> Row:
    blocks = []
    for a in lane.appointments:
        span = track.span(_local_minutes(day, a.start, tz), _local_minutes(day, a.end, tz))
        if span is not None:
            blocks.append(Block(a, span, a.start.astimezone(tz), a.end.astimezone(tz)))
    shifts = [
        s
        for s in (
            track.span(_local_minutes(day, sh.start, tz), _local_minutes(day, sh.end, tz))
            for sh in lane.shifts
        )
        if s is not None
    ]
    return Row(lane.kind, lane.name, blocks, shifts, _held(lane.held, day, tz, track))


def _day(grid: WeekGrid, day: date, tz: ZoneInfo, track: _Track, today: date) -> Day:
    hours = sorted((h for h in grid.hours if h.weekday == day.weekday()), key=lambda h: h.opens)
    closure = next((c.reason for c in grid.closures if c.first_day <= day <= c.last_day), "")
    open_spans = [] if closure else [(_minutes(h.opens), _minutes(h.closes)) for h in hours]
    shaded, at = [], track.first
    for opens, closes in open_spans:
        if opens > at and (s := track.span(at, opens)) is not None:
            shaded.append(s)
        at = max(at, closes)
    if at < track.last and (s := track.span(at, track.last)) is not None:
        shaded.append(s)
    lanes = [*grid.chairs, *grid.rooms]
    rows = [_row(lane, day, tz, track) for lane in lanes]
    # a staff member appears on the days they are on shift or booked
    rows += [r for r in (_row(lane, day, tz, track) for lane in grid.staff) if r.blocks or r.shifts]
    words = ", ".join(f"{h.opens:%H:%M}-{h.closes:%H:%M}" for h in hours) if not closure else ""
    return Day(day, words, closure, shaded, rows, day == today, _held(list(grid.unplaced), day, tz, track))


def calendar_week(*, user: User, location: Location, monday: date) -> CalendarWeek:
    """The week from ``monday`` at ``location`` (one of the user's), ready to draw."""
    require(user, Permission.CALENDAR_VIEW)
    if location.pk not in user_location_ids(user):
        raise PermissionDenied(LOCATION_NOT_YOURS.format(value=location.name))
    tz = ZoneInfo(location.timezone)
    grid = week_grid(location, monday)
    first = min((_minutes(h.opens) for h in grid.hours), default=_minutes(DEFAULT_OPENS))
    last = max((_minutes(h.closes) for h in grid.hours), default=_minutes(DEFAULT_CLOSES))
    track = _Track(first - first % 60, last + (-last) % 60)
    today = timezone.now().astimezone(tz).date()
    days = [_day(grid, d, tz, track, today) for d in grid.days]
    ruler = [
        (f"{m // 60:02d}:00", span)
        for m in range(track.first, track.last, 60)
        if (span := track.span(m, m + 60)) is not None
    ]
    patients = list(
        dict.fromkeys(
            [a.patient for lane in (*grid.chairs, *grid.rooms, *grid.staff) for a in lane.appointments]
            + [p.plan.patient for lane in grid.chairs for p in lane.held]
            + [p.plan.patient for p in grid.unplaced]
        )
    )
    return CalendarWeek(location, monday, days, ruler, patients)
