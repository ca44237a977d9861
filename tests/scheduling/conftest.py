"""A front desk at Downtown: open Monday to Friday 08:00-18:00 (New York), two chairs and a room, a nurse who
infuses and a prescriber, both on shift every weekday of the next five weeks, and a signed plan whose six
slots are Mondays and Thursdays at 09:00 in Chair 1 (made by the plans' own services)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketaclinic.accounts.models import User
from ketaclinic.core.access import Role
from ketaclinic.patients.models import Patient
from ketaclinic.plans.services import plan_sign
from ketaclinic.scheduling.models import AppointmentType, OpeningHours, Room, StaffShift, StaffSkills
from tests.plans.conftest import chairs, draft, eligible, mobile, next_monday  # noqa: F401 - fixtures

NY = ZoneInfo("America/New_York")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def on_shift(user: User, location, first: date, days: int = 35, hours: tuple[int, int] = (8, 18)) -> None:
    for i in range(days):
        day = first + timedelta(days=i)
        if day.weekday() < 5:
            StaffShift.objects.create(
                user=user, location=location, start=local(day, hours[0]), end=local(day, hours[1])
            )


def kind(code: str) -> AppointmentType:
    return AppointmentType.objects.get(code=code)


@pytest.fixture
def desk(staff, downtown, chairs, appointment_types):  # noqa: F811 - the plans' fixture
    for weekday in range(5):
        OpeningHours.objects.create(location=downtown, weekday=weekday, opens=time(8), closes=time(18))
    StaffSkills.objects.create(user=staff[Role.NURSE], infuses=True)
    StaffSkills.objects.create(user=staff[Role.PRESCRIBER], prescribes=True)
    monday = next_monday()
    for role in (Role.NURSE, Role.PRESCRIBER):
        on_shift(staff[role], downtown, monday - timedelta(days=7))
    return {"room": Room.objects.create(location=downtown, name="Room A"), "monday": monday, "chairs": chairs}


@pytest.fixture
def signed(staff, patient, eligible, chairs, desk):  # noqa: F811 - the plans' fixtures
    return plan_sign(user=staff[Role.PRESCRIBER], plan=draft(staff, patient, eligible, chairs[0]))


@pytest.fixture
def home_plan(staff, patient, eligible, desk, mobile):  # noqa: F811 - the plans' fixtures
    """A signed plan of six home infusions from the mobile location (within 15 miles of ZIP 02110) for a
    patient at ZIP 02116; the nurse and the prescriber on shift there every weekday (the prescriber
    reachable by phone: a home infusion's supervision)."""
    Patient.objects.filter(pk=patient.pk).update(address="12 Linden St, Boston MA", postal_code="02116")
    patient.refresh_from_db()
    for weekday in range(5):
        OpeningHours.objects.create(location=mobile, weekday=weekday, opens=time(8), closes=time(18))
    for role in (Role.NURSE, Role.PRESCRIBER):
        staff[role].locations.add(mobile)
        on_shift(staff[role], mobile, desk["monday"] - timedelta(days=7))
    plan = draft(staff, patient, eligible, desk["chairs"][0], location=mobile, chair=None, at_home=True)
    return plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
