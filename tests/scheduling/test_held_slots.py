"""A signed plan's dated slot holds its chair and its patient until the desk books it: another patient's
booking in that chair then, or the patient's own other appointment then, is refused with the slot named and
the nearest free starts (which skip the held time); an infusion booked at the slot's very time books that
slot (no reason asked); the week calendar draws the held slots hatched on their chairs. A draft plan's slots
or a stopped plan's hold nothing."""

from __future__ import annotations

from datetime import time, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.scheduling.intervals import Interval
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.plans.services import infusion_move, plan_sign
from ketaclinic.plans.services._common import CHAIR_TAKEN
from ketaclinic.scheduling.models import Appointment, StaffShift
from ketaclinic.scheduling.selectors import free_starts, held_slots, week_grid
from ketaclinic.scheduling.services import appointment_book, plan_series_book
from ketaclinic.scheduling.services._checks import HELD_FOR_OTHER, HELD_FOR_PATIENT
from tests.conftest import register
from tests.plans.conftest import draft, eligible_screening
from tests.scheduling.conftest import kind, local, on_shift
from tests.scheduling.test_booking import refused

pytestmark = pytest.mark.django_db


def esketamine(staff, patient, downtown, chair, start):
    """A chair appointment that is not on the ketamine pathway (no plan needed): it meets the held chair."""
    return dict(
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("esketamine"),
        location=downtown,
        start=start,
        staff=staff[Role.NURSE],
        chair=chair,
    )


def test_another_patients_booking_in_a_held_chair_is_refused_with_the_slot_and_the_free_starts(
    staff, downtown, desk, signed
):
    other = register(staff[Role.INTAKE], downtown, given_name="Ana", family_name="Other")
    monday = desk["monday"]
    chair1, chair2 = desk["chairs"][:2]
    exc = refused(appointment_book, **esketamine(staff, other, downtown, chair1, local(monday, 10)))
    day = f"{monday:%a %Y-%m-%d}"
    assert exc.field == "chair" and exc.value == chair1.name
    assert exc.message == HELD_FOR_OTHER.format(
        resource=chair1.name,
        other=f"{day} 09:00-11:00",
        slot="infusion 1",
        type="esketamine nasal session",
        mine=f"{day} 10:00-12:00",
        free=f"{day} 11:00, {day} 11:15, {day} 11:30",  # after the held slot, not inside it
    )
    # the same time in the free chair is booked
    booked = appointment_book(**esketamine(staff, other, downtown, chair2, local(monday, 10)))
    assert booked.chair == chair2


def test_the_patients_own_slot_holds_them_against_another_appointment(staff, patient, downtown, desk, signed):
    monday = desk["monday"]
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
    assert exc.message == HELD_FOR_PATIENT.format(
        other=f"{day} 09:00-11:00",
        slot="infusion 1",
        type="follow-up visit",
        mine=f"{day} 10:00-10:30",
        free=f"{day} 11:00, {day} 11:15, {day} 11:30",
    )


def test_an_infusion_booked_at_the_slots_time_books_that_slot_without_a_reason(
    staff, patient, downtown, desk, signed
):
    first = signed.infusions.order_by("sequence").first()
    nurse = staff[Role.NURSE]
    booked = appointment_book(
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("infusion"),
        location=downtown,
        start=first.scheduled_start,
        staff=nurse,
        chair=first.chair,
    )
    assert booked.planned_infusion == first and booked.reason == ""
    assert booked.end == first.scheduled_end  # the slot's chair time
    # the rest of the series is still the plan's to book; the first is not booked twice
    rest = plan_series_book(user=nurse, plan=signed, staff=nurse)
    assert [a.planned_infusion.sequence for a in rest] == [2, 3, 4, 5, 6]


def test_a_booked_slot_holds_nothing_more_and_a_draft_or_stopped_plan_holds_nothing(
    staff, patient, downtown, desk, signed
):
    first = signed.infusions.order_by("sequence").first()
    window = Interval(first.scheduled_start, first.scheduled_end)
    assert held_slots(window=window, chair=first.chair, patient=patient) == [first]
    plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    assert held_slots(window=window, chair=first.chair, patient=patient) == []  # the appointment holds it now

    other = register(staff[Role.INTAKE], downtown, given_name="Dee", family_name="Draft")
    tentative = draft(staff, other, eligible_screening(staff, other), desk["chairs"][1])
    slot = tentative.infusions.order_by("sequence").first()
    around = Interval(slot.scheduled_start, slot.scheduled_end)
    assert held_slots(window=around, chair=slot.chair, patient=other) == []  # a draft promises nothing
    plan_sign(user=staff[Role.PRESCRIBER], plan=tentative)
    assert held_slots(window=around, chair=slot.chair, patient=other) == [slot]
    TreatmentPlan.objects.filter(pk=tentative.pk).update(status=TreatmentPlan.Status.STOPPED)
    assert held_slots(window=around, chair=slot.chair, patient=other) == []


