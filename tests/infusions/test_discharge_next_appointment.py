"""The discharge instructions name the patient's next booked appointment (kind, day and time on its
location's wall clock, place), or say none is booked and the clinic will call."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from ketaclinic.core.access import Role
from ketaclinic.scheduling.models import Appointment
from tests.reminders.test_reminders import book

LA = ZoneInfo("America/Los_Angeles")


def instructions(client, session) -> str:
    r = client.get(f"/sessions/{session.external_id}/instructions/")
    assert r.status_code == 200
    return r.content.decode()


def test_no_next_appointment_says_the_clinic_will_call(session, nurse, client_for):
    assert "No next appointment is booked: the clinic will call you" in instructions(
        client_for(nurse), session
    )


def test_the_next_booked_appointment_is_named_in_its_locations_time(
    session, nurse, staff, northside, client_for
):
    # the follow-up is at another clinic, in Los Angeles: its time is on that clinic's clock, not New York's
    type(northside).objects.filter(pk=northside.pk).update(
        timezone="America/Los_Angeles", address="400 Pine Street"
    )
    northside.refresh_from_db()
    patient = session.patient
    day = timezone.now().astimezone(LA).date() + timedelta(days=5)
    follow_up = book(patient, "follow_up", datetime.combine(day, time(9, 15), tzinfo=LA), staff[Role.NURSE])
    Appointment.objects.filter(pk=follow_up.pk).update(location=northside)
    earlier = book(
        patient,
        "consultation",
        datetime.combine(day - timedelta(days=1), time(11), tzinfo=LA),
        staff[Role.NURSE],
    )
    Appointment.objects.filter(pk=earlier.pk).update(status="cancelled", cancel_reason="Patient asked")
    page = instructions(client_for(nurse), session)
    expected = f"{day:%A, %B} {day.day}, {day.year} at 9:15 AM"
    assert "Follow-up visit" in page and expected in page and "Northside Clinic, 400 Pine Street" in page
    assert "Consultation" not in page  # the cancelled one is not the next
    assert "No next appointment" not in page
