"""The day-before reminder: tomorrow's expected patients get a text (or an email) with the preparation and a
one-time link; their answer shows on the day board, so the desk calls before the chair sits empty."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.messaging.models import ContactPreference, OutboundMessage
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.reminders.models import PreparationCheck
from ketaclinic.reminders.services import (
    LINK_ANSWERED,
    LINK_EXPIRED,
    LINK_MOVED,
    LINK_UNKNOWN,
    preparation_reminders_send,
)
from ketaclinic.scheduling.models import Appointment, AppointmentType
from tests.outcomes.test_due import give_plan

BASE = "https://clinic.example"


@pytest.fixture
def tomorrow(staff, patient, protocols):
    """Maria expected tomorrow at 10:00 (the location's time), infusion 1 of her series."""
    give_plan(patient, protocols, staff[Role.PRESCRIBER], staff[Role.INTAKE], days=(20, 24))
    tz = ZoneInfo(patient.location.timezone)
    today = timezone.now().astimezone(tz).date()
    first = PlannedInfusion.objects.get(plan__patient=patient, sequence=1)
    first.scheduled_start = datetime.combine(today + timedelta(days=1), time(10), tzinfo=tz)
    first.save()
    type(patient).objects.filter(pk=patient.pk).update(phone="617-555-0142", email="maria@example.org")
    patient.refresh_from_db()
    book(patient, "infusion", first.scheduled_start, staff[Role.NURSE], planned=first)
    return first


def book(patient, code, start, staff_member, planned=None, at_home=False) -> Appointment:
    """An appointment as the booking service stores it (its checks are the scheduling tests' concern)."""
    kind = AppointmentType.objects.get(code=code)
    return Appointment.objects.create(
        location=patient.location,
        type=kind,
        patient=patient,
        start=start,
        end=start + timedelta(minutes=kind.duration_minutes),
        at_home=at_home,
        staff=staff_member,
        booked_by=staff_member,
        planned_infusion=planned,
    )


def send(location):
    today = timezone.now().astimezone(ZoneInfo(location.timezone)).date()
    return preparation_reminders_send(location=location, day=today, base_url=BASE)


def token_of(message: OutboundMessage) -> str:
    found = re.search(r"/prep/([^/\s]+)/", message.body)
    assert found, message.body
    return found.group(1)


def test_tomorrows_patient_gets_a_text_with_preparation_and_a_link_once(tomorrow, downtown):
    summary = send(downtown)
    assert (summary.queued, summary.not_sent) == (1, 0)
    check = PreparationCheck.objects.get(planned=tomorrow)
    assert check.status == "waiting" and check.token_sha256 and check.expires_at == tomorrow.scheduled_start
    message = check.message
    assert message.channel == "sms" and message.to_address == "+16175550142"
    assert "at least 4 hours before" in message.body and "driver" in message.body
    assert f"{BASE}/prep/" in message.body and downtown.name in message.body
    assert "10:00 AM" in message.body  # the location's time
    assert "ketamine" not in message.body.lower()  # nothing clinical in a text
    assert AuditEntry.objects.filter(summary="Appointment reminder queued").count() == 1
    again = send(downtown)
    assert (again.queued, again.not_sent) == (0, 0)
    assert OutboundMessage.objects.count() == 1


@pytest.mark.parametrize("base_url", ["", "clinic.example", "/"])
def test_without_the_clinics_address_no_reminder_is_queued_with_a_link_that_opens_nothing(
    tomorrow, downtown, base_url
):
    # The daily job on a server without KETACLINIC_BASE_URL (DEBUG off) had "" and queued texts whose link was
    # a bare "/prep/..." path: the patient could not confirm, and the desk saw "not answered". Now the job
    # fails (the jobs page shows why, and it is retried) and nothing is queued or marked reminded.
    today = timezone.now().astimezone(ZoneInfo(downtown.timezone)).date()
    with pytest.raises(ValidationError) as refused:
        preparation_reminders_send(location=downtown, day=today, base_url=base_url)
    assert refused.value.field == "base_url" and "KETACLINIC_BASE_URL" in refused.value.message
    assert not PreparationCheck.objects.exists() and not OutboundMessage.objects.exists()
    assert send(downtown).queued == 1  # with the address, the same reminder goes out


def test_a_patient_who_opted_out_of_texts_is_reminded_by_email(tomorrow, downtown):
    ContactPreference.objects.create(patient=tomorrow.plan.patient, sms_opted_out=True)
    send(downtown)
    assert PreparationCheck.objects.get(planned=tomorrow).message.channel == "email"


def test_a_patient_who_cannot_be_reached_is_left_for_the_desk_to_call(tomorrow, downtown, client_for, staff):
    type(tomorrow.plan.patient).objects.filter(pk=tomorrow.plan.patient_id).update(phone="", email="")
    summary = send(downtown)
    assert (summary.queued, summary.not_sent) == (0, 1)
    check = PreparationCheck.objects.get(planned=tomorrow)
    assert check.status == "not_sent" and check.token_sha256 is None and check.message is None
    assert "no phone number" in check.not_sent_reason and "no email address" in check.not_sent_reason
    board = board_html(client_for(staff[Role.NURSE]), downtown, tomorrow)
    assert "No reminder sent: call" in board


@pytest.mark.parametrize("status", ["cancelled", "done"])
def test_a_cancelled_or_done_slot_is_not_reminded(tomorrow, downtown, status):
    PlannedInfusion.objects.filter(pk=tomorrow.pk).update(status=status)
    assert send(downtown).queued == 0


def test_the_day_after_tomorrow_is_not_reminded_yet(tomorrow, downtown):
    later = tomorrow.scheduled_start + timedelta(days=1)
    PlannedInfusion.objects.filter(pk=tomorrow.pk).update(scheduled_start=later)
    Appointment.objects.filter(planned_infusion=tomorrow).update(start=later, end=later + timedelta(hours=2))
    assert send(downtown).queued == 0


def test_a_cancelled_appointment_is_not_reminded_and_its_sent_link_stops_working(tomorrow, downtown, client):
    send(downtown)
    url = reverse("preparation_confirm", args=[token_of(OutboundMessage.objects.get())])
    Appointment.objects.update(status="cancelled", cancel_reason="Patient unwell")
    r = client.get(url)
    assert r.status_code == 403 and LINK_MOVED in r.content.decode()
    assert send(downtown).queued == 0 and OutboundMessage.objects.count() == 1


def test_a_cancelled_appointment_before_the_daily_job_gets_no_reminder(tomorrow, downtown):
    Appointment.objects.update(status="cancelled", cancel_reason="Patient unwell")
    assert (send(downtown).queued, OutboundMessage.objects.count()) == (0, 0)


def test_a_moved_appointment_is_reminded_for_its_new_time_and_the_old_link_is_refused(
    tomorrow, downtown, client, client_for, staff
):
    send(downtown)
    old_url = reverse("preparation_confirm", args=[token_of(OutboundMessage.objects.get())])
    new_start = tomorrow.scheduled_start + timedelta(hours=3)  # 1:00 PM the same day
    PlannedInfusion.objects.filter(pk=tomorrow.pk).update(scheduled_start=new_start)
    Appointment.objects.update(start=new_start, end=new_start + timedelta(hours=2))
    nurse = client_for(staff[Role.NURSE])
    assert "Not confirmed yet" not in board_html(nurse, downtown, tomorrow)  # the old time's is not shown
    assert client.get(old_url).status_code == 403
    assert send(downtown).queued == 1
    assert "Not confirmed yet" in board_html(nurse, downtown, tomorrow)
    newest = OutboundMessage.objects.order_by("-created_at", "-id").first()
    assert "1:00 PM" in newest.body and "10:00 AM" not in newest.body
    assert client.get(reverse("preparation_confirm", args=[token_of(newest)])).status_code == 200
    assert PreparationCheck.objects.filter(appointment__isnull=False).count() == 2  # the old one kept


@pytest.mark.parametrize("code", ["consultation", "follow_up", "integration", "tms", "stellate_block"])
def test_every_other_appointment_type_is_reminded_with_time_place_and_how_to_cancel_only(
    staff, patient, downtown, client, code
):
    Location = type(downtown)
    Location.objects.filter(pk=downtown.pk).update(address="12 Main Street", phone="617-555-0100")
    type(patient).objects.filter(pk=patient.pk).update(phone="617-555-0142")
    patient.refresh_from_db()
    tz = ZoneInfo(downtown.timezone)
    day = timezone.now().astimezone(tz).date() + timedelta(days=1)
    start = datetime.combine(day, time(14, 30), tzinfo=tz)
    book(patient, code, start, staff[Role.PRESCRIBER])
    assert send(downtown).queued == 1
    body = OutboundMessage.objects.get().body
    assert "2:30 PM" in body and "12 Main Street" in body and "call the clinic on 617-555-0100" in body
    kind = AppointmentType.objects.get(code=code).name.lower()
    for clinical in (kind, "ketamine", "driver", "alcohol", "meal", "block", "therapy"):
        assert clinical not in body.lower()
    page = client.get(reverse("preparation_confirm", args=[token_of(OutboundMessage.objects.get())]))
    text = page.content.decode()
    assert page.status_code == 200 and "Your upcoming appointments" in text and "2:30 PM" in text
    assert "driver" not in text.lower() and kind not in text.lower()


@pytest.mark.parametrize("code", ["infusion", "booster", "esketamine"])
def test_every_dosing_session_asks_the_preparation_and_a_home_visit_says_at_your_home(
    staff, patient, downtown, code
):
    type(patient).objects.filter(pk=patient.pk).update(phone="617-555-0142")
    patient.refresh_from_db()
    tz = ZoneInfo(downtown.timezone)
    start = datetime.combine(timezone.now().astimezone(tz).date() + timedelta(days=1), time(9), tzinfo=tz)
    book(patient, code, start, staff[Role.NURSE], at_home=code != "esketamine")
    assert send(downtown).queued == 1
    body = OutboundMessage.objects.get().body
    assert "at least 4 hours before" in body and "driver" in body and "/prep/" in body
    assert ("at your home" in body) == (code != "esketamine")


def test_an_opted_out_patient_gets_no_text_and_no_email_and_the_desk_sees_it(tomorrow, downtown):
    ContactPreference.objects.create(patient=tomorrow.plan.patient, sms_opted_out=True, email_opted_out=True)
    assert (send(downtown).not_sent, OutboundMessage.objects.count()) == (1, 0)
    assert PreparationCheck.objects.get().status == "not_sent"


def board_html(client, location, planned) -> str:
    day = planned.scheduled_start.astimezone(ZoneInfo(location.timezone)).date()
    r = client.get(reverse("infusions:board"), {"location": location.code, "date": day.isoformat()})
    assert r.status_code == 200
    return r.content.decode()


def test_the_patient_confirms_from_the_phone_and_the_board_shows_it(
    tomorrow, downtown, client, client_for, staff
):
    send(downtown)
    nurse = client_for(staff[Role.NURSE])
    assert "Not confirmed yet" in board_html(nurse, downtown, tomorrow)
    url = reverse("preparation_confirm", args=[token_of(OutboundMessage.objects.get())])
    page = client.get(url)
    assert page.status_code == 200 and "10:00 AM" in page.content.decode()
    assert "ketamine" not in page.content.decode().lower()
    done = client.post(
        url, {"light_meal": "on", "no_alcohol": "on", "driver": "on", "driver_name": "Ana Ruiz"}
    )
    assert done.status_code == 200 and "You are all set" in done.content.decode()
    check = PreparationCheck.objects.get(planned=tomorrow)
    assert check.status == "confirmed" and check.driver_name == "Ana Ruiz" and check.answered_at
    assert "Prepared, driver Ana Ruiz" in board_html(nurse, downtown, tomorrow)
    second = client.post(url, {"light_meal": "on"})
    assert second.status_code == 403 and LINK_ANSWERED in second.content.decode()
    assert PreparationCheck.objects.get(planned=tomorrow).driver_name == "Ana Ruiz"  # nothing overwritten


def test_no_driver_is_a_problem_the_desk_sees_on_the_board(tomorrow, downtown, client, client_for, staff):
    send(downtown)
    url = reverse("preparation_confirm", args=[token_of(OutboundMessage.objects.get())])
    r = client.post(url, {"light_meal": "on", "no_alcohol": "on"})
    assert r.status_code == 200 and "will call you" in r.content.decode()
    check = PreparationCheck.objects.get(planned=tomorrow)
    assert check.status == "problem"
    assert check.problems == ["A driver home after the infusion: not confirmed"]
    assert "Call: A driver home after the infusion: not confirmed" in board_html(
        client_for(staff[Role.NURSE]), downtown, tomorrow
    )


def test_a_link_after_the_appointment_started_is_refused(tomorrow, downtown, client):
    send(downtown)
    PreparationCheck.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    r = client.get(reverse("preparation_confirm", args=[token_of(OutboundMessage.objects.get())]))
    assert r.status_code == 403 and LINK_EXPIRED in r.content.decode()


def test_an_unknown_link_is_refused_and_saves_nothing(db, client):
    r = client.post(reverse("preparation_confirm", args=["not-a-real-token"]), {"light_meal": "on"})
    assert r.status_code == 403 and LINK_UNKNOWN in r.content.decode()
    assert not PreparationCheck.objects.exists()


def test_a_too_long_note_is_refused_naming_the_limit_and_nothing_is_saved(tomorrow, downtown, client):
    send(downtown)
    url = reverse("preparation_confirm", args=[token_of(OutboundMessage.objects.get())])
    r = client.post(url, {"light_meal": "on", "note": "x" * 501})
    assert r.status_code == 400
    assert PreparationCheck.objects.get(planned=tomorrow).answered_at is None


def test_the_daily_job_is_in_the_schedule_in_each_locations_morning():
    from ketaclinic.web.jobs import SCHEDULE

    entry = next(e for e in SCHEDULE if e.job == "infusion_reminders")
    assert entry.per_location and entry.at == time(10, 0)


def test_the_migration_links_an_answered_infusion_reminder_to_its_booked_appointment(tomorrow, downtown):
    """Reminders made before they moved onto appointments keep their answer and find their appointment."""
    import importlib

    from django.apps import apps

    link = importlib.import_module("ketaclinic.reminders.migrations.0002_reminder_on_appointment").link
    check = PreparationCheck.objects.create(
        planned=tomorrow,
        starts_at=tomorrow.scheduled_start - timedelta(days=3),  # as 0002 finds it: no start of its own yet
        token_sha256="a" * 64,
        expires_at=tomorrow.scheduled_start,
        status="confirmed",
        answered_at=timezone.now(),
        light_meal=True,
        no_alcohol=True,
        driver=True,
        driver_name="Ana Ruiz",
    )
    link(apps, None)
    check.refresh_from_db()
    booked = Appointment.objects.get(planned_infusion=tomorrow)
    assert check.appointment == booked and check.starts_at == booked.start and check.asks_preparation
    assert (check.status, check.driver_name, check.planned) == ("confirmed", "Ana Ruiz", tomorrow)


def test_a_reminder_still_in_the_outbox_is_withdrawn_when_its_appointment_is_cancelled(
    tomorrow, downtown, staff
):
    from ketaclinic.reminders.receivers import WITHDRAWN_CANCELLED
    from ketaclinic.scheduling.services import appointment_cancel

    send(downtown)
    message = OutboundMessage.objects.get()
    assert message.status == OutboundMessage.Status.QUEUED and "/prep/" in message.body
    appointment_cancel(
        user=staff[Role.INTAKE], appointment=Appointment.objects.get(), reason="Patient unwell"
    )
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.WITHDRAWN and message.last_error == WITHDRAWN_CANCELLED
    assert "/prep/" not in message.body  # the link is not kept readable
    check = PreparationCheck.objects.get()
    assert check.status == PreparationCheck.Status.NOT_SENT and check.not_sent_reason == WITHDRAWN_CANCELLED
    from ketaclinic.messaging.delivery import message_attempt

    assert message_attempt(message_id=str(message.external_id)).status == OutboundMessage.Status.WITHDRAWN


def test_a_reminder_already_sent_is_not_withdrawn_and_a_move_withdraws_only_the_old_times(
    tomorrow, downtown, staff
):
    from ketaclinic.reminders.receivers import on_appointment_changed

    send(downtown)
    sent = OutboundMessage.objects.get()
    OutboundMessage.objects.filter(pk=sent.pk).update(
        status=OutboundMessage.Status.SENT, sent_at=timezone.now(), provider_reference="SM123"
    )
    appointment = Appointment.objects.get()
    Appointment.objects.filter(pk=appointment.pk).update(status="cancelled", cancel_reason="Unwell")
    appointment.refresh_from_db()
    on_appointment_changed(sender=Appointment, appointment=appointment)
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.SENT  # cannot be called back
    # a move: the reminder for the present start stays queued, the old time's is withdrawn
    Appointment.objects.filter(pk=appointment.pk).update(status="booked", cancel_reason="")
    OutboundMessage.objects.filter(pk=sent.pk).update(
        status=OutboundMessage.Status.QUEUED, sent_at=None, provider_reference=""
    )
    appointment.refresh_from_db()
    on_appointment_changed(sender=Appointment, appointment=appointment)
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.QUEUED
    Appointment.objects.filter(pk=appointment.pk).update(
        start=appointment.start + timedelta(hours=3), end=appointment.end + timedelta(hours=3)
    )
    appointment.refresh_from_db()
    on_appointment_changed(sender=Appointment, appointment=appointment)
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.WITHDRAWN
