"""The demo clinic's plans and consent: signed plans with today's infusions at both clinics (in chairs)
and three at home (the nurse's route, every leg with time to drive), consent on file for most,
deterministic and loaded once."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.consent.models import ConsentSignature
from ketaclinic.consent.selectors import consent_on_file
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.plans.selectors.route import home_route_for
from ketaclinic.web.demo import _demo_signature_png, demo_load

pytestmark = pytest.mark.django_db


def test_demo_has_plans_today_in_chairs_and_at_home_and_consent():
    assert demo_load() is True
    plans = TreatmentPlan.objects.all()
    assert plans.filter(status="active").count() >= 8 and plans.filter(status="draft").count() == 1
    today = timezone.localdate()
    ny = ZoneInfo("America/New_York")
    todays = [
        i
        for i in PlannedInfusion.objects.select_related("location", "chair")
        if i.scheduled_start.astimezone(ny).date() == today
    ]
    assert {i.location.code for i in todays} >= {"downtown", "northside", "mobile"}
    assert sum(i.at_home for i in todays) == 3  # the nurse's route: three homes
    mobile = Location.objects.get(code="mobile")
    route = home_route_for(user=User.objects.get(username="nurse.patel"), location=mobile, day=today)
    assert [r.patient.postal_code for r in route.rows] == ["02116", "02139", "02130"]
    assert route.problems == () and all(r.travel is not None for r in route.rows[1:])
    assert all(i.chair is not None and i.chair.location_id == i.location_id for i in todays if not i.at_home)
    slots = [(i.chair_id, i.scheduled_start) for i in PlannedInfusion.objects.filter(chair__isnull=False)]
    assert len(slots) == len(set(slots))
    signed = {
        s.patient_id for s in ConsentSignature.objects.filter(patient__in=[p.patient_id for p in plans])
    }
    assert len(signed) >= len(plans) * 3 // 4 and len(signed) < len(plans)
    assert all(consent_on_file(p.patient).ok == (p.patient_id in signed) for p in plans)
    assert demo_load() is False
    assert TreatmentPlan.objects.count() == len(plans)


def test_demo_signature_is_a_png():
    png = _demo_signature_png()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png == _demo_signature_png()
