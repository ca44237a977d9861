"""Reads of the front desk: a location's calendar (hours and closures), busy times and shifts around a
moment, the nearest free starts, and the week grid the calendar page draws (chairs and rooms by time, and
one lane per member of staff), each in a fixed number of queries whatever the week holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.core.scheduling.hours import Closure as ClosureRule
from ketaclinic.core.scheduling.hours import DayHours, LocationCalendar
from ketaclinic.core.scheduling.intervals import Interval
from ketaclinic.core.scheduling.needs import ON_SITE_SKILLS, AppointmentRules, Skill
from ketaclinic.core.scheduling.slots import HORIZON_DAYS, nearest_free_slots
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    Closure,
    OpeningHours,
    Room,
    StaffShift,
    StaffSkills,
)

BOOKED = Appointment.Status.BOOKED
# A signed plan's dated slot holds its chair and its patient until it is booked, done or cancelled (a draft's
# slots are not yet the clinic's promise; a stopped or superseded plan's are given up).
HOLDING_PLANS = (TreatmentPlan.Status.ACTIVE, TreatmentPlan.Status.COMPLETED)
PLAN_SLOT_TYPES = ("infusion", "booster")  # the appointment types a plan's slot is booked as
# a query bound (a protocol's chair time is at most 480 minutes, core.protocols.series); the exact overlap is
# checked in Python
LONGEST_SLOT = timedelta(hours=24)


def _held(rows: QuerySet[PlannedInfusion], window: Interval) -> list[PlannedInfusion]:
    return [
        p
        for p in rows.filter(
            status=PlannedInfusion.Status.PLANNED,
            plan__status__in=HOLDING_PLANS,
            scheduled_start__lt=window.end,
            scheduled_start__gt=window.start - LONGEST_SLOT,
        )
        .exclude(appointments__status=BOOKED)
        .select_related("plan__patient", "chair")
        .order_by("scheduled_start")
        if p.scheduled_end > window.start
    ]


def held_slots(
    *,
    window: Interval,
    chair: Chair | None,
    patient: Patient,
    planned: PlannedInfusion | None = None,
    own: bool = True,
) -> list[PlannedInfusion]:
    """The planned infusions of signed plans, not yet booked as appointments, that share a moment of
    ``window`` with the chair or the patient (the plan holds them; one query). ``planned``, the slot being
    booked, holds nothing against itself; ``own=False`` leaves out all the patient's own slots (an infusion's
    free starts: booking one at its slot's time books that slot)."""
    who = Q(plan__patient=patient) if own else Q(pk__in=[])
    if chair is not None:
        who |= Q(chair=chair)
    rows = PlannedInfusion.objects.filter(who)
    if not own:
        rows = rows.exclude(plan__patient=patient)
    if planned is not None:
        rows = rows.exclude(pk=planned.pk)
    return _held(rows, window)


def location_calendar(location: Location, *, around: date | None = None) -> LocationCalendar:
    """The location's weekly hours and its closures (those within a year around ``around`` when given)."""
    closures = Closure.objects.filter(location=location)
    if around is not None:
        closures = closures.filter(
            last_day__gte=around - timedelta(days=366), first_day__lte=around + timedelta(days=366)
        )
    return LocationCalendar(
        tz=ZoneInfo(location.timezone),
        hours=tuple(
            DayHours(h.weekday, h.opens, h.closes) for h in OpeningHours.objects.filter(location=location)
        ),
        closures=tuple(ClosureRule(c.first_day, c.last_day, c.reason) for c in closures),
    )


def type_rules(kind: AppointmentType, minutes: int | None = None) -> AppointmentRules:
    return AppointmentRules(
        name=kind.name,
        duration_minutes=minutes or kind.duration_minutes,
        needs_chair=kind.needs_chair,
        needs_room=kind.needs_room,
        skill=Skill(kind.staff_skill) if kind.staff_skill else None,
        prescriber_on_site=kind.prescriber_on_site,
        at_home_allowed=kind.at_home_allowed,
    )


