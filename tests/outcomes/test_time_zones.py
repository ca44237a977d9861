"""A patient's outcome pages show times in the time zone of the location that cares for them, and that zone
does not leak into the next request served by the same thread."""

from __future__ import annotations

from datetime import UTC, datetime

from ketaclinic.accounts.models import Location
from ketaclinic.core.access import Role
from ketaclinic.outcomes import services
from tests.conftest import make_staff, register
from tests.outcomes.conftest import phq9


def test_a_los_angeles_patients_answers_are_shown_in_los_angeles_time(db, client_for, downtown):
    west = Location.objects.create(code="west", name="West Clinic", timezone="America/Los_Angeles")
    clinician = make_staff(Role.PRESCRIBER.value, west, username="dr.west")
    patient = register(clinician, west, email="west@example.org")
    services.response_record(
        user=clinician,
        patient=patient,
        instrument="phq9",
        answers=phq9(14),
        authored_at=datetime(2026, 11, 30, 17, 5, tzinfo=UTC),
    )  # 09:05 in Los Angeles
    c = client_for(clinician)
    body = c.get(f"/outcomes/patient/{patient.external_id}/").content.decode()
    assert "2026-11-30 09:05" in body and "2026-11-30 12:05" not in body and "2026-11-30 17:05" not in body


def test_the_zone_is_reset_after_each_request(db, client_for):
    from django.utils import timezone

    west = Location.objects.create(code="west", name="West Clinic", timezone="America/Los_Angeles")
    clinician = make_staff(Role.PRESCRIBER.value, west, username="dr.west")
    patient = register(clinician, west, email="west@example.org")
    client_for(clinician).get(f"/outcomes/patient/{patient.external_id}/")
    assert (
        str(timezone.get_current_timezone()) == "America/New_York"
    )  # the clinic default, not the last patient's
