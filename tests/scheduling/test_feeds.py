"""Calendar feeds: a patient's and a member of staff's booked appointments at a revocable link, in the right
time zone, without a cancelled one and without any clinical detail; the link's token never stored."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.tokens import token_sha256
from ketaclinic.core.access import Role
from ketaclinic.scheduling.models import Appointment, CalendarFeed
from tests.reminders.test_reminders import book

NY = ZoneInfo("America/New_York")


def link_of(response) -> str:
    found = re.search(r'data-testid="feed-link"[^>]*|value="(http[^"]+)"', response.content.decode())
    urls = re.findall(r'value="(http[^"]+/cal/[^"]+)"', response.content.decode())
    assert found and urls, response.content.decode()
    return urls[0]


def path_of(url: str) -> str:
    return url.split("testserver", 1)[1]


@pytest.fixture
def booked(staff, patient, downtown):
    """Maria: a consultation next week at 14:30 New York time, an infusion at home after it, and a cancelled
    follow-up (left out of every feed)."""
    type(downtown).objects.filter(pk=downtown.pk).update(address="12 Main Street", city="Boston")
    downtown.refresh_from_db()
    day = timezone.now().astimezone(NY).date() + timedelta(days=7)
    consult = book(patient, "consultation", datetime.combine(day, time(14, 30), tzinfo=NY), staff[Role.NURSE])
    home = book(
        patient,
        "infusion",
        datetime.combine(day + timedelta(days=1), time(9), tzinfo=NY),
        staff[Role.NURSE],
        at_home=True,
    )
    cancelled = book(
        patient,
        "follow_up",
        datetime.combine(day + timedelta(days=2), time(11), tzinfo=NY),
        staff[Role.NURSE],
    )
    Appointment.objects.filter(pk=cancelled.pk).update(status="cancelled", cancel_reason="Patient asked")
    return consult, home, cancelled


def events(client, url: str) -> list:
    r = client.get(path_of(url))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(r.content).walk("VEVENT")


def clinical_words(patient) -> list[str]:
    return [
        patient.given_name,
        patient.family_name,
        patient.mrn,
        "ketamine",
        "infusion",
        "depress",
        "trd",
        "consultation",
        "follow-up",
        "dose",
        "mg",
    ]


def test_the_desk_makes_a_patients_feed_with_times_and_places_only(
    booked, patient, staff, client_for, client
):
    consult, home, cancelled = booked
    desk = client_for(staff[Role.INTAKE])
    made = desk.post(reverse("patient_calendar_feed", args=[patient.external_id]), {"action": "create"})
    assert made.status_code == 200
    url = link_of(made)
    raw = client.get(path_of(url)).content.decode()
    found = events(client, url)
    assert [e.decoded("dtstart") for e in found] == [consult.start, home.start]  # the cancelled one left out
    first = found[0]
    assert first["dtstart"].params["TZID"] == "America/New_York"
    assert first.decoded("dtstart").astimezone(NY).time() == time(14, 30)
    assert first.decoded("dtend") - first.decoded("dtstart") == timedelta(minutes=60)
    assert "BEGIN:VTIMEZONE" in raw and "TZID:America/New_York" in raw
    assert str(first["summary"]) == "Appointment at Downtown Clinic"
    assert "12 Main Street" in str(first["location"]) and str(found[1]["location"]) == "At your home"
    for word in clinical_words(patient):
        assert word.lower() not in raw.lower(), word
    entry = AuditEntry.objects.filter(summary="Calendar feed link made").get()
    assert entry.patient_external_id == patient.external_id


def test_a_stopped_or_replaced_feed_link_is_not_found(booked, patient, staff, client_for, client):
    desk = client_for(staff[Role.INTAKE])
    address = reverse("patient_calendar_feed", args=[patient.external_id])
    first = link_of(desk.post(address, {"action": "create"}))
    second = link_of(desk.post(address, {"action": "create"}))
    assert client.get(path_of(first)).status_code == 404  # a new link stops the old one
    assert client.get(path_of(second)).status_code == 200
    desk.post(address, {"action": "revoke"})
    assert client.get(path_of(second)).status_code == 404
    assert AuditEntry.objects.filter(summary="Calendar feed link revoked").count() == 2
    assert client.get("/cal/not-a-token/appointments.ics").status_code == 404


def test_the_feed_token_is_stored_only_as_its_hash(booked, patient, staff, client_for):
    url = link_of(
        client_for(staff[Role.INTAKE]).post(
            reverse("patient_calendar_feed", args=[patient.external_id]), {"action": "create"}
        )
    )
    token = url.split("/cal/", 1)[1].split("/", 1)[0]
    feed = CalendarFeed.objects.get()
    assert feed.token_sha256 == token_sha256(token) and token not in str(
        list(CalendarFeed.objects.values_list())
    )
    assert not any(token in str(v) for v in AuditEntry.objects.values_list("summary", "detail"))


def test_billing_staff_cannot_make_a_patients_feed(booked, patient, staff, client_for):
    r = client_for(staff[Role.BILLING]).post(
        reverse("patient_calendar_feed", args=[patient.external_id]), {"action": "create"}
    )
    assert r.status_code in (403, 404) and not CalendarFeed.objects.exists()


def test_a_staff_feed_names_the_chair_or_home_visit_but_no_patient_and_no_treatment(
    booked, patient, staff, client_for, client
):
    nurse = client_for(staff[Role.NURSE])
    assert "My calendar feed" in nurse.get(reverse("my_calendar_feed")).content.decode()
    url = link_of(nurse.post(reverse("my_calendar_feed"), {"action": "create"}))
    raw = client.get(path_of(url)).content.decode()
    found = events(client, url)
    assert [str(e["summary"]) for e in found] == ["Clinic booking", "Home visit"]
    for word in clinical_words(patient):
        assert word.lower() not in raw.lower(), word
    nurse.post(reverse("my_calendar_feed"), {"action": "revoke"})
    assert client.get(path_of(url)).status_code == 404


def test_the_chart_lists_the_upcoming_appointments_for_staff(booked, patient, staff, client_for):
    consult, home, cancelled = booked
    page = client_for(staff[Role.INTAKE]).get(f"/patients/{patient.external_id}/").content.decode()
    section = page.split('data-testid="upcoming"', 1)[1].split("</section>", 1)[0]
    day = consult.start.astimezone(NY)
    assert f"{day:%A, %B} {day.day} at 2:30 PM" in section and "Consultation and screening" in section
    assert "At your home" in section and "Follow-up visit" not in section  # the cancelled one is not listed
    assert "Make a calendar link" in section