def staff_skills(user: User) -> frozenset[Skill]:
    """Read fresh (not from a relation cached on ``user``): a skill taken away counts at once."""
    row = StaffSkills.objects.filter(user=user).first()
    return row.skills() if row is not None else frozenset()


def shifts_of(user: User, location: Location, window: Interval) -> list[Interval]:
    rows = StaffShift.objects.filter(user=user, location=location, start__lt=window.end, end__gt=window.start)
    return [Interval(s.start, s.end) for s in rows]


def on_site_shifts(location: Location, window: Interval) -> list[Interval]:
    """The shifts at ``location`` of everyone who prescribes or supervises on site."""
    skilled = Q()
    for skill in ON_SITE_SKILLS:
        skilled |= Q(**{f"user__skills__{skill.value}": True})
    rows = StaffShift.objects.filter(skilled, location=location, start__lt=window.end, end__gt=window.start)
    return [Interval(s.start, s.end) for s in rows]


def clashing(
    *,
    window: Interval,
    chair: Chair | None,
    room: Room | None,
    staff: User | None,
    patient: Patient,
    exclude: int | None = None,
) -> list[Appointment]:
    """Booked appointments sharing a moment of ``window`` with the chair, the room, the staff member or the
    patient (one query)."""
    who = Q(patient=patient)
    if staff is not None:
        who |= Q(staff=staff)
    if chair is not None:
        who |= Q(chair=chair)
    if room is not None:
        who |= Q(room=room)
    rows = Appointment.objects.filter(who, status=BOOKED, start__lt=window.end, end__gt=window.start)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return list(rows.select_related("type", "chair", "room", "staff").order_by("start"))


def free_starts(
    *,
    location: Location,
    want: datetime,
    minutes: int,
    chair: Chair | None,
    room: Room | None,
    staff: User | None,
    patient: Patient,
    now: datetime,
    exclude: int | None = None,
    planned: PlannedInfusion | None = None,
    own_slots: bool = True,
    n: int = 3,
) -> tuple[datetime, ...]:
    """The ``n`` free starts nearest ``want`` for this chair or room, staff member (inside their shifts; any
    time the location is open when no one is named) and patient, around the appointments booked and the
    plans' slots not yet booked (``own_slots=False``: not the patient's own, for an infusion or booster)."""
    reach = timedelta(days=HORIZON_DAYS, hours=12)
    window = Interval(want - reach, want + reach)
    busy = [
        Interval(a.start, a.end)
        for a in clashing(
            window=window, chair=chair, room=room, staff=staff, patient=patient, exclude=exclude
        )
    ] + [
        Interval(p.scheduled_start, p.scheduled_end)
        for p in held_slots(window=window, chair=chair, patient=patient, planned=planned, own=own_slots)
    ]
    return nearest_free_slots(
        want=want,
        minutes=minutes,
        calendar=location_calendar(location, around=want.date()),
        busy=busy,
        now=now,
        shifts=shifts_of(staff, location, window) if staff is not None else None,
        n=n,
    )


@dataclass(frozen=True)
class Lane:
    """A row of the week grid: a chair, a room or a member of staff, with its appointments (and shifts)."""

    kind: str  # "chair", "room" or "staff"
    name: str
    key: str  # the public id of the chair, room or staff member
    appointments: list[Appointment] = field(default_factory=list)
    shifts: list[StaffShift] = field(default_factory=list)
    held: list[PlannedInfusion] = field(default_factory=list)  # a plan's slots not yet booked (chairs)


@dataclass(frozen=True)
class WeekGrid:
    location: Location
    days: tuple[date, ...]
    chairs: tuple[Lane, ...]
    rooms: tuple[Lane, ...]
    staff: tuple[Lane, ...]
    hours: tuple[OpeningHours, ...]
    closures: tuple[Closure, ...]
    unplaced: tuple[PlannedInfusion, ...] = ()  # a plan's slots not yet booked that name no chair


