"""The demo clinic's front desk: rooms, opening hours, a closure, staff skills and shifts, and the signed
plans' slots booked as appointments (as many as the demo's few infusing staff can take: a member of staff is
never in two appointments at once, so some plans stay planned and unbooked, as at a busy clinic)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ketaclinic.accounts.models import Location, User
from ketaclinic.core.errors import ValidationError
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.scheduling.models import Closure, OpeningHours, Room, StaffShift, StaffSkills
from ketaclinic.scheduling.services import plan_series_book

# username: (infuses, prescribes, supervises on site, home visits)
DEMO_SKILLS = {
    "dr.rivera": (True, True, True, True),
    "dr.okafor": (True, True, True, False),
    "np.chen": (True, True, False, False),
    "nurse.patel": (True, False, False, True),
}
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
        member = users[username]
        StaffSkills.objects.create(
            user=member, infuses=infuses, prescribes=prescribes, supervises=supervises, home_visits=home
        )
        _shifts(member, today)
    return _book_plans(users)


def _shifts(member: User, today: date) -> None:
    """Each working day at one location (alternating between a member's clinics, mobile on Saturdays)."""
    places = list(member.locations.order_by("code"))
    clinics = [p for p in places if p.kind == Location.Kind.CLINIC] or places
    mobile = [p for p in places if p.kind == Location.Kind.MOBILE]
    for i in range(-1, SHIFT_DAYS):
        day = today + timedelta(days=i)
        place = mobile[0] if mobile and day.weekday() == 5 else clinics[i % len(clinics)]
        tz = ZoneInfo(place.timezone)
        StaffShift.objects.create(
            user=member,
            location=place,
            start=datetime.combine(day, OPENS, tzinfo=tz),
            end=datetime.combine(day, CLOSES, tzinfo=tz),
        )


def _book_plans(users: dict[str, User]) -> int:
    booked = 0
    desk = users["nurse.patel"]
    infusers = [users[name] for name, skills in DEMO_SKILLS.items() if skills[0]]
    for plan in TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ACTIVE).order_by("created_at"):
        for member in infusers:
            try:
                booked += len(plan_series_book(user=_booker(desk, users, plan), plan=plan, staff=member))
                break
            except ValidationError:
                continue  # busy, off shift or not at the slot's place: the next colleague
    return booked


def _booker(desk: User, users: dict[str, User], plan: TreatmentPlan) -> User:
    at_patients_place = desk.locations.filter(pk=plan.patient.location_id).exists()
    return desk if at_patients_place else users["dr.rivera"]