def test_the_nearest_free_starts_skip_a_held_slot(staff, downtown, desk, signed):
    other = register(staff[Role.INTAKE], downtown, given_name="Ana", family_name="Other")
    monday = desk["monday"]
    starts = free_starts(
        location=downtown,
        want=local(monday, 9),
        minutes=120,
        chair=desk["chairs"][0],
        room=None,
        staff=staff[Role.NURSE],
        patient=other,
        now=local(monday, 7),
    )
    for start in starts:
        assert not (start < local(monday, 11) and start + timedelta(minutes=120) > local(monday, 9)), start


def test_the_week_grid_puts_held_slots_on_their_chairs_in_a_fixed_number_of_queries(
    staff, patient, downtown, desk, signed
):
    monday = desk["monday"]
    with CaptureQueriesContext(connection) as counted:
        grid = week_grid(downtown, monday)
    chair1 = next(lane for lane in grid.chairs if lane.name == "Chair 1")
    assert [p.scheduled_start for p in chair1.held] == [
        local(monday, 9),
        local(monday + timedelta(days=3), 9),
    ]
    assert chair1.appointments == []
    for n, hour in enumerate((9, 12, 15)):  # three more plans holding slots this week: the same queries
        extra = register(staff[Role.INTAKE], downtown, given_name=f"H{n}", family_name="Held")
        screening = eligible_screening(staff, extra)
        plan_sign(
            user=staff[Role.PRESCRIBER], plan=draft(staff, extra, screening, desk["chairs"][1], at=time(hour))
        )
    with CaptureQueriesContext(connection) as again:
        grid = week_grid(downtown, monday)
    assert len(again.captured_queries) == len(counted.captured_queries) <= 9
    chair2 = next(lane for lane in grid.chairs if lane.name == "Chair 2")
    assert len(chair2.held) == 6  # three plans, Monday and Thursday
    plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    chair1 = next(lane for lane in week_grid(downtown, monday).chairs if lane.name == "Chair 1")
    assert chair1.held == [] and len(chair1.appointments) == 2


def test_the_calendar_draws_the_held_slots_and_they_become_appointments_when_booked(
    staff, patient, desk, signed, client_for
):
    url = f"/desk/calendar/?location=downtown&week={desk['monday']:%Y-%m-%d}"
    client = client_for(staff[Role.NURSE])
    html = unescape(client.get(url).content.decode())
    assert html.count('data-testid="held"') == 2
    assert "Planned infusion 1" in html and "Planned infusion 2" in html and "Not booked" in html
    assert patient.display_name in html  # a nurse sees clinical records: the name
    plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    html = unescape(client.get(url).content.decode())
    assert 'data-testid="held"' not in html and html.count('data-testid="appointment"') >= 2


def test_a_plan_slot_is_refused_a_chair_booked_for_an_appointment_then(
    staff, patient, downtown, desk, eligible
):
    """The other half: the plans' services ask scheduling before a slot takes a chair, so a plan drafted or a
    slot moved onto a booked appointment is refused with both times named, and nothing is saved."""
    other = register(staff[Role.INTAKE], downtown, given_name="Ana", family_name="Other")
    monday = desk["monday"]
    chair1 = desk["chairs"][0]
    appointment_book(**esketamine(staff, other, downtown, chair1, local(monday, 8)))
    plans_before = TreatmentPlan.objects.count()
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, eligible, chair1)  # Mondays and Thursdays at 09:00 in Chair 1
    day = f"{monday:%a %Y-%m-%d}"
    assert exc.value.field == "chair"
    assert exc.value.message == CHAIR_TAKEN.format(
        chair=chair1.name,
        start=f"{day} 08:00",
        end="10:00",
        other="esketamine nasal session",
        label="Infusion 1",
        my_start=f"{day} 09:00",
        my_end="11:00",
    )
    assert TreatmentPlan.objects.count() == plans_before
    # in the other chair the plan is drafted; its slot then cannot be moved onto the booked chair
    plan = draft(staff, patient, eligible, desk["chairs"][1])
    first = plan.infusions.order_by("sequence").first()
    with pytest.raises(ValidationError) as exc:
        infusion_move(user=staff[Role.PRESCRIBER], infusion=first, start=first.scheduled_start, chair=chair1)
    assert exc.value.field == "chair"
    first.refresh_from_db()
    assert first.chair == desk["chairs"][1]