def week_grid(location: Location, week_start: date) -> WeekGrid:
    """The week from ``week_start`` (seven days in the location's zone): chairs x time (with the plans' slots
    not yet booked, which hold their chairs), rooms x time and one lane per staff member on shift or booked,
    in nine queries whatever the number of appointments."""
    tz = ZoneInfo(location.timezone)
    days = tuple(week_start + timedelta(days=i) for i in range(7))
    start = datetime.combine(week_start, time(0), tzinfo=tz)
    end = datetime.combine(week_start + timedelta(days=7), time(0), tzinfo=tz)
    booked = list(
        Appointment.objects.filter(location=location, status=BOOKED, start__lt=end, end__gt=start)
        .select_related("type", "patient", "chair", "room", "staff")
        # each appointment's day-before reminders (the reminders app's rows, reached by their relation so this
        # layer imports nothing above it) with their messages: two queries, however many appointments
        .prefetch_related("reminders__message")
        .order_by("start")
    )
    shifts = list(
        StaffShift.objects.filter(location=location, start__lt=end, end__gt=start)
        .select_related("user")
        .order_by("start")
    )
    held = _held(PlannedInfusion.objects.filter(location=location), Interval(start, end))
    chairs = tuple(
        Lane(
            "chair",
            c.name,
            str(c.external_id),
            [a for a in booked if a.chair_id == c.pk],
            held=[p for p in held if p.chair_id == c.pk],
        )
        for c in Chair.objects.filter(location=location, active=True).order_by("name")
    )
    rooms = tuple(
        Lane("room", r.name, str(r.external_id), [a for a in booked if a.room_id == r.pk])
        for r in Room.objects.filter(location=location, active=True).order_by("name")
    )
    people: dict[int, User] = {s.user_id: s.user for s in shifts} | {a.staff_id: a.staff for a in booked}
    staff = tuple(
        Lane(
            "staff",
            str(u),
            str(u.external_id),
            [a for a in booked if a.staff_id == uid],
            [s for s in shifts if s.user_id == uid],
        )
        for uid, u in sorted(people.items(), key=lambda p: str(p[1]))
    )
    return WeekGrid(
        location=location,
        days=days,
        chairs=chairs,
        rooms=rooms,
        staff=staff,
        hours=tuple(OpeningHours.objects.filter(location=location)),
        closures=tuple(
            Closure.objects.filter(location=location, first_day__lte=days[-1], last_day__gte=days[0])
        ),
        unplaced=tuple(p for p in held if p.chair_id is None),
    )


def appointment_types() -> Sequence[AppointmentType]:
    return list(AppointmentType.objects.filter(active=True).order_by("name"))


@dataclass(frozen=True)
class Resources:
    """The records a booking request names by public id, found within the user's locations."""

    location: Location
    kind: AppointmentType
    staff: User | None
    chair: Chair | None
    room: Room | None


def booking_resources(
    *,
    user: User,
    location: str,
    kind: str,
    staff: str | None = None,
    chair: str | None = None,
    room: str | None = None,
) -> Resources:
    """The location (one the user works at), the type, and the staff member, chair and room of that location;
    a missing one (or one elsewhere) raises DoesNotExist."""
    place = Location.objects.get(code=location, pk__in=user.locations.values("pk"))
    return Resources(
        location=place,
        kind=AppointmentType.objects.get(code=kind, active=True),
        staff=User.objects.get(external_id=staff, locations=place) if staff else None,
        chair=Chair.objects.get(external_id=chair, location=place) if chair else None,
        room=Room.objects.get(external_id=room, location=place) if room else None,
    )


def staff_free(
    *, location: Location, kind: AppointmentType, window: Interval, patient: Patient
) -> User | None:
    """The first member of staff (by name) at ``location`` who does the type's work, is on one shift there for
    all of ``window`` and is in no booked appointment then (one query); None when nobody is."""
    found = User.objects.filter(
        locations=location,
        is_active=True,
        shifts__location=location,
        shifts__start__lte=window.start,
        shifts__end__gte=window.end,
    )
    if kind.staff_skill:
        found = found.filter(**{f"skills__{kind.staff_skill}": True})
    busy = Appointment.objects.filter(
        staff=OuterRef("pk"), status=BOOKED, start__lt=window.end, end__gt=window.start
    )
    return found.exclude(Exists(busy)).distinct().order_by("last_name", "first_name", "pk").first()


