"""A reminder's link on a phone (390x844): the patient opens the link from the day-before reminder in the
outbox, confirms the preparation and the driver, sees the upcoming appointments; the desk's day board shows
the badge change from "Not confirmed yet" to "Prepared, driver ...".

The server is this module's own (``desk_server``: a fresh demo clinic on the browser tests' 10:00 clock): the
link's path is read from the outbox of its database by a ``manage shell`` command run against that database
(the demo's reminders were written with the demo's own address, so only the path is used)."""

from __future__ import annotations

from tests.e2e.conftest import Clocked, manage

PHONE = {"width": 390, "height": 844}
NURSE = "nurse.patel"

# The first waiting infusion reminder of Downtown's board today whose slot has not started: its patient,
# its time and its link's path (the outbox keeps the sent text, link included, for a retry).
FIND = """
from datetime import timedelta
from django.utils import timezone
from ketaclinic.reminders.models import PreparationCheck
now = timezone.now()
check = (
    PreparationCheck.objects.filter(
        status="waiting", asks_preparation=True, appointment__status="booked",
        appointment__location__code="downtown", starts_at__gt=now, starts_at__lt=now + timedelta(hours=12),
        planned__isnull=False, planned__sessions__isnull=True,
    ).select_related("message", "appointment__patient").order_by("starts_at").first()
)
patient = check.appointment.patient
path = "/prep/" + check.message.body.split("/prep/", 1)[1].split()[0]
print(path, patient.display_name, patient.external_id, sep="|")
"""


def waiting_reminder(env: dict[str, str]) -> tuple[str, str, str]:
    path, name, external_id = manage(env, "shell", "-c", FIND).strip().splitlines()[-1].split("|")
    return path, name, external_id


def test_a_patient_confirms_on_the_phone_and_the_desk_sees_the_badge(browser, desk_server, shot):
    base_url, clock_file, env = desk_server
    site = Clocked(browser, base_url, clock_file)
    path, patient_name, patient_id = waiting_reminder(env)
    assert path.startswith("/prep/")
    try:
        desk = site.page(NURSE)
        desk.goto("/sessions/board/?location=downtown")
        row = desk.locator("tr", has_text=patient_name).first
        assert "Not confirmed yet" in row.inner_text()

        phone = site.page(viewport=PHONE)
        phone.goto(path)
        assert "Your upcoming appointments" in phone.content()
        shot(phone, "1-reminder-link")
        phone.get_by_label("A light meal only", exact=False).check()
        phone.get_by_label("No alcohol", exact=False).check()
        phone.get_by_label("I will not drive for 24 hours", exact=False).check()
        phone.get_by_label("Who is driving you home?").fill("Ana Ruiz")
        phone.get_by_role("button", name="Send my answer").click()
        phone.get_by_text("You are all set").wait_for()
        shot(phone, "2-confirmed")
        text = phone.content().lower()
        assert "ketamine" not in text and "depression" not in text

        desk.reload()
        row = desk.locator("tr", has_text=patient_name).first
        assert "Prepared, driver Ana Ruiz" in row.inner_text()
        shot(desk, "3-board")

        # the chart lists the upcoming appointments; the desk makes the patient's calendar link
        desk.goto(f"/patients/{patient_id}/")
        upcoming = desk.get_by_test_id("upcoming")
        assert "Ketamine infusion" in upcoming.inner_text()
        upcoming.get_by_role("button", name="Make a calendar link").click()
        link = desk.get_by_test_id("feed-link").input_value()
        shot(desk, "4-calendar-link")
        feed = desk.request.get(link)
        assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
        ics = feed.text()
        assert "BEGIN:VEVENT" in ics and "TZID=America/New_York" in ics
        for word in (*patient_name.split(), "ketamine", "infusion"):
            assert word.lower() not in ics.lower()
    finally:
        for context in site.contexts:
            context.close()