def test_the_booking_form_offers_the_plans_own_slot_and_books_it_without_a_reason(
    staff, patient, desk, signed, client_for
):
    """An infusion for a patient with a planned slot that day: the slot's time is offered (the patient's own
    slot does not hold them against itself), and choosing it books that slot, no reason asked."""
    monday = desk["monday"]
    nurse, chair1 = staff[Role.NURSE], desk["chairs"][0]
    data = {
        "location": "downtown",
        "patient": str(patient.external_id),
        "type": "infusion",
        "staff": str(nurse.external_id),
        "chair": str(chair1.external_id),
        "day": f"{monday:%Y-%m-%d}",
        "at": "09:00",
    }
    client = client_for(staff[Role.INTAKE])
    offered = client.post("/desk/book/", data)
    assert offered.status_code == 200 and not Appointment.objects.exists()
    assert f'name="slot" value="{monday:%Y-%m-%d}T09:00"' in offered.content.decode()
    booked = client.post("/desk/book/", {**data, "slot": f"{monday:%Y-%m-%d}T09:00"})
    assert booked.status_code == 302, unescape(booked.content.decode())
    a = Appointment.objects.get()
    assert a.planned_infusion == signed.infusions.get(sequence=1) and a.reason == ""


def test_the_desk_books_a_plans_series_from_its_page_all_or_none(staff, patient, desk, signed, client_for):
    """The held slot on the calendar and the plan page open "Book the series": the slots ahead and who may
    give them; booking books every one, linked to its slot; a refusal names the slot and books none."""
    client = client_for(staff[Role.INTAKE])
    url = f"/desk/plans/{signed.external_id}/book/"
    cal = client.get(f"/desk/calendar/?location=downtown&week={desk['monday']:%Y-%m-%d}").content.decode()
    assert f'href="{url}"' in cal  # the held slot opens it
    plan_page = client_for(staff[Role.NURSE]).get(f"/plans/{signed.external_id}/").content.decode()
    assert f'href="{url}"' in plan_page and "Book the series as appointments" in plan_page
    page = unescape(client.get(url).content.decode())
    assert page.count("<tr><td>Infusion ") == 6 and str(staff[Role.NURSE]) in page
    assert (
        str(staff[Role.PRESCRIBER]) not in page.split('id="s-staff"')[1].split("</select>")[0]
    )  # not an infuser

    assert f"{staff[Role.NURSE]} · on shift and free for every one" in page
    StaffShift.objects.filter(user=staff[Role.NURSE], start__date=desk["monday"] + timedelta(days=3)).delete()
    page = unescape(client.get(url).content.decode())
    assert f"{staff[Role.NURSE]} · busy or off shift for some" in page  # the desk sees it before booking
    refused = client.post(url, {"staff": str(staff[Role.NURSE].external_id)})
    assert refused.status_code == 400 and not Appointment.objects.exists()  # none booked
    assert "Infusion 2" in unescape(refused.content.decode()) and "is not on shift" in unescape(
        refused.content.decode()
    )
    on_shift(staff[Role.NURSE], downtown_of(signed), desk["monday"] + timedelta(days=3), days=1)
    booked = client.post(url, {"staff": str(staff[Role.NURSE].external_id)})
    assert booked.status_code == 302 and f"week={desk['monday']:%Y-%m-%d}" in booked["Location"]
    assert Appointment.objects.filter(planned_infusion__plan=signed, status="booked").count() == 6
    again = unescape(client.get(url).content.decode())
    assert 'data-testid="nothing-pending"' in again and 'data-testid="series-form"' not in again


def test_the_series_page_refuses_a_member_of_staff_from_elsewhere_and_roles_that_do_not_book(
    staff, desk, signed, client_for
):
    url = f"/desk/plans/{signed.external_id}/book/"
    bad = client_for(staff[Role.INTAKE]).post(url, {"staff": "not-an-id"})
    assert bad.status_code == 400 and not Appointment.objects.exists()
    assert client_for(staff[Role.BILLING]).get(url).status_code == 403


def downtown_of(plan):
    return plan.infusions.first().location
