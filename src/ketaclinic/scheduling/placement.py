"""Fill the chairs (issue 13, item 5): the week of a location as the pure placement core sees it, and the
proposal it makes.

The chairs are the location's active chairs, open in its opening hours (not on a closure), with the week's
booked chair appointments fixed. The requests are the **pending** planned infusions and boosters of active
(signed) plans at the location in that week: in a chair, not at home, still planned, ahead and not booked as
an appointment. A patient's pending slots make one request: as many sessions as slots, the plan's series rules
(spacing between starts, at most so many a week), the slot's chair time, not before now nor before the day of
the patient's first pending slot (so a proposal never pulls an infusion closer to the one before the week),
each as near its planned start as the chairs allow (the plan's time of day, chosen with the patient).
``week_place`` (OR-Tools CP-SAT, with a time limit) proposes; ``week_first_fit`` (the desk booking by hand)
is shown beside it. The core works in minutes since Monday 00:00 on the location's wall clock; this module
converts both ways.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.placement import (
    GRID_MINUTES,
    WEEK_MINUTES,
    Booking,
    Interval,
    Request,
    SolverSettings,
    Week,
    WeekPlan,
    week_first_fit,
    week_place,
)
from ketaclinic.core.placement import Chair as ChairWeek
from ketaclinic.core.series import SeriesRules
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.scheduling.models import Appointment, Closure, OpeningHours

#: CP-SAT's time limit on the page: long enough for a clinic's week (the benchmark's 6 chairs and 65
#: requests reach their best in seconds), short enough for a page the coordinator waits on.
PROPOSAL_SECONDS = 8.0
LOCATION_NOT_YOURS = "You do not work at {value}; propose placements for your own locations."


@dataclass(frozen=True)
class Proposal:
    """One pending slot placed: which chair, when (local)."""

    slot: PlannedInfusion
    chair: Chair
    start: datetime
    end: datetime

    @property
    def patient(self) -> Patient:
        return self.slot.plan.patient

    @property
    def key(self) -> str:
        """What the page's checkbox sends back: the slot, the chair and the start."""
        return f"{self.slot.external_id}|{self.chair.external_id}|{self.start.isoformat()}"


@dataclass(frozen=True)
class NotPlaced:
    patient: Patient
    sessions: int
    reason: str


@dataclass(frozen=True)
class WeekProposal:
    location: Location
    monday: date
    pending: int  # pending slots found
    proposals: list[Proposal]
    not_placed: list[NotPlaced]
    plan: WeekPlan
    first_fit: WeekPlan


def _minute(monday: date, moment: datetime, tz: ZoneInfo) -> int:
    local = moment.astimezone(tz)
    return (local.date() - monday).days * 1440 + local.hour * 60 + local.minute


