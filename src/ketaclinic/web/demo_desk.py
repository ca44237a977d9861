"""The demo clinic's front desk: rooms, opening hours, a closure, staff skills and shifts, and every active
plan's remaining slots booked as appointments.

A member of staff is never in two appointments at once, and the demo's plans put four infusions side by side
at each clinic (four chairs at 08:00, 10:00 and 12:00), so each clinic has four people who infuse on shift
every day: the demo's own staff plus infusion nurses who do not sign in (``DEMO_NURSES``). Each works at one
place every day the demo runs (07:00-20:00, as the demo's opening hours), so a prescriber is always on site at
each clinic and one (Dr Rivera, who also makes the home visits) is always on shift for the mobile team: the
rule for a home infusion (docs/front-desk.md). The home visits of the day are three in a row, with the drive
between them fitting the gaps.

What stays unbooked, by design: a slot already done or cancelled, a slot whose time has passed (only slots
still ahead are booked), and a draft plan (not signed, so not active). ``demo_unbooked`` names any active
plan whose series could not be booked and why, so a change that breaks the demo's staffing is seen.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.services import staff_create
from ketaclinic.core.errors import ValidationError
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.scheduling.models import Closure, OpeningHours, Room, StaffShift, StaffSkills
from ketaclinic.scheduling.services import plan_series_book

# username: (infuses, prescribes, supervises on site, home visits)
DEMO_SKILLS = {
    "dr.rivera": (True, True, True, True),
    "dr.okafor": (True, True, True, False),
    "np.chen": (True, True, False, False),
    "nurse.patel": (True, False, False, True),
}
# infusion nurses who make up each clinic's four (they do not sign in): username, first, last, location
DEMO_NURSES = (
    ("nurse.kim", "Grace", "Kim", "downtown"),
    ("nurse.obi", "Ada", "Obi", "downtown"),
    ("nurse.silva", "Rafael", "Silva", "northside"),
    ("nurse.berg", "Lena", "Berg", "northside"),
    ("nurse.haddad", "Omar", "Haddad", "northside"),
)
# where each of the demo's own staff works every day
WORKS_AT = {"dr.rivera": "mobile", "dr.okafor": "northside", "np.chen": "downtown", "nurse.patel": "downtown"}
ROOMS = ("Consultation room", "TMS room")
OPENS, CLOSES = time(7), time(20)
SHIFT_DAYS = 42


def demo_front_desk_load(today: date, users: dict[str, User], locations: dict[str, Location]) -> int:
    """Resources for every location, then the plans' slots booked; returns how many appointments."""
    for loc in locations.values():
        if loc.kind == Location.Kind.CLINIC:
            for name in ROOMS:
                Room.objects.create(location=loc, name=name)
        for weekday in range(7):  # the demo's plans start on whatever day it is loaded
            OpeningHours.objects.create(location=loc, weekday=weekday, opens=OPENS, closes=CLOSES)
        holiday = today + timedelta(days=60)
        Closure.objects.create(location=loc, first_day=holiday, last_day=holiday, reason="Staff training day")
    for username, (infuses, prescribes, supervises, home) in DEMO_SKILLS.items():
        StaffSkills.objects.create(
            user=users[username],
            infuses=infuses,
            prescribes=prescribes,
            supervises=supervises,
            home_visits=home,
        )
        _shifts(users[username], locations[WORKS_AT[username]], today)
    for username, first, last, code in DEMO_NURSES:
        nurse = staff_create(
            username=username,
            password=secrets.token_urlsafe(24),  # a colleague on the rota, not a demo sign-in
            role="nurse",
            locations=[locations[code]],
            first_name=first,
            last_name=last,
            credentials="RN",
        )
        StaffSkills.objects.create(user=nurse, infuses=True)
        _shifts(nurse, locations[code], today)
    return _book_plans(users)


def _shifts(member: User, place: Location, today: date) -> None:
    """Every day from yesterday for six weeks at one place, the location's hours."""
    tz = ZoneInfo(place.timezone)
    for i in range(-1, SHIFT_DAYS):
        day = today + timedelta(days=i)
        StaffShift.objects.create(
            user=member,
            location=place,
            start=datetime.combine(day, OPENS, tzinfo=tz),
            end=datetime.combine(day, CLOSES, tzinfo=tz),
        )


def _infusers() -> list[User]:
    """Nurses first (the prescribers stay free for their own work where a nurse can take the slot)."""
    rows = User.objects.filter(skills__infuses=True, is_active=True).order_by("role", "username")
    return sorted(rows, key=lambda u: u.role != "nurse")


def _book_plans(users: dict[str, User]) -> int:
    booked = 0
    desk = users["nurse.patel"]
    infusers = _infusers()
    for plan in _active_plans():
        for member in infusers:
            try:
                booked += len(plan_series_book(user=_booker(desk, users, plan), plan=plan, staff=member))
                break
            except ValidationError:
                continue  # busy, off shift or not at the slot's place: the next colleague
    return booked


def _active_plans() -> list[TreatmentPlan]:
    return list(
        TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ACTIVE)
        .select_related("patient")
        .order_by("created_at")
    )


def demo_unbooked(now: datetime) -> list[str]:
    """Each active plan with a slot still ahead that has no booked appointment, with the slot (none when the
    demo's staffing covers every plan)."""
    ahead = PlannedInfusion.objects.filter(
        plan__status=TreatmentPlan.Status.ACTIVE,
        status=PlannedInfusion.Status.PLANNED,
        scheduled_start__gt=now,
    ).exclude(appointments__status="booked")
    return [f"{s.plan.patient.display_name}: {s.label}" for s in ahead.select_related("plan__patient")]


def _booker(desk: User, users: dict[str, User], plan: TreatmentPlan) -> User:
    at_patients_place = desk.locations.filter(pk=plan.patient.location_id).exists()
    return desk if at_patients_place else users["dr.rivera"]
