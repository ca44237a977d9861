"""Home visits from a mobile location: the service area refuses a home outside it (or a ZIP code nobody can
place), and the nurse's day route lists the home visits in time order with the drive before each and a
warning when a drive does not fit (a page reachable from the day board; two queries whatever the visits)."""

from __future__ import annotations

from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.accounts.geography import NO_SERVICE_AREA, ZIP_MALFORMED, ZIP_UNKNOWN
from ketaclinic.accounts.models import Location, User
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.plans.selectors.route import home_route_for
from ketaclinic.plans.services import plan_sign
from tests.conftest import register
from tests.plans.conftest import draft, eligible_screening, next_monday

pytestmark = pytest.mark.django_db

HOMES = [  # given name, street, ZIP (Back Bay, Cambridge, Jamaica Plain, Somerville), start
    ("Ana", "18 Marlborough St", "02116", time(8, 30)),
    ("Ben", "7 Hancock St", "02139", time(11, 0)),
    ("Cleo", "52 Burroughs St", "02130", time(13, 15)),  # Cambridge ends 13:00: 15 min, the drive is 20
    ("Dev", "3 Elm St", "02144", time(16, 0)),
]


def home_plan(staff, mobile, given, street, postal_code, at):
    patient = register(
        staff[Role.INTAKE],
        staff[Role.INTAKE].locations.first(),
        given_name=given,
        family_name="Home",
        address=street,
        city="Boston",
        state="MA",
        postal_code=postal_code,
    )
    plan = draft(
        staff,
        patient,
        eligible_screening(staff, patient),
        None,
        location=mobile,
        chair=None,
        at_home=True,
        at=at,
        weekdays=(0,),
    )
    return plan_sign(user=staff[Role.PRESCRIBER], plan=plan)


@pytest.fixture
def nurse(staff, mobile):
    staff[Role.NURSE].locations.add(mobile)
    return staff[Role.NURSE]


def route(nurse, mobile):
    return home_route_for(user=nurse, location=mobile, day=next_monday())


def test_a_home_outside_the_service_area_is_refused_naming_zip_distance_and_radius(
    staff, patient, eligible, mobile
):
    patient.address, patient.postal_code = "1 Main St", "01002"  # Amherst, about 80 miles west
    patient.save()
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, eligible, None, location=mobile, chair=None, at_home=True)
    assert exc.value.field == "postal_code" and exc.value.value == "01002"
    assert exc.value.message.startswith("The patient's home (ZIP 01002) is about ")
    assert exc.value.message.endswith(
        "miles from the centre of Mobile infusions's service area (ZIP 02110); "
        "Mobile infusions visits homes within 15 miles."
    )
    assert not TreatmentPlan.objects.exists() and not PlannedInfusion.objects.exists()  # nothing half-saved


@pytest.mark.parametrize(
    ("postal_code", "words"),
    [
        ("99999", ZIP_UNKNOWN.format(what="The patient's ZIP code", value="99999")),
        ("", ZIP_MALFORMED.format(what="The patient's ZIP code", value="")),
        ("2110", ZIP_MALFORMED.format(what="The patient's ZIP code", value="2110")),
    ],
)
def test_a_zip_code_that_cannot_be_placed_is_refused_never_guessed(
    staff, patient, eligible, mobile, postal_code, words
):
    patient.address, patient.postal_code = "1 Main St", postal_code
    patient.save()
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, eligible, None, location=mobile, chair=None, at_home=True)
    assert exc.value.message == words and exc.value.value == postal_code


def test_a_mobile_location_without_a_service_area_books_no_home_visit(staff, patient, eligible, mobile):
    Location.objects.filter(pk=mobile.pk).update(service_centre_postal_code="", service_radius_miles=None)
    mobile.refresh_from_db()
    patient.address, patient.postal_code = "12 Elm St", "02139"
    patient.save()
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, eligible, None, location=mobile, chair=None, at_home=True)
    assert exc.value.message == NO_SERVICE_AREA.format(location="Mobile infusions")


def test_moving_a_slot_home_checks_the_area_too(staff, patient, plan, mobile):
    from ketaclinic.plans.services import infusion_move

    plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    patient.address, patient.postal_code = "1 Main St", "01002"
    patient.save()
    slot = plan.infusions.order_by("sequence").first()
    with pytest.raises(ValidationError, match=r"ZIP 01002\) is about"):
        infusion_move(
            user=staff[Role.PRESCRIBER],
            infusion=slot,
            start=slot.scheduled_start,
            location=mobile,
            at_home=True,
        )
    slot.refresh_from_db()
    assert not slot.at_home and slot.location_id != mobile.pk