def _moment(monday: date, minute: int, tz: ZoneInfo) -> datetime:
    day, rest = divmod(minute, 1440)
    return datetime.combine(monday + timedelta(days=day), time(rest // 60, rest % 60), tzinfo=tz)


def _clip(start: int, end: int) -> Interval | None:
    start, end = max(start, 0), min(end, WEEK_MINUTES)
    return Interval(start, end) if start < end else None


def pending_slots(location: Location, monday: date, now: datetime) -> list[PlannedInfusion]:
    """The week's planned infusions and boosters in a chair at ``location`` still ahead and not yet booked
    (one query); a slot whose time has passed is the day board's (check-in), not the desk's."""
    tz = ZoneInfo(location.timezone)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    return list(
        PlannedInfusion.objects.filter(
            location=location,
            status=PlannedInfusion.Status.PLANNED,
            at_home=False,
            plan__status=TreatmentPlan.Status.ACTIVE,
            scheduled_start__gte=max(start, now),
            scheduled_start__lt=start + timedelta(days=7),
        )
        .exclude(appointments__status=Appointment.Status.BOOKED)
        .select_related("plan__patient", "chair")
        .order_by("scheduled_start", "pk")
    )


def _chairs(location: Location, monday: date, tz: ZoneInfo, chairs: list[Chair]) -> tuple[ChairWeek, ...]:
    hours = list(OpeningHours.objects.filter(location=location))
    closed = {
        monday + timedelta(days=i)
        for c in Closure.objects.filter(location=location, first_day__lte=monday + timedelta(days=6)).filter(
            last_day__gte=monday
        )
        for i in range(7)
        if c.first_day <= monday + timedelta(days=i) <= c.last_day
    }
    open_hours = tuple(
        Interval(
            i * 1440 + h.opens.hour * 60 + h.opens.minute, i * 1440 + h.closes.hour * 60 + h.closes.minute
        )
        for i in range(7)
        if monday + timedelta(days=i) not in closed
        for h in sorted(hours, key=lambda h: h.opens)
        if h.weekday == i
    )
    start = datetime.combine(monday, time(0), tzinfo=tz)
    booked: dict[int, list[Booking]] = defaultdict(list)
    for a in Appointment.objects.filter(
        chair__in=chairs,
        status=Appointment.Status.BOOKED,
        start__lt=start + timedelta(days=7),
        end__gt=start,
    ).select_related("patient", "type"):
        span = _clip(_minute(monday, a.start, tz), _minute(monday, a.end, tz))
        if span is not None and a.chair_id is not None:
            # an infusion or booster counts against the patient's spacing and weekly limit; any other use of
            # the chair (an esketamine session) only holds the chair
            who = str(a.patient.external_id) if a.type.is_infusion else ""
            booked[a.chair_id].append(Booking(span, who))
    # a chair goes to the core by its name (unique at a location): the core's words name it as the desk does
    return tuple(ChairWeek(c.name, open_hours, tuple(booked[c.pk])) for c in chairs)


def _requests(slots: list[PlannedInfusion], monday: date, tz: ZoneInfo, now: datetime) -> tuple[Request, ...]:
    now_min = max(0, _minute(monday, now, tz) + 1)
    now_min += (-now_min) % GRID_MINUTES
    mine: dict[int, list[PlannedInfusion]] = defaultdict(list)
    for s in slots:
        mine[s.plan.patient_id].append(s)
    requests = []
    for own in mine.values():
        plan = own[0].plan
        first_day = _minute(monday, own[0].scheduled_start, tz) // 1440 * 1440
        earliest = max(now_min, first_day)
        if earliest >= WEEK_MINUTES:
            continue
        requests.append(
            Request(
                patient_id=str(plan.patient.external_id),
                kind="booster" if all(s.kind == PlannedInfusion.Kind.BOOSTER for s in own) else "infusion",
                duration_min=max(s.duration_minutes for s in own),
                sessions=len(own),
                rules=SeriesRules(
                    count=plan.series_count,
                    max_per_week=plan.max_per_week,
                    min_spacing_hours=plan.min_spacing_hours,
                ),
                earliest_min=earliest,
                # the plan's own times (13:00 stays 13:00 when a chair is free then), in the week
                planned_min=tuple(sorted(_minute(monday, s.scheduled_start, tz) for s in own)),
            )
        )
    return tuple(requests)


def week_proposal(
    *, user: User, location: Location, monday: date, now: datetime, seconds: float | None = None
) -> WeekProposal:
    """The week's pending slots placed by CP-SAT, with the first-fit placement for comparison."""
    require(user, Permission.SCHEDULE_MANAGE)
    if location.pk not in user_location_ids(user):
        raise PermissionDenied(LOCATION_NOT_YOURS.format(value=location.name))
    tz = ZoneInfo(location.timezone)
    chairs = list(Chair.objects.filter(location=location, active=True).order_by("name"))
    slots = pending_slots(location, monday, now)
    week = Week(_chairs(location, monday, tz, chairs), _requests(slots, monday, tz, now))
    plan = week_place(week, SolverSettings(time_limit_s=seconds or PROPOSAL_SECONDS))
    desk = week_first_fit(week)
    by_chair = {c.name: c for c in chairs}
    waiting: dict[str, list[PlannedInfusion]] = defaultdict(list)
    for s in slots:
        waiting[str(s.plan.patient.external_id)].append(s)
    proposals = []
    for p in sorted(plan.placements, key=lambda p: (p.patient_id, p.start_min)):
        slot = waiting[p.patient_id].pop(0)
        proposals.append(
            Proposal(
                slot, by_chair[p.chair_id], _moment(monday, p.start_min, tz), _moment(monday, p.end_min, tz)
            )
        )
    patients = {str(s.plan.patient.external_id): s.plan.patient for s in slots}
    return WeekProposal(
        location=location,
        monday=monday,
        pending=len(slots),
        proposals=sorted(proposals, key=lambda p: (p.start, p.chair.name)),
        not_placed=[NotPlaced(patients[u.patient_id], u.sessions, u.reason) for u in plan.unplaced],
        plan=plan,
        first_fit=desk,
    )
