"""Home visits in the booking service: the patient's home inside the mobile team's service area, the drive
between the nurse's consecutive home visits of the day fitting the gap (booking and moving), someone who
makes home visits, and a prescriber on shift and reachable (not at the home) throughout."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from ketaclinic.accounts.geography import zip_centre
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.home_route import HomeVisit, leg_problem
from ketaclinic.core.travel import DEFAULT_TRAVEL_RULES, OUTSIDE_AREA
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, StaffShift, StaffSkills
from ketaclinic.scheduling.services import appointment_move, plan_series_book
from ketaclinic.scheduling.services._checks import NO_PRESCRIBER_REACHABLE
from ketaclinic.scheduling.services.series import SLOT_REFUSED
from tests.conftest import register
from tests.scheduling.conftest import kind, local

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


@pytest.fixture
def nurse(staff):
    member = staff[Role.NURSE]
    StaffSkills.objects.filter(user=member).update(home_visits=True)
    return member


def cambridge_visit(staff, mobile, nurse, start):
    """Another patient's home visit already on the nurse's day, in Cambridge (ZIP 02139)."""
    other = register(
        staff[Role.INTAKE], staff[Role.INTAKE].locations.first(), given_name="Ruth", family_name="Okoye"
    )
    Patient.objects.filter(pk=other.pk).update(address="5 Pine St, Cambridge MA", postal_code="02139")
    return Appointment.objects.create(
        location=mobile,
        type=kind("infusion"),
        patient=Patient.objects.get(pk=other.pk),
        start=start,
        end=start + timedelta(minutes=120),
        at_home=True,
        staff=nurse,
        booked_by=nurse,
    )


def refusal_for(plan, why: str) -> str:
    first = plan.infusions.order_by("sequence").first()
    when = first.scheduled_start.astimezone(NY)
    return SLOT_REFUSED.format(label="Infusion 1", when=f"{when:%a %Y-%m-%d %H:%M}", why=why)


def test_a_home_visit_without_time_to_drive_from_the_one_before_is_refused_naming_both(
    staff, patient, home_plan, mobile, desk, nurse
):
    monday = desk["monday"]  # the plan's first home infusion: 09:00-11:00 in Boston (02116)
    other = cambridge_visit(staff, mobile, nurse, local(monday, 11, 5))
    with pytest.raises(ValidationError) as exc:
        plan_series_book(user=nurse, plan=home_plan, staff=nurse)
    mine = HomeVisit("this ketamine infusion for Maria Garcia", local(monday, 9), 120, zip_centre("02116"))
    theirs = HomeVisit("Ruth Okoye's ketamine infusion", other.start, 120, zip_centre("02139"))
    why = leg_problem(mine, theirs, DEFAULT_TRAVEL_RULES, NY)
    assert why is not None and "(ends 11:00)" in why and "(starts 11:05)" in why and "the gap is 5 min" in why
    assert exc.value.message == refusal_for(home_plan, why)
    assert Appointment.objects.filter(patient=patient).count() == 0  # all or nothing
    Appointment.objects.filter(pk=other.pk).update(start=local(monday, 11, 40), end=local(monday, 13, 40))
    booked = plan_series_book(user=nurse, plan=home_plan, staff=nurse)
    assert len(booked) == 6


def test_moving_a_home_visit_too_close_to_the_next_is_refused_and_nothing_moves(
    staff, patient, home_plan, mobile, desk, nurse
):
    monday = desk["monday"]
    cambridge_visit(staff, mobile, nurse, local(monday, 11, 40))
    first = plan_series_book(user=nurse, plan=home_plan, staff=nurse)[0]
    with pytest.raises(ValidationError) as exc:
        appointment_move(user=nurse, appointment=first, start=local(monday, 9, 30))
    assert exc.value.field == "scheduled_start"
    assert "Not enough time to travel from this ketamine infusion for Maria Garcia (ends 11:30)" in (
        exc.value.message
    )
    assert "to Ruth Okoye's ketamine infusion (starts 11:40): the gap is 10 min" in exc.value.message
    first.refresh_from_db()
    assert first.start == local(monday, 9)


def test_a_home_outside_the_service_area_is_refused_at_booking(patient, home_plan, nurse):
    Patient.objects.filter(pk=patient.pk).update(postal_code="10001")  # moved to Manhattan after planning
    with pytest.raises(ValidationError) as exc:
        plan_series_book(user=nurse, plan=home_plan, staff=nurse)
    assert exc.value.field == "postal_code"
    assert OUTSIDE_AREA.split("{")[0] in exc.value.message
    assert "(ZIP 10001)" in exc.value.message and "within 15 miles" in exc.value.message
    assert not Appointment.objects.exists()


def test_a_home_infusion_needs_a_prescriber_on_shift_to_reach_but_not_at_the_home(
    staff, home_plan, mobile, desk, nurse
):
    StaffShift.objects.filter(user=staff[Role.PRESCRIBER], location=mobile).delete()
    with pytest.raises(ValidationError) as exc:
        plan_series_book(user=nurse, plan=home_plan, staff=nurse)
    monday = desk["monday"]
    when = f"{monday:%a %Y-%m-%d} 09:00-11:00"
    why = NO_PRESCRIBER_REACHABLE.format(location=mobile.name, when=when, type="ketamine infusion")
    assert exc.value.message == refusal_for(home_plan, why)
    # the prescriber's clinic shift is not the mobile team's supervision
    assert StaffShift.objects.filter(user=staff[Role.PRESCRIBER]).exists()


def test_the_mobile_teams_booking_form_offers_the_network_patients_the_user_may_see(
    staff, patient, other_patient, home_plan, nurse, client_for
):
    # The patient is registered at Downtown; the mobile team books their home infusion. Before, the form at
    # the mobile location offered only patients registered there, and refused this patient ("Select a valid
    # choice"), so no home visit of a clinic's patient could be booked from it.
    client = client_for(nurse)
    form = client.get("/desk/book/?location=mobile").content.decode()
    assert str(patient.external_id) in form
    assert str(other_patient.external_id) not in form  # Northside's: not one of the nurse's locations
    clinic_form = client.get("/desk/book/?location=downtown").content.decode()
    assert str(patient.external_id) in clinic_form and str(other_patient.external_id) not in clinic_form
    first = home_plan.infusions.order_by("sequence").first()
    start = first.scheduled_start.astimezone(NY)
    wanted = {
        "location": "mobile",
        "patient": str(patient.external_id),
        "type": "infusion",
        "staff": str(nurse.external_id),
        "at_home": "on",
        "day": f"{start:%Y-%m-%d}",
        "at": f"{start:%H:%M}",
        "find": "1",
    }
    offered = client.post("/desk/book/", wanted)
    html = offered.content.decode()
    assert offered.status_code == 200 and "Select a valid choice" not in html
    assert 'data-testid="free-slots"' in html and f'value="{start:%Y-%m-%dT%H:%M}"' in html
    refused = client.post(
        "/desk/book/",
        {"location": "mobile", "patient": str(other_patient.external_id), "type": "infusion"},
    )
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
