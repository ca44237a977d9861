"""Reads for the administrator's resource pages: the locations they manage, one location's chairs, rooms,
hours and closures ahead, the staff who work there, and a week of its shifts; each in a fixed number of
queries whatever the location holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import user_location_ids
from ketaclinic.core.series import WEEKDAY_NAMES
from ketaclinic.scheduling.models import Closure, OpeningHours, Room, StaffShift


def managed_locations(user: User) -> list[Location]:
    return list(Location.objects.filter(pk__in=user_location_ids(user), active=True).order_by("name"))


def managed_location(*, user: User, code: str) -> Location:
    """One of the user's locations by its code (raises Location.DoesNotExist)."""
    return Location.objects.get(code=code, pk__in=user_location_ids(user))


@dataclass(frozen=True)
class DayRow:
    weekday: int
    name: str
    periods: list[OpeningHours]


@dataclass(frozen=True)
class LocationResources:
    chairs: list[Chair]
    rooms: list[Room]
    week: list[DayRow]
    closures: list[Closure]


def location_resources(location: Location, *, today: date) -> LocationResources:
    """Chairs and rooms (in service first), the week's hours by weekday, closures not yet over: 4 queries."""
    hours = list(OpeningHours.objects.filter(location=location).order_by("weekday", "opens"))
    return LocationResources(
        chairs=list(Chair.objects.filter(location=location).order_by("-active", "name")),
        rooms=list(Room.objects.filter(location=location).order_by("-active", "name")),
        week=[DayRow(d, WEEKDAY_NAMES[d], [h for h in hours if h.weekday == d]) for d in range(7)],
        closures=list(Closure.objects.filter(location=location, last_day__gte=today).order_by("first_day")),
    )


def location_staff(location: Location) -> list[User]:
    """Active staff who work at the location, by name (one query)."""
    return list(
        User.objects.filter(locations=location, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
    )


@dataclass(frozen=True)
class ShiftCell:
    shift: StaffShift
    starts: str
    ends: str


@dataclass(frozen=True)
class ShiftDay:
    day: date
    shifts: list[ShiftCell]


@dataclass(frozen=True)
class ShiftWeek:
    monday: date
    days: list[ShiftDay]


def shift_week(location: Location, monday: date) -> ShiftWeek:
    """Monday to Sunday at the location, each day's shifts in start order with their local times: 1 query."""
    tz = ZoneInfo(location.timezone)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    rows = list(
        StaffShift.objects.filter(location=location, start__lt=end, end__gt=start)
        .select_related("user")
        .order_by("start", "user__last_name")
    )
    days = []
    for i in range(7):
        day = monday + timedelta(days=i)
        cells = []
        for s in rows:
            a, b = s.start.astimezone(tz), s.end.astimezone(tz)
            if a.date() == day:
                ends = f"{b:%H:%M}" if b.date() == day else f"{b:%a %H:%M}"
                cells.append(ShiftCell(s, f"{a:%H:%M}", ends))
        days.append(ShiftDay(day, cells))
    return ShiftWeek(monday, days)
