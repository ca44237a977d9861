"""Fill the chairs: the week's pending plan slots placed by the solver, shown beside the first-fit desk, and
accepted one by one through the booking checks (a refusal names the slot and why; the others keep)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest

from ketaclinic.core.access import Role
from ketaclinic.core.scheduling.needs import NO_PRESCRIBER_ON_SITE
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.scheduling import placement
from ketaclinic.scheduling.models import Appointment, StaffShift
from ketaclinic.scheduling.services import plan_series_book
from ketaclinic.scheduling.services._checks import Request
from ketaclinic.scheduling.services.appointments import _book
from tests.scheduling.conftest import kind, local

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    monkeypatch.setattr(placement, "PROPOSAL_SECONDS", 3.0)


def fill_url(desk) -> str:
    return f"/desk/fill/?location=downtown&week={desk['monday']:%Y-%m-%d}"


def proposals(html: str) -> list[str]:
    return re.findall(r'name="take" value="([^"]+)"', html)


def test_the_weeks_pending_slots_are_proposed_with_the_first_fit_comparison(staff, desk, signed, client_for):
    response = client_for(staff[Role.INTAKE]).get(fill_url(desk))
    assert response.status_code == 200
    html = unescape(response.content.decode())
    keys = proposals(html)
    week = signed.infusions.filter(scheduled_start__lt=local(desk["monday"] + timedelta(days=7), 0))
    assert {k.split("|")[0] for k in keys} == {str(s.external_id) for s in week}  # the two of this week
    assert "First free slot, in order" in html and "Idle chair minutes" in html
    starts = sorted(k.split("|")[2] for k in keys)
    assert starts[0] >= f"{desk['monday']:%Y-%m-%d}T08:00"  # within opening hours, not before the plan's day


def test_the_proposal_keeps_the_plans_time_of_day_not_the_opening_time(staff, desk, signed, client_for):
    # The plan's slots are Monday and Thursday at 09:00; the clinic opens at 08:00. Before, the proposal put
    # them at 08:00 (waiting was counted from the day's start and the plan's time was not in the objective).
    html = unescape(client_for(staff[Role.INTAKE]).get(fill_url(desk)).content.decode())
    starts = sorted(datetime.fromisoformat(k.split("|")[2]) for k in proposals(html))
    planned = sorted(
        s.scheduled_start
        for s in signed.infusions.filter(scheduled_start__lt=local(desk["monday"] + timedelta(days=7), 0))
    )
    assert starts == planned and all(s.hour == 9 and s.minute == 0 for s in starts)


def test_booked_slots_are_not_proposed_again(staff, desk, signed, client_for):
    plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    html = unescape(client_for(staff[Role.INTAKE]).get(fill_url(desk)).content.decode())
    assert proposals(html) == [] and "Nothing to place this week" in html


def test_accepting_books_each_through_the_checks_and_a_refusal_keeps_the_others(
    staff, desk, signed, client_for
):
    client = client_for(staff[Role.INTAKE])
    keys = sorted(proposals(client.get(fill_url(desk)).content.decode()), key=lambda k: k.split("|")[2])
    assert len(keys) == 2
    late = keys[1].split("|")[2][:10]
    StaffShift.objects.filter(user=staff[Role.PRESCRIBER], start__date=late).delete()  # nobody on site then
    response = client.post(
        "/desk/fill/", {"location": "downtown", "week": f"{desk['monday']:%Y-%m-%d}", "take": keys}
    )
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Booked 1 of 2" in html
    assert NO_PRESCRIBER_ON_SITE.split("{location}")[0] in html  # the refusal, in the service's words
    booked = Appointment.objects.get()
    slot_id, chair_id, start = keys[0].split("|")
    assert str(booked.planned_infusion.external_id) == slot_id and str(booked.chair.external_id) == chair_id
    assert booked.start == datetime.fromisoformat(start) and booked.staff == staff[Role.NURSE]
    assert booked.planned_infusion.scheduled_start == booked.start  # the plan's slot moved with it
    refused = PlannedInfusion.objects.get(external_id=keys[1].split("|")[0])
    assert refused.scheduled_start == local(desk["monday"] + timedelta(days=3), 9)  # not moved: rolled back


def test_fill_is_for_roles_that_manage_the_schedule_at_their_own_locations(
    staff, desk, northside, client_for
):
    assert client_for(staff[Role.ADMIN]).get(fill_url(desk)).status_code == 403
    assert client_for(staff[Role.INTAKE]).get("/desk/fill/?location=northside").status_code == 403
    nothing = client_for(staff[Role.INTAKE]).post("/desk/fill/", {"location": "downtown", "take": ["x|y|z"]})
    assert nothing.status_code == 302 and not Appointment.objects.exists()


def test_a_patients_booked_infusion_counts_against_the_weekly_limit(staff, desk, signed, client_for):
    """The patient's Monday slot is booked already: of a plan allowing two a week, one is left to place."""
    first = signed.infusions.order_by("sequence").first()
    _book(
        Request(
            user=staff[Role.NURSE],
            location=first.location,
            kind=kind("infusion"),
            patient=signed.patient,
            start=first.scheduled_start,
            minutes=first.duration_minutes,
            staff=staff[Role.NURSE],
            chair=first.chair,
            planned=first,
        )
    )
    html = unescape(client_for(staff[Role.INTAKE]).get(fill_url(desk)).content.decode())
    keys = proposals(html)
    assert len(keys) == 1 and keys[0].split("|")[0] != str(first.external_id)
    start = datetime.fromisoformat(keys[0].split("|")[2])
    assert start - first.scheduled_start >= timedelta(hours=signed.min_spacing_hours)


def test_overlapping_opening_hours_are_named_not_a_crash(staff, downtown, desk, client_for):
    from datetime import time

    from ketaclinic.scheduling.models import OpeningHours

    OpeningHours.objects.create(location=downtown, weekday=1, opens=time(17), closes=time(20))
    OpeningHours.objects.create(location=downtown, weekday=1, opens=time(19), closes=time(21))
    response = client_for(staff[Role.INTAKE]).get(fill_url(desk))
    assert response.status_code == 400
    assert (
        "This week cannot be placed: Opening hours of chair Chair 1 Tue 08:00-Tue 18:00 and Tue 17:00"
        in unescape(response.content.decode())
    )
