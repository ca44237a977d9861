"""The clinic administrator's writes to a location's resources: chairs and rooms (add, rename, take out of
service, never deleted), opening hours, closures, staff shifts and staff skills. One transaction each,
audited, refused in words naming the value and the rule.

What a change would strand is refused and listed, never silently left behind: a closure over booked
appointments, hours removed from under booked appointments, a chair or room taken out of service with
appointments ahead, a shift removed from under its person's appointments. The desk moves or cancels those
first (the list names each by its kind, time, place and staff member, not by patient: the administrator
may not see patients), then the administrator tries again.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.scheduling.hours import Closure as ClosureRule
from ketaclinic.core.scheduling.hours import (
    DayHours,
    LocationCalendar,
    check_new_period,
    hours_problem,
    span_words,
)
from ketaclinic.core.scheduling.intervals import Interval, covered
from ketaclinic.core.series import WEEKDAY_NAMES
from ketaclinic.scheduling.models import Appointment, Closure, OpeningHours, Room, StaffShift, StaffSkills

NOT_YOUR_LOCATION = "You do not manage {location}; you manage only the locations you work at."
NAME_REQUIRED = "Give the {what} a name."
NAME_TAKEN = "{location} already has a {what} called {name!r}; choose another name."
STILL_BOOKED = "{what}: {count} booked appointment{s} would be left without {lost}: {listed}. {then}"
MOVE_FIRST = "Move or cancel them on the calendar first, then try again."
REASON_REQUIRED = "Give the closure a reason (a holiday, a training day); staff and patients see it."
CLOSURE_TOO_LONG = "A closure of {days} days is more than {limit}; enter a shorter one."
SHIFT_ORDER = "A shift ending at {end} must end after it starts ({start})."
SHIFT_TOO_LONG = "A shift of {hours:g} hours is longer than {limit} hours; split it into two."
SHIFT_NOT_THERE = "{staff} does not work at {location}; add the location to their staff record first."
SHIFT_OVERLAP = "{staff} already has a shift {other} at {location}; a person works one shift at a time."
MAX_CLOSURE_DAYS, MAX_SHIFT_HOURS, LISTED = 366, 16, 5
SKILL_FIELDS = ("infuses", "prescribes", "supervises", "home_visits")

Place = Chair | Room


def _manage(user: User, location: Location) -> None:
    require(user, Permission.STAFF_MANAGE)
    if location.pk not in user_location_ids(user):
        raise PermissionDenied(NOT_YOUR_LOCATION.format(location=location.name))


def _audit(user: User, location: Location, summary: str, detail: dict[str, object]) -> None:
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        summary=summary,
        detail=detail,
        location_code=location.code,
    )


def _listed(rows: list[Appointment], tz: ZoneInfo) -> str:
    """The appointments in words: kind, time, place and staff member (no patient)."""
    words = []
    for a in rows[:LISTED]:
        place = a.chair.name if a.chair else a.room.name if a.room else "at home" if a.at_home else ""
        where = f" in {place}" if place and not a.at_home else f" {place}" if place else ""
        words.append(f"{a.type.name} {span_words(Interval(a.start, a.end), tz)}{where} with {a.staff}")
    more = len(rows) - LISTED
    return "; ".join(words) + (f"; and {more} more" if more > 0 else "")


def _refuse_stranded(what: str, lost: str, rows: list[Appointment], tz: ZoneInfo) -> None:
    if rows:
        raise ValidationError(
            STILL_BOOKED.format(
                what=what,
                count=len(rows),
                s="" if len(rows) == 1 else "s",
                lost=lost,
                listed=_listed(rows, tz),
                then=MOVE_FIRST,
            ),
            field="booked",
            value=len(rows),
        )


def _booked_ahead() -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(status=Appointment.Status.BOOKED, end__gt=timezone.now())
        .select_related("type", "chair", "room", "staff")
        .order_by("start")
    )


# --- chairs and rooms -------------------------------------------------------------------------------------


def _clean_name(name: str, what: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(NAME_REQUIRED.format(what=what), field="name", value=name)
    return name


def _name_free(location: Location, kind: type[Place], name: str, what: str, exclude: int | None) -> None:
    taken = kind.objects.filter(location=location, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationError(
            NAME_TAKEN.format(location=location.name, what=what, name=name), field="name", value=name
        )


def _what(place: Place | type[Place]) -> str:
    return "chair" if place is Chair or isinstance(place, Chair) else "room"


@transaction.atomic
def place_add(*, user: User, location: Location, kind: type[Place], name: str) -> Place:
    """Add a chair or a room to a location."""
    _manage(user, location)
    what = _what(kind)
    name = _clean_name(name, what)
    _name_free(location, kind, name, what, None)
    place = kind(location=location, name=name)
    clean_or_refuse(place)
    place.save()
    _audit(user, location, f"Added {what} {name} at {location.name}", {what: str(place.external_id)})
    return place


@transaction.atomic
def place_rename(*, user: User, place: Place, name: str) -> Place:
    location = place.location
    _manage(user, location)
    what = _what(place)
    place = type(place).objects.select_for_update().get(pk=place.pk)
    name = _clean_name(name, what)
    _name_free(location, type(place), name, what, place.pk)
    before, place.name = place.name, name
    clean_or_refuse(place)
    place.save(update_fields=["name"])
    _audit(
        user,
        location,
        f"Renamed {what} {before} to {name} at {location.name}",
        {what: str(place.external_id), "from": before, "to": name},
    )
    return place


@transaction.atomic
def place_active_set(*, user: User, place: Place, active: bool) -> Place:
    """Put a chair or room back in service, or take it out (refused while appointments ahead use it; a
    chair or room is never deleted: its past appointments keep pointing at it)."""
    location = place.location
    _manage(user, location)
    what = _what(place)
    place = type(place).objects.select_for_update().get(pk=place.pk)
    if place.active == active:
        return place
    if not active:
        rows = list(_booked_ahead().filter(**{what: place}))
        _refuse_stranded(f"{place.name} cannot be taken out of service", f"their {what}", rows, _tz(location))
    place.active = active
    place.save(update_fields=["active"])
    state = "back in service" if active else "out of service"
    _audit(user, location, f"{what.capitalize()} {place.name} at {location.name} {state}", {what: place.name})
    return place


# --- opening hours and closures ---------------------------------------------------------------------------


def _tz(location: Location) -> ZoneInfo:
    return ZoneInfo(location.timezone)


def _calendar(location: Location, hours: list[OpeningHours]) -> LocationCalendar:
    return LocationCalendar(
        tz=_tz(location), hours=tuple(DayHours(h.weekday, h.opens, h.closes) for h in hours)
    )


@transaction.atomic
def hours_add(*, user: User, location: Location, weekday: int, opens: time, closes: time) -> OpeningHours:
    """Add an opening period to a weekday (opens before closes; not overlapping that day's other periods)."""
    _manage(user, location)
    Location.objects.select_for_update().filter(pk=location.pk).first()
    new = DayHours(weekday, opens, closes)
    existing = [
        DayHours(h.weekday, h.opens, h.closes) for h in location.opening_hours.filter(weekday=weekday)
    ]
    check_new_period(existing, new)
    row = OpeningHours(location=location, weekday=weekday, opens=opens, closes=closes)
    clean_or_refuse(row)
    row.save()
    _audit(
        user,
        location,
        f"Opening hours of {location.name}: {WEEKDAY_NAMES[weekday]}s {opens:%H:%M}-{closes:%H:%M} added",
        {"weekday": weekday, "opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}"},
    )
    return row


@transaction.atomic
def hours_remove(*, user: User, hours: OpeningHours) -> None:
    """Remove an opening period; refused while booked appointments ahead would fall outside the hours left."""
    location = hours.location
    _manage(user, location)
    Location.objects.select_for_update().filter(pk=location.pk).first()
    rest = list(location.opening_hours.exclude(pk=hours.pk))
    calendar = _calendar(location, rest)
    tz = _tz(location)
    rows = [
        a
        for a in _booked_ahead().filter(location=location)
        if a.start.astimezone(tz).weekday() == hours.weekday
        and hours_problem(calendar, Interval(a.start, a.end)) is not None
    ]
    words = f"{WEEKDAY_NAMES[hours.weekday]}s {hours.opens:%H:%M}-{hours.closes:%H:%M}"
    _refuse_stranded(f"The hours {words} cannot be removed", "opening hours", rows, tz)
    hours.delete()
    _audit(user, location, f"Opening hours of {location.name}: {words} removed", {"weekday": hours.weekday})


@transaction.atomic
def closure_add(*, user: User, location: Location, first_day: date, last_day: date, reason: str) -> Closure:
    """Close a location for whole days. Refused, listing them, while booked appointments fall on those days:
    the desk moves or cancels them first (a closure never leaves a patient booked on a closed day)."""
    _manage(user, location)
    Location.objects.select_for_update().filter(pk=location.pk).first()
    rule = ClosureRule(first_day, last_day, (reason or "").strip())
    if not rule.reason:
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    days = (last_day - first_day).days + 1
    if days > MAX_CLOSURE_DAYS:
        raise ValidationError(
            CLOSURE_TOO_LONG.format(days=days, limit=MAX_CLOSURE_DAYS), field="last_day", value=last_day
        )
    tz = _tz(location)
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
    rows = list(_booked_ahead().filter(location=location, start__lt=end, end__gt=start))
    span = f"{first_day:%a %Y-%m-%d}" + ("" if days == 1 else f" to {last_day:%a %Y-%m-%d}")
    _refuse_stranded(f"{location.name} cannot close {span}", "an open clinic", rows, tz)
    closure = Closure(
        location=location,
        first_day=first_day,
        last_day=last_day,
        reason=rule.reason[:120],
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(closure)
    closure.save()
    _audit(
        user,
        location,
        f"{location.name} closed {span}: {closure.reason}",
        {
            "closure": str(closure.external_id),
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
        },
    )
    return closure


@transaction.atomic
def closure_remove(*, user: User, closure: Closure) -> None:
    location = closure.location
    _manage(user, location)
    words = f"{closure.first_day:%Y-%m-%d} to {closure.last_day:%Y-%m-%d} ({closure.reason})"
    closure.delete()
    _audit(user, location, f"{location.name} reopened: closure {words} removed", {"reason": closure.reason})


# --- staff shifts and skills ------------------------------------------------------------------------------


@transaction.atomic
def shift_add(*, user: User, member: User, location: Location, start: datetime, end: datetime) -> StaffShift:
    """Add a shift: the person works at the location, the shift ends after it starts, lasts at most 16 hours,
    and overlaps none of their other shifts, here or anywhere."""
    _manage(user, location)
    User.objects.select_for_update().filter(pk=member.pk).first()  # one person's shifts written one at a time
    tz = _tz(location)
    if end <= start:
        raise ValidationError(
            SHIFT_ORDER.format(
                start=f"{start.astimezone(tz):%a %Y-%m-%d %H:%M}", end=f"{end.astimezone(tz):%H:%M}"
            ),
            field="end",
            value=end.isoformat(),
        )
    hours = (end - start).total_seconds() / 3600
    if hours > MAX_SHIFT_HOURS:
        raise ValidationError(
            SHIFT_TOO_LONG.format(hours=round(hours, 2), limit=MAX_SHIFT_HOURS),
            field="end",
            value=end.isoformat(),
        )
    if not member.locations.filter(pk=location.pk).exists():
        raise ValidationError(
            SHIFT_NOT_THERE.format(staff=member, location=location.name), field="staff", value=str(member)
        )
    other = (
        StaffShift.objects.filter(user=member, start__lt=end, end__gt=start)
        .select_related("location")
        .order_by("start")
        .first()
    )
    if other is not None:
        raise ValidationError(
            SHIFT_OVERLAP.format(
                staff=member,
                other=span_words(Interval(other.start, other.end), ZoneInfo(other.location.timezone)),
                location=other.location.name,
            ),
            field="start",
            value=start.isoformat(),
        )
    shift = StaffShift(user=member, location=location, start=start, end=end, created_by=user, updated_by=user)
    clean_or_refuse(shift)
    shift.save()
    _audit(
        user,
        location,
        f"Shift for {member.username} at {location.name}: {span_words(Interval(start, end), tz)}",
        {"staff": str(member.external_id), "shift": str(shift.external_id)},
    )
    return shift


@transaction.atomic
def shift_remove(*, user: User, shift: StaffShift) -> None:
    """Remove a shift; refused, listing them, while the person's booked appointments at that location would
    no longer be inside a shift."""
    location, member = shift.location, shift.user
    _manage(user, location)
    User.objects.select_for_update().filter(pk=member.pk).first()
    others = [
        Interval(s.start, s.end)
        for s in StaffShift.objects.filter(user=member, location=location)
        .exclude(pk=shift.pk)
        .filter(
            start__lt=shift.end + timedelta(hours=MAX_SHIFT_HOURS),
            end__gt=shift.start - timedelta(hours=MAX_SHIFT_HOURS),
        )
    ]
    rows = [
        a
        for a in _booked_ahead().filter(
            staff=member, location=location, start__lt=shift.end, end__gt=shift.start
        )
        if not covered(Interval(a.start, a.end), others)
    ]
    tz = _tz(location)
    words = span_words(Interval(shift.start, shift.end), tz)
    _refuse_stranded(f"{member}'s shift {words} cannot be removed", "their staff member on shift", rows, tz)
    shift.delete()
    _audit(
        user,
        location,
        f"Shift removed for {member.username} at {location.name}: {words}",
        {"staff": str(member.external_id)},
    )


@transaction.atomic
def staff_skills_set(
    *, user: User, member: User, infuses: bool, prescribes: bool, supervises: bool, home_visits: bool
) -> StaffSkills:
    """Record what a member of staff does for the front desk's rules (on their staff record)."""
    require(user, Permission.STAFF_MANAGE)
    if not set(user_location_ids(user)) & set(member.locations.values_list("pk", flat=True)):
        raise PermissionDenied("You do not manage this member of staff's locations.")
    skills, _ = StaffSkills.objects.select_for_update().get_or_create(user=member)
    new = {"infuses": infuses, "prescribes": prescribes, "supervises": supervises, "home_visits": home_visits}
    diff = {
        name: {"from": getattr(skills, name), "to": value}
        for name, value in new.items()
        if getattr(skills, name) != value
    }
    if not diff:
        return skills
    for name, value in new.items():
        setattr(skills, name, value)
    skills.save()
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        summary=f"Skills of {member.username}: {', '.join(sorted(diff))}",
        detail={"staff": str(member.external_id), "changes": diff},
    )
    return skills
