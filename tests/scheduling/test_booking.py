"""Booking, moving and cancelling appointments: each refusal with its exact words, nothing half-saved,
every write audited, a plan's series booked all or nothing, and the plan's slot kept in
step with its appointment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.pathway import NO_PLAN, PATHWAY_REFUSED
from ketaclinic.core.scheduling.hours import CLOSED_FOR, OUTSIDE_HOURS
from ketaclinic.core.scheduling.intervals import Interval
from ketaclinic.core.scheduling.needs import NO_PRESCRIBER_ON_SITE, STAFF_LACKS_SKILL
from ketaclinic.core.series import TOO_CLOSE
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.scheduling.models import NO_DOUBLE_BOOKING, Appointment, Closure, StaffShift
from ketaclinic.scheduling.selectors import clashing, week_grid
from ketaclinic.scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_move,
    plan_series_book,
)
from ketaclinic.scheduling.services._checks import CLASH, IN_THE_PAST, STAFF_OFF_SHIFT
from ketaclinic.scheduling.services.appointments import REASON_REQUIRED
from ketaclinic.scheduling.services.series import SLOT_REFUSED
from tests.conftest import register
from tests.scheduling.conftest import kind, local

pytestmark = pytest.mark.django_db
STAMP = r"\w{3} \d{4}-\d\d-\d\d \d\d:\d\d"  # a time in the location's zone


def consult(staff, patient, downtown, desk, start, **kw):
    args = dict(
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("consultation"),
        location=downtown,
        start=start,
        staff=staff[Role.PRESCRIBER],
        room=desk["room"],
    )
    args.update(kw)
    return appointment_book(**args)


def refused(call, **kw) -> ValidationError:
    before = (Appointment.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as exc:
        call(**kw)
    assert (Appointment.objects.count(), AuditEntry.objects.count()) == before  # nothing half-saved
    return exc.value


def test_a_consultation_is_booked_in_a_room_with_the_prescriber_and_audited(staff, patient, downtown, desk):
    tuesday = desk["monday"] + timedelta(days=1)
    a = consult(staff, patient, downtown, desk, local(tuesday, 10))
    assert (a.end - a.start, a.room, a.staff, a.booked_by) == (
        timedelta(minutes=60),
        desk["room"],
        staff[Role.PRESCRIBER],
        staff[Role.INTAKE],
    )
    entry = AuditEntry.objects.get(summary__startswith="Booked consultation")
    assert entry.summary.endswith(f"{tuesday:%a %Y-%m-%d} 10:00-11:00 at Downtown Clinic")


def test_refused_outside_the_hours_in_a_closure_and_in_the_past(staff, patient, downtown, desk):
    tuesday = desk["monday"] + timedelta(days=1)
    exc = refused(
        consult, staff=staff, patient=patient, downtown=downtown, desk=desk, start=local(tuesday, 17, 30)
    )
    assert exc.message == OUTSIDE_HOURS.format(
        when=f"{tuesday:%a %Y-%m-%d} 17:30-18:30", hours="08:00-18:00", weekday="Tuesday"
    )
    Closure.objects.create(location=downtown, first_day=tuesday, last_day=tuesday, reason="Staff training")
    exc = refused(
        consult, staff=staff, patient=patient, downtown=downtown, desk=desk, start=local(tuesday, 10)
    )
    assert exc.message == CLOSED_FOR.format(
        when=f"{tuesday:%a %Y-%m-%d} 10:00-11:00", reason="Staff training", first=tuesday, last=tuesday
    )
    past = timezone.now() - timedelta(hours=1)
    exc = refused(consult, staff=staff, patient=patient, downtown=downtown, desk=desk, start=past)
    pattern = re.escape(IN_THE_PAST).replace(re.escape("{when}"), ".+").replace(re.escape("{now}"), STAMP)
    assert exc.field == "start" and re.fullmatch(pattern, exc.message), exc.message


def test_refused_when_the_staff_member_is_off_shift_or_lacks_the_skill(staff, patient, downtown, desk):
    tuesday = desk["monday"] + timedelta(days=1)
    StaffShift.objects.filter(user=staff[Role.PRESCRIBER], start__date=tuesday).update(
        end=local(tuesday, 10, 30)
    )
    exc = refused(
        consult, staff=staff, patient=patient, downtown=downtown, desk=desk, start=local(tuesday, 10)
    )
    assert exc.message == STAFF_OFF_SHIFT.format(
        staff=staff[Role.PRESCRIBER], location="Downtown Clinic", when=f"{tuesday:%a %Y-%m-%d} 10:00-11:00"
    )
    exc = refused(
        appointment_book,
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("consultation"),
        location=downtown,
        start=local(tuesday + timedelta(days=1), 14),
        staff=staff[Role.NURSE],
        room=desk["room"],
    )
    assert exc.field == "staff" and exc.message == STAFF_LACKS_SKILL.format(
        staff=staff[Role.NURSE], skill="prescribes", type="consultation and screening"
    )


def test_an_infusion_is_refused_without_a_prescriber_on_site(staff, patient, downtown, desk, signed):
    slot = signed.infusions.order_by("sequence").first()
    StaffShift.objects.filter(user=staff[Role.PRESCRIBER], start__date=slot.scheduled_start.date()).delete()
    exc = refused(plan_series_book, user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    day = slot.scheduled_start
    why = NO_PRESCRIBER_ON_SITE.format(
        location="Downtown Clinic", when=f"{day:%a %Y-%m-%d} 09:00-11:00", type="ketamine infusion"
    )
    assert exc.message == SLOT_REFUSED.format(label="Infusion 1", when=f"{day:%a %Y-%m-%d} 09:00", why=why)
    assert not Appointment.objects.exists()  # all or nothing: the five other slots were not booked either


def test_an_infusion_for_a_patient_outside_the_pathway_is_refused(staff, downtown, desk):
    someone = register(staff[Role.INTAKE], downtown, given_name="Noplan", family_name="Person")
    exc = refused(
        appointment_book,
        user=staff[Role.NURSE],
        patient=someone,
        kind=kind("infusion"),
        location=downtown,
        start=local(desk["monday"] + timedelta(days=1), 9),
        staff=staff[Role.NURSE],
        chair=desk["chairs"][1],
        reason="extra",
    )
    assert exc.message == PATHWAY_REFUSED.format(problems=NO_PLAN)


def test_the_series_is_booked_as_appointments_and_an_extra_infusion_keeps_the_spacing(
    staff, patient, downtown, desk, signed
):
    booked = plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    slots = list(signed.infusions.order_by("sequence"))
    assert [(a.planned_infusion, a.start, a.chair) for a in booked] == [
        (s, s.scheduled_start, s.chair) for s in slots
    ]
    tuesday = desk["monday"] + timedelta(days=1)
    exc = refused(
        appointment_book,
        user=staff[Role.NURSE],
        patient=patient,
        kind=kind("infusion"),
        location=downtown,
        start=local(tuesday, 9),
        staff=staff[Role.NURSE],
        chair=desk["chairs"][1],
        reason="Worse this week",
    )
    assert exc.message == TOO_CLOSE.format(
        label="This ketamine infusion",
        when=f"{tuesday:%a %Y-%m-%d} 09:00",
        hours=24.0,
        other="Infusion 1",
        other_when=f"{desk['monday']:%a %Y-%m-%d} 09:00",
        min_hours=signed.min_spacing_hours,
    )


def test_a_taken_chair_names_the_clash_and_offers_the_nearest_free_starts(
    staff, patient, downtown, desk, signed
):
    plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    other = register(staff[Role.INTAKE], downtown, given_name="Ana", family_name="Other")
    monday = desk["monday"]
    exc = refused(
        appointment_book,
        user=staff[Role.INTAKE],
        patient=other,
        kind=kind("follow_up"),
        location=downtown,
        start=local(monday, 10),
        staff=staff[Role.NURSE],
        room=desk["room"],
    )
    assert exc.message == STAFF_LACKS_SKILL.format(
        staff=staff[Role.NURSE], skill="prescribes", type="follow-up visit"
    )
    exc = refused(
        appointment_book,
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("follow_up"),
        location=downtown,
        start=local(monday, 10),
        staff=staff[Role.PRESCRIBER],
        room=desk["room"],
    )
    day = f"{monday:%a %Y-%m-%d}"
    assert exc.field == "patient"
    assert exc.message == CLASH.format(
        resource="The patient",
        other=f"{day} 09:00-11:00",
        type="follow-up visit",
        pronoun="them",
        mine=f"{day} 10:00-10:30",
        free=f"{day} 11:00, {day} 11:15, {day} 11:30",
    )


def test_moving_a_plan_slots_appointment_moves_the_slot_and_rechecks_the_spacing(
    staff, patient, downtown, desk, signed
):
    first, second = plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])[:2]
    monday = desk["monday"]
    moved = appointment_move(
        user=staff[Role.NURSE], appointment=first, start=local(monday, 13), chair=desk["chairs"][1]
    )
    slot = PlannedInfusion.objects.get(pk=first.planned_infusion_id)
    assert (slot.scheduled_start, slot.chair, moved.end) == (
        local(monday, 13),
        desk["chairs"][1],
        local(monday, 15),
    )
    assert AuditEntry.objects.filter(summary__startswith="Moved ketamine infusion").count() == 1
    exc = refused(
        appointment_move,
        user=staff[Role.NURSE],
        appointment=second,
        start=local(monday + timedelta(days=1), 9),
    )
    assert exc.message.startswith("Infusion 2 on") and "the protocol sets at least" in exc.message
    second.refresh_from_db()
    assert second.start.astimezone(local(monday, 9).tzinfo).weekday() == 3  # unchanged, and so is its slot
    assert PlannedInfusion.objects.get(pk=second.planned_infusion_id).scheduled_start == second.start


def test_cancel_needs_a_reason_and_frees_the_time(staff, patient, downtown, desk):
    tuesday = desk["monday"] + timedelta(days=1)
    a = consult(staff, patient, downtown, desk, local(tuesday, 10))
    exc = refused(appointment_cancel, user=staff[Role.INTAKE], appointment=a, reason="  ")
    assert exc.message == REASON_REQUIRED
    appointment_cancel(user=staff[Role.INTAKE], appointment=a, reason="Patient asked to rebook")
    again = consult(staff, patient, downtown, desk, local(tuesday, 10))
    assert (
        again.status == "booked"
        and AuditEntry.objects.filter(summary__startswith="Cancelled consultation").exists()
    )


def test_the_database_refuses_a_double_booking_that_bypasses_the_service(staff, patient, downtown, desk):
    """On PostgreSQL the exclusion constraint refuses a raw second booking of the room; SQLite has no such
    constraint, and there the service's own clash check (run in its serialised transaction) finds it."""
    tuesday = desk["monday"] + timedelta(days=1)
    a = consult(staff, patient, downtown, desk, local(tuesday, 10))
    other = register(staff[Role.INTAKE], downtown, given_name="Raw", family_name="Insert")
    raw = Appointment(
        location=downtown,
        type=a.type,
        patient=other,
        start=local(tuesday, 10, 30),
        end=local(tuesday, 11, 30),
        room=desk["room"],
        staff=staff[Role.INTAKE],
        booked_by=staff[Role.INTAKE],
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'x' AND conname LIKE 'appointment_%%'"
            )
            assert sorted(r[0] for r in cursor.fetchall()) == sorted(NO_DOUBLE_BOOKING)
        with pytest.raises(IntegrityError, match="appointment_room_no_overlap"), transaction.atomic():
            raw.save()
        assert Appointment.objects.count() == 1
    else:
        raw.save()
        found = clashing(
            window=Interval(raw.start, raw.end),
            chair=None,
            room=desk["room"],
            staff=staff[Role.INTAKE],
            patient=other,
            exclude=raw.pk,
        )
        assert found == [a]