def test_the_route_is_in_time_order_with_the_drive_before_each_visit_and_the_leg_that_does_not_fit(
    staff, mobile, nurse, protocols
):
    for home in reversed(HOMES):
        home_plan(staff, mobile, *home)
    r = route(nurse, mobile)
    assert [row.patient.given_name for row in r.rows] == ["Ana", "Ben", "Cleo", "Dev"]
    assert [row.start.strftime("%H:%M") for row in r.rows] == ["08:30", "11:00", "13:15", "16:00"]
    assert r.rows[0].travel is None and r.rows[0].problem == ""
    assert [row.travel.minutes for row in r.rows[1:]] == [15, 20, 30]
    assert r.rows[1].address == "7 Hancock St, Boston, MA 02139"
    assert r.problems == (r.rows[2].problem,)
    assert r.rows[2].problem.startswith(
        "Not enough time to travel from Ben Home (Infusion 1) (ends 13:00) to Cleo Home (Infusion 1) "
        "(starts 13:15): the gap is 15 min and the drive is about 20 min by road"
    )


def test_a_visit_whose_zip_code_is_unknown_is_flagged_and_the_next_leg_starts_from_the_stop_before(
    staff, mobile, nurse, protocols
):
    for home in HOMES[:3]:
        home_plan(staff, mobile, *home)
    TreatmentPlan.objects.get(patient__given_name="Ben").patient.__class__.objects.filter(
        given_name="Ben"
    ).update(postal_code="99999")
    r = route(nurse, mobile)
    assert (
        r.rows[1].travel is None and "ZIP code 99999 is not in the list of US ZIP codes" in r.rows[1].problem
    )
    assert (
        r.rows[2].travel is not None and r.rows[2].problem == ""
    )  # from Ana's home, 2 h 45 min after she is done


def test_the_route_reads_in_a_bounded_number_of_queries(staff, mobile, nurse, protocols):
    home_plan(staff, mobile, *HOMES[0])
    with CaptureQueriesContext(connection) as one:
        route(User.objects.get(pk=nurse.pk), mobile)
    for home in HOMES[1:]:
        home_plan(staff, mobile, *home)
    with CaptureQueriesContext(connection) as four:
        assert len(route(User.objects.get(pk=nurse.pk), mobile).rows) == 4
    # the user (the test reads it afresh), locations, slots, break-glass grants, which patients the user sees
    assert len(four) == len(one) <= 5


def test_a_user_who_does_not_work_at_the_mobile_location_may_not_read_its_route(staff, mobile):
    with pytest.raises(Exception, match="You do not work at Mobile infusions"):
        home_route_for(user=staff[Role.NURSE], location=mobile, day=next_monday())


def test_the_route_page_from_the_board_shows_times_in_the_location_zone_the_method_and_the_warning(
    staff, mobile, nurse, protocols, client_for
):
    for home in HOMES:
        home_plan(staff, mobile, *home)
    day = next_monday().isoformat()
    client = client_for(nurse)
    board = client.get(f"/sessions/board/?location=mobile&date={day}").content.decode()
    link = f"/plans/home-visits/route/?location=mobile&amp;date={day}"
    assert link in board
    assert (
        "/plans/home-visits/route/" not in client.get("/sessions/board/?location=downtown").content.decode()
    )
    page = client.get(link.replace("&amp;", "&")).content.decode()
    assert page.count('data-testid="route-stop"') == 4
    assert "08:30–10:30" in page and "Ana Home" in page and "18 Marlborough St, Boston, MA 02116" in page
    assert "First visit of the day" in page and "about 15 min by road" in page
    assert page.count("Does not fit") == 1 and "the gap is 15 min" in page
    assert "estimated from ZIP-code centres: straight-line distance × 1.3 for the roads, at 30 mph" in page
    assert "home_route" not in page and "postal_code" not in page


def test_the_route_page_of_a_clinic_says_home_visits_come_from_a_mobile_location(staff, client_for):
    page = client_for(staff[Role.NURSE]).get("/plans/home-visits/route/?location=downtown").content.decode()
    assert "Downtown Clinic is a clinic; home visits are planned from a mobile location." in page


def test_a_visit_to_a_patient_the_user_may_not_see_is_on_the_route_unnamed_and_still_counts(
    staff, mobile, nurse, northside, protocols, client_for
):
    home_plan(staff, mobile, *HOMES[0])
    home_plan(staff, mobile, *HOMES[2])
    ben = home_plan(staff, mobile, *HOMES[1]).patient
    ben.location = northside  # moved to a clinic where the nurse does not work
    ben.save()
    r = route(nurse, mobile)
    assert [row.patient and row.patient.given_name for row in r.rows] == ["Ana", None, "Cleo"]
    assert r.rows[1].address == "" and r.rows[1].travel is not None
    assert r.problems == (r.rows[2].problem,)  # Cleo's leg still starts from Ben's home at 13:00
    assert "from another location's patient (Infusion 1) (ends 13:00) to Cleo Home" in r.problems[0]
    page = client_for(nurse).get(f"/plans/home-visits/route/?location=mobile&date={next_monday()}")
    body = page.content.decode()
    assert "A patient of another location" in body and "Ben Home" not in body and "7 Hancock St" not in body
