"""`make demo` shows a front desk: rooms, hours and shifts at each clinic, and the signed plans' slots booked
as appointments at the slots' times and chairs, with nobody in two places at once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ketaclinic.core.scheduling.intervals import Interval
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.scheduling.models import Appointment, OpeningHours, Room, StaffShift
from ketaclinic.web.demo_desk import demo_unbooked

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_loaded")]


def test_the_demo_books_the_plans_slots_without_a_double_booking():
    booked = list(Appointment.objects.select_related("planned_infusion").order_by("start"))
    assert len(booked) >= 30
    assert all(
        (a.start, a.chair_id, a.location_id)
        == (a.planned_infusion.scheduled_start, a.planned_infusion.chair_id, a.planned_infusion.location_id)
        for a in booked
        if a.planned_infusion is not None
    )
    for key in ("staff_id", "patient_id", "chair_id"):
        for i, a in enumerate(booked):
            for b in booked[i + 1 :]:
                if getattr(a, key) is not None and getattr(a, key) == getattr(b, key):
                    assert not Interval(a.start, a.end).overlaps(Interval(b.start, b.end)), (key, a, b)
    assert Room.objects.count() == 4 and OpeningHours.objects.count() == 21 and StaffShift.objects.exists()


def test_the_demo_staffs_every_active_plans_series_with_home_visits_that_fit_the_drive():
    assert demo_unbooked(timezone.now()) == []  # every slot still ahead of every active plan is booked
    active = TreatmentPlan.objects.filter(status=TreatmentPlan.Status.ACTIVE)
    assert active.count() >= 20
    assert all(p.infusions.filter(appointments__status="booked").exists() for p in active)
    home = Appointment.objects.filter(at_home=True, status="booked")
    assert home.count() >= 9 and {a.staff.username for a in home} == {"dr.rivera"}