def test_the_week_grid_reads_in_a_fixed_number_of_queries(
    staff, patient, downtown, desk, signed, django_assert_max_num_queries
):
    plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    consult(staff, patient, downtown, desk, local(desk["monday"] + timedelta(days=1), 14))
    with CaptureQueriesContext(connection) as small:
        week_grid(downtown, desk["monday"])
    for hour in (8, 12, 15):  # more appointments in the week: the same number of queries
        consult(
            staff,
            register(staff[Role.INTAKE], downtown, given_name=f"G{hour}"),
            downtown,
            desk,
            local(desk["monday"] + timedelta(days=2), hour),
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        grid = week_grid(downtown, desk["monday"])
    assert (
        len(small.captured_queries) <= 9
    )  # seven reads (the plans' held slots), then the reminders and messages
    chair1 = next(lane for lane in grid.chairs if lane.name == "Chair 1")
    assert [a.start for a in chair1.appointments] == [
        local(desk["monday"], 9),
        local(desk["monday"] + timedelta(days=3), 9),
    ]
    nurse = next(lane for lane in grid.staff if lane.key == str(staff[Role.NURSE].external_id))
    assert len(nurse.appointments) == 2 and len(nurse.shifts) == 5
    assert [len(lane.appointments) for lane in grid.rooms] == [4]
