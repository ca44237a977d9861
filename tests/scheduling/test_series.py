"""A plan's series as appointments: home visits need someone who makes them, a cancelled appointment gives its
slot back to be booked again, and only a signed plan's series is booked."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.scheduling.needs import STAFF_LACKS_SKILL
from ketaclinic.scheduling.models import Appointment, StaffSkills
from ketaclinic.scheduling.services import appointment_cancel, plan_series_book
from ketaclinic.scheduling.services.series import NOTHING_TO_BOOK, PLAN_NOT_ACTIVE, SLOT_REFUSED
from tests.plans.conftest import draft

pytestmark = pytest.mark.django_db


def test_a_home_series_is_booked_only_with_someone_who_makes_home_visits(staff, home_plan):
    nurse = staff[Role.NURSE]
    with pytest.raises(ValidationError) as exc:
        plan_series_book(user=nurse, plan=home_plan, staff=nurse)
    first = home_plan.infusions.order_by("sequence").first()
    why = STAFF_LACKS_SKILL.format(staff=nurse, skill="makes home visits", type="ketamine infusion")
    when = first.scheduled_start.astimezone(ZoneInfo(first.location.timezone))
    assert exc.value.message == SLOT_REFUSED.format(
        label="Infusion 1", when=f"{when:%a %Y-%m-%d %H:%M}", why=why
    )
    assert exc.value.field == "staff" and not Appointment.objects.exists()
    StaffSkills.objects.filter(user=nurse).update(home_visits=True)
    booked = plan_series_book(user=nurse, plan=home_plan, staff=nurse)
    assert len(booked) == 6 and all(a.at_home and a.chair is None for a in booked)


def test_a_cancelled_appointment_gives_its_slot_back(staff, signed):
    nurse = staff[Role.NURSE]
    first = plan_series_book(user=nurse, plan=signed, staff=nurse)[0]
    with pytest.raises(ValidationError) as exc:
        plan_series_book(user=nurse, plan=signed, staff=nurse)
    assert exc.value.message == NOTHING_TO_BOOK
    appointment_cancel(user=nurse, appointment=first, reason="Patient unwell, rebook")
    again = plan_series_book(user=nurse, plan=signed, staff=nurse)
    assert [a.planned_infusion_id for a in again] == [first.planned_infusion_id]


def test_only_a_signed_plans_series_is_booked(staff, patient, eligible, desk):
    plan = draft(staff, patient, eligible, desk["chairs"][0])
    with pytest.raises(ValidationError) as exc:
        plan_series_book(user=staff[Role.NURSE], plan=plan, staff=staff[Role.NURSE])
    assert exc.value.message == PLAN_NOT_ACTIVE.format(status="draft")
