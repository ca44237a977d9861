"""The front desk's pages: the week calendar (lanes, the location's time zone, names only for roles that see
clinical records, the day-before preparation badge, a query count that does not grow with the bookings),
booking from the free starts (a refusal's words on the form with what was typed kept and the nearest free
starts offered, nothing half-saved), moving and cancelling from the appointment's page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.infusion.pathway import NO_PLAN
from ketaclinic.core.scheduling.hours import OUTSIDE_HOURS
from ketaclinic.reminders.models import PreparationCheck
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.services import appointment_book, plan_series_book
from ketaclinic.scheduling.services._checks import IN_THE_PAST
from ketaclinic.scheduling.services.appointments import REASON_REQUIRED
from tests.conftest import register
from tests.scheduling.conftest import kind, local

pytestmark = pytest.mark.django_db
CAL = "/desk/calendar/"
BOOK = "/desk/book/"


def consult(staff, patient, downtown, desk, start):
    return appointment_book(
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("consultation"),
        location=downtown,
        start=start,
        staff=staff[Role.PRESCRIBER],
        room=desk["room"],
    )


def page(response) -> str:
    return unescape(response.content.decode())


def week_of(desk) -> str:
    return f"{CAL}?location=downtown&week={desk['monday']:%Y-%m-%d}"


def form_for(patient, staff, desk, day, **kw):
    data = {
        "location": "downtown",
        "patient": str(patient.external_id),
        "type": "consultation",
        "staff": str(staff[Role.PRESCRIBER].external_id),
        "room": str(desk["room"].external_id),
        "day": f"{day:%Y-%m-%d}",
        "at": "10:00",
    }
    data.update(kw)
    return data


def test_the_calendar_shows_each_appointment_in_its_room_and_staff_lane_in_local_time(
    staff, patient, downtown, desk, client_for
):
    tuesday = desk["monday"] + timedelta(days=1)
    consult(staff, patient, downtown, desk, local(tuesday, 10))
    response = client_for(staff[Role.INTAKE]).get(week_of(desk))
    assert response.status_code == 200
    html = page(response)
    day = html.split(f'id="day-{tuesday:%Y-%m-%d}"')[1].split("</section>")[0]
    room = day.split('data-lane="Room A"')[1].split('data-testid="lane"')[0]
    assert "10:00-11:00" in room and "Consultation and screening" in room and patient.display_name in room
    lane = day.split(f'data-lane="{staff[Role.PRESCRIBER]}"')[1].split('data-testid="lane"')[0]
    assert "10:00-11:00" in lane  # the prescriber's own lane
    assert "Open 08:00-18:00" in day
    other_day = html.split(f'id="day-{desk["monday"]:%Y-%m-%d}"')[1].split("</section>")[0]
    assert "10:00-11:00" not in other_day
    assert "Calendar</a>" in html  # linked from the navigation
    assert f"week={desk['monday'] - timedelta(days=7):%Y-%m-%d}" in html  # previous week
    assert f"week={desk['monday'] + timedelta(days=7):%Y-%m-%d}" in html  # next week


def test_names_are_shown_only_to_roles_that_see_clinical_records_and_reads_are_audited(
    staff, patient, downtown, desk, client_for
):
    consult(staff, patient, downtown, desk, local(desk["monday"] + timedelta(days=1), 10))
    admin = client_for(staff[Role.ADMIN]).get(week_of(desk))
    assert admin.status_code == 200
    assert patient.display_name not in page(admin) and "Booked" in page(admin)
    assert "/desk/appointments/" not in page(admin)  # no way into the appointment
    nurse = client_for(staff[Role.NURSE]).get(week_of(desk))
    assert patient.display_name in page(nurse)
    assert AuditEntry.objects.filter(
        actor=staff[Role.NURSE], action=AuditEntry.Action.VIEW, summary__contains="week calendar"
    ).exists()
    assert client_for(staff[Role.BILLING]).get(week_of(desk)).status_code == 403


def test_closed_days_are_shaded_with_their_reason_and_bad_weeks_or_other_locations_refused(
    staff, downtown, northside, desk, client_for
):
    from ketaclinic.scheduling.models import Closure

    wednesday = desk["monday"] + timedelta(days=2)
    Closure.objects.create(
        location=downtown, first_day=wednesday, last_day=wednesday, reason="Staff training"
    )
    client = client_for(staff[Role.INTAKE])
    html = page(client.get(week_of(desk)))
    day = html.split(f'id="day-{wednesday:%Y-%m-%d}"')[1].split("</section>")[0]
    assert "Closed: Staff training" in day and 'class="shade"' in day
    saturday = html.split(f'id="day-{desk["monday"] + timedelta(days=5):%Y-%m-%d}"')[1].split("</section>")[0]
    assert "Closed" in saturday  # no opening hours on Saturdays
    assert client.get(f"{CAL}?location=downtown&week=next-tuesday").status_code == 404
    assert client.get(f"{CAL}?location=northside").status_code == 403


def test_the_preparation_answer_is_on_each_infusion(staff, downtown, desk, signed, client_for):
    booked = plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    first, second = booked[0].planned_infusion, booked[1].planned_infusion
    now = timezone.now()
    PreparationCheck.objects.create(
        appointment=booked[0],
        starts_at=booked[0].start,
        planned=first,
        token_sha256="a" * 64,
        expires_at=now + timedelta(days=2),
        status="confirmed",
        answered_at=now,
        light_meal=True,
        no_alcohol=True,
        driver=True,
        driver_name="Ana",
    )
    PreparationCheck.objects.create(
        appointment=booked[1],
        starts_at=booked[1].start,
        planned=second,
        token_sha256="b" * 64,
        expires_at=now + timedelta(days=5),
        status="problem",
        answered_at=now,
        problems=["A driver home after the infusion: not confirmed"],
    )
    html = page(client_for(staff[Role.INTAKE]).get(week_of(desk)))
    monday = html.split(f'id="day-{desk["monday"]:%Y-%m-%d}"')[1].split("</section>")[0]
    thursday = html.split(f'id="day-{desk["monday"] + timedelta(days=3):%Y-%m-%d}"')[1].split("</section>")[0]
    assert "Prepared" in monday and "Problem reported" not in monday
    assert "Problem reported" in thursday and "A driver home after the infusion: not confirmed" in thursday
    next_week = page(
        client_for(staff[Role.INTAKE]).get(
            f"{CAL}?location=downtown&week={desk['monday'] + timedelta(days=7):%Y-%m-%d}"
        )
    )
    assert "Not confirmed" in next_week  # no reminder answered yet for the next week's infusions


def _book_many(staff, downtown, desk, first, last):
    people = [
        register(staff[Role.INTAKE], downtown, given_name=f"P{i}", family_name="Many", phone="")
        for i in range(first, last)
    ]
    for i, who in enumerate(people, start=first):
        day = desk["monday"] + timedelta(days=i // 8)
        consult(staff, who, downtown, desk, local(day, 9 + i % 8))


def test_the_calendar_reads_in_the_same_number_of_queries_for_2_or_16_appointments(
    staff, downtown, desk, client_for, django_assert_max_num_queries
):
    client = client_for(staff[Role.INTAKE])
    _book_many(staff, downtown, desk, 0, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(week_of(desk)).status_code == 200
    _book_many(staff, downtown, desk, 2, 16)
    assert Appointment.objects.count() == 16
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page(client.get(week_of(desk)))
    assert html.count('data-testid="appointment"') == 32  # each in its room lane and its staff lane


def test_booking_offers_the_free_starts_and_books_the_one_chosen(staff, patient, desk, client_for):
    client = client_for(staff[Role.INTAKE])
    tuesday = desk["monday"] + timedelta(days=1)
    response = client.post(BOOK, form_for(patient, staff, desk, tuesday))
    assert response.status_code == 200 and not Appointment.objects.exists()
    offered = re.findall(r'name="slot" value="([^"]+)"', page(response))
    assert f"{tuesday:%Y-%m-%d}T10:00" in offered
    response = client.post(BOOK, form_for(patient, staff, desk, tuesday, slot=f"{tuesday:%Y-%m-%d}T10:00"))
    assert response.status_code == 302 and f"week={desk['monday']:%Y-%m-%d}" in response["Location"]
    a = Appointment.objects.get()
    assert (a.start, a.room, a.staff) == (local(tuesday, 10), desk["room"], staff[Role.PRESCRIBER])
    assert AuditEntry.objects.filter(summary__startswith="Booked consultation").count() == 1


def test_a_clash_shows_the_refusal_keeps_the_form_and_offers_the_nearest_free_starts(
    staff, patient, downtown, desk, client_for
):
    tuesday = desk["monday"] + timedelta(days=1)
    other = register(staff[Role.INTAKE], downtown, given_name="Ruth", family_name="Other")
    consult(staff, other, downtown, desk, local(tuesday, 10))
    client = client_for(staff[Role.INTAKE])
    at = f"{tuesday:%Y-%m-%d}T10:30"
    response = client.post(BOOK, form_for(patient, staff, desk, tuesday, at="10:30", book_at="1"))
    assert response.status_code == 400 and Appointment.objects.count() == 1  # nothing half-saved
    html = page(response)
    assert "is already booked" in html and "Nearest free starts" in html
    assert f'value="{patient.external_id}" selected' in html  # what was typed is kept
    offered = re.findall(r'name="slot" value="([^"]+)"', html)
    assert f"{tuesday:%Y-%m-%d}T11:00" in offered and at not in offered
    response = client.post(BOOK, form_for(patient, staff, desk, tuesday, slot=offered[0]))
    assert response.status_code == 302 and Appointment.objects.count() == 2


def test_a_past_or_out_of_hours_start_is_refused_with_the_services_words(staff, patient, desk, client_for):
    client = client_for(staff[Role.INTAKE])
    tuesday = desk["monday"] + timedelta(days=1)
    late = client.post(BOOK, form_for(patient, staff, desk, tuesday, slot=f"{tuesday:%Y-%m-%d}T17:30"))
    assert late.status_code == 400
    assert OUTSIDE_HOURS.format(
        when=f"{tuesday:%a %Y-%m-%d} 17:30-18:30", hours="08:00-18:00", weekday="Tuesday"
    ) in page(late)
    past = timezone.localtime(timezone.now() - timedelta(days=1))
    old = client.post(BOOK, form_for(patient, staff, desk, past.date(), slot=f"{past:%Y-%m-%d}T10:00"))
    assert old.status_code == 400 and IN_THE_PAST.split("{when}")[1].split("{now}")[0] in page(old)
    garbled = client.post(BOOK, form_for(patient, staff, desk, tuesday, slot="next tuesday"))
    assert garbled.status_code == 400 and "could not be read" in page(garbled)
    assert not Appointment.objects.exists()


def test_only_roles_that_manage_the_schedule_may_book(staff, desk, client_for):
    assert client_for(staff[Role.ADMIN]).get(f"{BOOK}?location=downtown").status_code == 403
    assert client_for(staff[Role.BILLING]).get(f"{BOOK}?location=downtown").status_code == 403
    assert client_for(staff[Role.NURSE]).get(f"{BOOK}?location=downtown").status_code == 200


def test_move_and_cancel_from_the_appointments_page(staff, patient, downtown, desk, client_for):
    tuesday = desk["monday"] + timedelta(days=1)
    a = consult(staff, patient, downtown, desk, local(tuesday, 10))
    blocker = consult(
        staff,
        register(staff[Role.INTAKE], downtown, given_name="B", family_name="Lock"),
        downtown,
        desk,
        local(tuesday, 14),
    )
    client = client_for(staff[Role.INTAKE])
    url = f"/desk/appointments/{a.external_id}/"
    assert client.get(url).status_code == 200
    move = {
        "start": f"{tuesday:%Y-%m-%d}T14:30",
        "staff": str(staff[Role.PRESCRIBER].external_id),
        "room": str(desk["room"].external_id),
    }
    clash = client.post(f"{url}move/", move)
    assert clash.status_code == 400 and "is already booked" in page(clash)
    offered = re.findall(r'name="slot" value="([^"]+)"', page(clash))
    assert offered
    a.refresh_from_db()
    assert a.start == local(tuesday, 10)  # nothing moved
    moved = client.post(f"{url}move/", {**move, "slot": f"{tuesday:%Y-%m-%d}T12:00"})
    assert moved.status_code == 302
    a.refresh_from_db()
    assert a.start == local(tuesday, 12)
    no_reason = client.post(f"{url}cancel/", {"reason": " "}, follow=True)
    assert REASON_REQUIRED in page(no_reason)
    a.refresh_from_db()
    assert a.status == Appointment.Status.BOOKED
    assert client.post(f"{url}cancel/", {"reason": "Patient asked to rebook"}).status_code == 302
    a.refresh_from_db()
    assert (a.status, a.cancel_reason) == (Appointment.Status.CANCELLED, "Patient asked to rebook")
    assert blocker.status == Appointment.Status.BOOKED
    assert AuditEntry.objects.filter(summary__startswith="Cancelled consultation").count() == 1


def test_the_chart_opens_the_booking_form_with_the_patient_chosen(staff, patient, desk, client_for):
    client = client_for(staff[Role.INTAKE])
    chart = page(client.get(f"/patients/{patient.external_id}/"))
    link = re.search(r'href="(/desk/book/\?[^"]+)"[^>]*>Book an appointment', chart)
    assert link is not None
    form = page(client.get(link.group(1)))
    assert f'value="{patient.external_id}" selected' in form


def test_the_dashboard_links_the_calendar_for_the_roles_that_use_it(staff, desk, client_for):
    for role in (Role.INTAKE, Role.NURSE, Role.PRESCRIBER, Role.ADMIN):
        assert "/desk/calendar/?location=downtown" in page(client_for(staff[role]).get("/dashboard/"))
    assert "/desk/calendar/" not in page(client_for(staff[Role.BILLING]).get("/dashboard/"))


def test_an_infusion_outside_the_treatment_pathway_is_refused_on_the_form(staff, patient, desk, client_for):
    tuesday = desk["monday"] + timedelta(days=1)
    data = form_for(patient, staff, desk, tuesday, type="infusion", room="", slot=f"{tuesday:%Y-%m-%d}T10:00")
    data.update(staff=str(staff[Role.NURSE].external_id), chair=str(desk["chairs"][0].external_id))
    response = client_for(staff[Role.INTAKE]).post(BOOK, data)
    assert response.status_code == 400 and not Appointment.objects.exists()
    html = page(response)
    assert NO_PLAN in html  # the check-in's words: no active signed plan
    assert 'value="infusion" selected' in html and f'value="{desk["chairs"][0].external_id}" selected' in html


def test_the_desks_pages_name_the_time_zone_in_words_not_its_key(
    staff, patient, downtown, desk, signed, client_for
):
    tuesday = desk["monday"] + timedelta(days=1)
    a = consult(staff, patient, downtown, desk, local(tuesday, 10))
    client = client_for(staff[Role.INTAKE])
    abbreviation = local(tuesday, 10).tzname()  # EST or EDT on that day
    for url in (
        week_of(desk),
        f"{BOOK}?location=downtown",
        f"/desk/appointments/{a.external_id}/",
        f"/plans/{signed.external_id}/",
    ):
        html = page(client.get(url))
        assert "America/New_York" not in html, url
        assert "New York time" in html, url
    assert f"times in New York time, {abbreviation}" in page(client.get(week_of(desk)))