def location_staff(location: Location) -> list[User]:
    """Who works at ``location``, by name (the booking form's choice of staff)."""
    return list(User.objects.filter(locations=location, is_active=True).order_by("last_name", "first_name"))


def plan_pending_slots(plan: TreatmentPlan, now: datetime) -> list[PlannedInfusion]:
    """The plan's slots still ahead that no booked appointment holds yet (what booking the series books)."""
    return list(
        plan.infusions.filter(status=PlannedInfusion.Status.PLANNED, scheduled_start__gt=now)
        .exclude(appointments__status=BOOKED)
        .select_related("location", "chair")
        .order_by("scheduled_start")
    )


@dataclass(frozen=True)
class SeriesStaff:
    user: User
    free: bool  # on shift and not booked for every slot to book


def series_staff(places: set[Location], *, home: bool, slots: list[PlannedInfusion]) -> list[SeriesStaff]:
    """Who may give a series at these places: active staff who infuse (and make home visits, for a home
    series), working at every one of them; those on shift and free for every slot first, then by name
    (three queries)."""
    found = User.objects.filter(is_active=True, skills__infuses=True)
    if home:
        found = found.filter(skills__home_visits=True)
    for place in places:
        found = found.filter(locations=place)
    people = list(found.distinct().order_by("last_name", "first_name"))
    if not slots or not people:
        return [SeriesStaff(u, False) for u in people]
    overlap = Q()
    for slot in slots:
        overlap |= Q(start__lt=slot.scheduled_end, end__gt=slot.scheduled_start)
    busy = set(
        Appointment.objects.filter(overlap, staff__in=people, status=BOOKED).values_list(
            "staff_id", flat=True
        )
    )
    first, last = slots[0].scheduled_start, max(slot.scheduled_end for slot in slots)
    shifts: dict[int, list[StaffShift]] = {}
    for shift in StaffShift.objects.filter(user__in=people, start__lt=last, end__gt=first):
        shifts.setdefault(shift.user_id, []).append(shift)

    def covered_all(u: User) -> bool:
        return all(
            any(
                sh.location_id == slot.location_id
                and sh.start <= slot.scheduled_start
                and sh.end >= slot.scheduled_end
                for sh in shifts.get(u.pk, [])
            )
            for slot in slots
        )

    rows = [SeriesStaff(u, u.pk not in busy and covered_all(u)) for u in people]
    return sorted(rows, key=lambda r: not r.free)  # stable: by name within each group


def location_staff_member(external_id: str, *, user: User) -> User | None:
    """The active member of staff ``external_id`` who works at one of ``user``'s locations, or None."""
    try:
        return (
            User.objects.filter(
                external_id=external_id, is_active=True, locations__in=user.locations.values("pk")
            )
            .distinct()
            .first()
        )
    except (ValueError, ValidationError):
        return None


def own_planned_slot(
    *, patient: Patient, kind: AppointmentType, location: Location, start: datetime
) -> PlannedInfusion | None:
    """The patient's planned infusion (a signed plan's, not yet booked) at exactly ``start`` at ``location``,
    when an infusion or booster is booked then: that is the plan's slot being booked, not an extra one."""
    if kind.code not in PLAN_SLOT_TYPES:
        return None
    return (
        PlannedInfusion.objects.filter(
            plan__patient=patient,
            plan__status__in=HOLDING_PLANS,
            status=PlannedInfusion.Status.PLANNED,
            location=location,
            scheduled_start=start,
        )
        .exclude(appointments__status=BOOKED)
        .select_related("plan", "chair", "location")
        .first()
    )
