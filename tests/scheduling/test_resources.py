"""The administrator's resource pages and their services: chairs and rooms never deleted (out of service
only when nothing ahead uses them), opening hours that never overlap, closures and shift removals refused
while they would strand booked appointments (each listed), one shift at a time per person, skills on the
staff record, every change audited, and pages whose query count does not grow with the data."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from ketaclinic.accounts.models import Chair
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.scheduling.hours import HOURS_OVERLAP
from ketaclinic.scheduling.models import Appointment, Closure, OpeningHours, Room, StaffShift, StaffSkills
from ketaclinic.scheduling.services import appointment_book
from ketaclinic.scheduling.services import resources as svc
from tests.conftest import make_staff
from tests.scheduling.conftest import kind, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(staff):
    return staff[Role.ADMIN]


@pytest.fixture
def booked(staff, patient, downtown, desk):
    """A consultation in Room A with the prescriber on Tuesday 10:00-11:00."""
    tuesday = desk["monday"] + timedelta(days=1)
    return appointment_book(
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("consultation"),
        location=downtown,
        start=local(tuesday, 10),
        staff=staff[Role.PRESCRIBER],
        room=desk["room"],
    )


def refused(call, **kw) -> ValidationError:
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        call(**kw)
    assert AuditEntry.objects.count() == before
    return exc.value


def test_a_room_is_added_renamed_and_taken_out_of_service_only_when_nothing_ahead_uses_it(
    admin, downtown, desk, booked
):
    room = svc.place_add(user=admin, location=downtown, kind=Room, name="  TMS   room ")
    assert room.name == "TMS room"
    exc = refused(svc.place_add, user=admin, location=downtown, kind=Room, name="tms ROOM")
    assert exc.message == "Downtown Clinic already has a room called 'tms ROOM'; choose another name."
    svc.place_rename(user=admin, place=room, name="Treatment room")
    exc = refused(svc.place_active_set, user=admin, place=desk["room"], active=False)
    tuesday = desk["monday"] + timedelta(days=1)
    assert exc.message == (
        "Room A cannot be taken out of service: 1 booked appointment would be left without their room: "
        f"Consultation and screening {tuesday:%a %Y-%m-%d} 10:00-11:00 in Room A with Prescriber Tester. "
        "Move or cancel them on the calendar first, then try again."
    )
    assert "Garcia" not in exc.message  # the administrator is not shown the patient
    svc.place_active_set(user=admin, place=room, active=False)
    assert not Room.objects.get(pk=room.pk).active
    summaries = list(AuditEntry.objects.filter(actor=admin).order_by("pk").values_list("summary", flat=True))
    assert summaries == [
        "Added room TMS room at Downtown Clinic",
        "Renamed room TMS room to Treatment room at Downtown Clinic",
        "Room Treatment room at Downtown Clinic out of service",
    ]


def test_only_an_admin_of_that_location_changes_its_resources(staff, admin, northside):
    with pytest.raises(PermissionDenied):
        svc.place_add(
            user=staff[Role.NURSE], location=staff[Role.NURSE].locations.first(), kind=Chair, name="X"
        )
    with pytest.raises(PermissionDenied):
        svc.place_add(user=admin, location=northside, kind=Chair, name="Chair 9")
    assert not Chair.objects.filter(name__in=["X", "Chair 9"]).exists()


def test_opening_hours_never_overlap_and_hours_under_a_booking_stay(admin, downtown, desk, booked):
    exc = refused(svc.hours_add, user=admin, location=downtown, weekday=0, opens=time(17), closes=time(19))
    assert exc.message == HOURS_OVERLAP.format(
        weekday="Monday", opens="17:00", closes="19:00", other="08:00-18:00"
    )
    svc.hours_add(user=admin, location=downtown, weekday=5, opens=time(9), closes=time(13))
    tuesday_hours = OpeningHours.objects.get(location=downtown, weekday=1)
    exc = refused(svc.hours_remove, user=admin, hours=tuesday_hours)
    assert exc.message.startswith("The hours Tuesdays 08:00-18:00 cannot be removed: 1 booked appointment")
    svc.hours_remove(user=admin, hours=OpeningHours.objects.get(location=downtown, weekday=4))
    assert not OpeningHours.objects.filter(location=downtown, weekday=4).exists()


def test_a_closure_over_booked_appointments_is_refused_and_lists_them(admin, downtown, desk, booked):
    tuesday = desk["monday"] + timedelta(days=1)
    exc = refused(
        svc.closure_add, user=admin, location=downtown, first_day=tuesday, last_day=tuesday, reason="Storm"
    )
    assert exc.message.startswith(f"Downtown Clinic cannot close {tuesday:%a %Y-%m-%d}: 1 booked appointment")
    assert exc.field == "booked" and not Closure.objects.filter(reason="Storm").exists()
    refused(svc.closure_add, user=admin, location=downtown, first_day=tuesday, last_day=tuesday, reason=" ")
    wednesday = tuesday + timedelta(days=1)
    svc.closure_add(user=admin, location=downtown, first_day=wednesday, last_day=wednesday, reason="Training")
    closure = Closure.objects.get(reason="Training")
    svc.closure_remove(user=admin, closure=closure)
    assert not Closure.objects.exists()


def test_a_person_works_one_shift_at_a_time_and_a_shift_under_bookings_stays(
    staff, admin, downtown, desk, booked
):
    prescriber, tuesday = staff[Role.PRESCRIBER], desk["monday"] + timedelta(days=1)
    exc = refused(
        svc.shift_add,
        user=admin,
        member=prescriber,
        location=downtown,
        start=local(tuesday, 17),
        end=local(tuesday, 20),
    )
    assert exc.message == (
        f"Prescriber Tester already has a shift {tuesday:%a %Y-%m-%d} 08:00-18:00 at Downtown Clinic; "
        "a person works one shift at a time."
    )
    exc = refused(
        svc.shift_add,
        user=admin,
        member=prescriber,
        location=downtown,
        start=local(tuesday, 9),
        end=local(tuesday, 8),
    )
    assert exc.field == "end"
    shift = StaffShift.objects.get(user=prescriber, start=local(tuesday, 8))
    exc = refused(svc.shift_remove, user=admin, shift=shift)
    assert exc.message.startswith(
        f"Prescriber Tester's shift {tuesday:%a %Y-%m-%d} 08:00-18:00 cannot be removed"
    )
    assert "Consultation and screening" in exc.message
    Appointment.objects.filter(pk=booked.pk).update(status="cancelled", cancel_reason="Patient asked")
    svc.shift_remove(user=admin, shift=shift)
    svc.shift_add(
        user=admin, member=prescriber, location=downtown, start=local(tuesday, 12), end=local(tuesday, 20)
    )
    assert StaffShift.objects.filter(user=prescriber, start=local(tuesday, 12)).exists()


def test_the_resources_page_shows_and_changes_the_location_in_constant_queries(
    admin, downtown, desk, client_for, django_assert_max_num_queries
):
    client = client_for(admin)
    url = f"/desk/resources/{downtown.code}/"
    client.get(url)  # warm the session and the user's caches
    with django_assert_max_num_queries(14):
        page = client.get(url)
    for n in range(10):
        Chair.objects.create(location=downtown, name=f"Extra {n}")
        Closure.objects.create(
            location=downtown, first_day=date(2099, 1, n + 1), last_day=date(2099, 1, n + 1), reason=f"R{n}"
        )
    with django_assert_max_num_queries(14):
        page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200 and "Extra 9" in text and "Room A" in text and "08:00–18:00" in text
    answer = client.post(url, {"action": "hours_add", "weekday": "0", "opens": "17:00", "closes": "19:00"})
    assert (
        answer.status_code == 400
        and "overlaps the opening hours already set for Mondays" in answer.content.decode()
    )
    answer = client.post(url, {"action": "place_add", "kind": "chair", "name": "Chair 3"})
    assert answer.status_code == 302 and Chair.objects.filter(location=downtown, name="Chair 3").exists()


def test_the_shifts_page_shows_a_week_in_the_location_zone_in_constant_queries(
    staff, admin, downtown, desk, client_for, django_assert_max_num_queries
):
    client = client_for(admin)
    url = f"/desk/resources/{downtown.code}/shifts/?week={desk['monday'].isoformat()}"
    client.get(url)
    with django_assert_max_num_queries(14):
        page = client.get(url)
    text = page.content.decode()
    assert "Nurse Tester</strong> 08:00–18:00" in text and f"Week of {desk['monday']:%a %Y-%m-%d}" in text
    extra = make_staff(Role.NURSE, downtown, username="nurse.two")
    saturday = desk["monday"] + timedelta(days=5)
    answer = client.post(
        url,
        {
            "action": "shift_add",
            "staff": str(extra.external_id),
            "day": saturday.isoformat(),
            "starts": "09:00",
            "ends": "13:00",
        },
    )
    assert answer.status_code == 302
    assert StaffShift.objects.get(user=extra).start == local(saturday, 9)
    with django_assert_max_num_queries(14):
        page = client.get(url)
    assert (
        "nurse.two" not in page.content.decode()
        and "Nurse Tester</strong> 09:00–13:00" in page.content.decode()
    )


def test_skills_are_set_on_the_staff_record_page_and_audited(staff, admin, desk, client_for):
    nurse = staff[Role.NURSE]
    client = client_for(admin)
    page = client.get(f"/accounts/staff/{nurse.external_id}/").content.decode()
    assert "Makes home visits" in page and 'name="infuses" checked' in page
    answer = client.post(f"/desk/staff/{nurse.external_id}/skills/", {"infuses": "on", "home_visits": "on"})
    assert answer.status_code == 302 and answer["Location"] == f"/accounts/staff/{nurse.external_id}/"
    skills = StaffSkills.objects.get(user=nurse)
    assert (skills.infuses, skills.home_visits, skills.prescribes) == (True, True, False)
    assert AuditEntry.objects.filter(summary=f"Skills of {nurse.username}: home_visits").exists()
    assert (
        client_for(staff[Role.NURSE]).post(f"/desk/staff/{nurse.external_id}/skills/", {}).status_code == 403
    )
