"""The front desk API: ask for the nearest free starts, book one, and be told why a taken time is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketaclinic.core.access import Role
from ketaclinic.scheduling.models import Appointment
from tests.conftest import make_staff
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db


def test_offer_free_starts_then_book_one_and_a_second_booking_is_refused(
    staff, patient, downtown, desk, client_for
):
    client = client_for(staff[Role.INTAKE])
    tuesday = desk["monday"] + timedelta(days=1)
    ask = {
        "location": "downtown",
        "type": "consultation",
        "start": local(tuesday, 17, 30).isoformat(),
        "patient": str(patient.external_id),
        "staff": str(staff[Role.PRESCRIBER].external_id),
        "room": str(desk["room"].external_id),
    }
    offered = client.get("/api/desk/free-slots", ask)
    assert offered.status_code == 200, offered.content
    body = offered.json()
    assert body["time_zone"] == "America/New_York"
    # the room is free all day: the three starts nearest 17:30 that still end by closing time, in time order
    assert body["starts"] == [local(tuesday, h, m).isoformat() for h, m in ((16, 30), (16, 45), (17, 0))]
    book = {k: ask[k] for k in ("location", "type", "patient", "staff", "room")} | {
        "start": body["starts"][-1]
    }
    made = client.post("/api/desk/appointments", book, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["start"] == local(tuesday, 17).isoformat() and made.json()["room"] == "Room A"
    again = client.post("/api/desk/appointments", book, content_type="application/json")
    assert again.status_code == 400
    error = again.json()["error"]
    assert error["field"] == "patient" and "Nearest free starts: " in error["message"]
    assert Appointment.objects.count() == 1


def test_a_staff_member_of_another_location_is_not_found(
    staff, patient, downtown, desk, client_for, northside
):
    elsewhere = make_staff(Role.PRESCRIBER, northside, "dr.elsewhere")
    answer = client_for(staff[Role.INTAKE]).post(
        "/api/desk/appointments",
        {
            "location": "downtown",
            "type": "consultation",
            "patient": str(patient.external_id),
            "staff": str(elsewhere.external_id),
            "start": local(desk["monday"] + timedelta(days=1), 10).isoformat(),
        },
        content_type="application/json",
    )
    assert answer.status_code == 404 and not Appointment.objects.exists()
