"""A mobile location's service area: set by an admin (audited), a centre ZIP code the shipped ZIP list knows
and a radius of more than 0 and at most 200 miles; ZIP-code centres come from the wheel, with no network."""

from __future__ import annotations

import socket
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from ketaclinic.accounts.geography import ZIP_MALFORMED, ZIP_UNKNOWN, zip_centre
from ketaclinic.accounts.models import Location
from ketaclinic.accounts.services import SERVICE_AREA_MOBILE_ONLY, location_service_area_set
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def mobile(db) -> Location:
    return Location.objects.create(code="mobile", name="Mobile infusions", kind=Location.Kind.MOBILE)


def test_zip_centres_come_from_the_shipped_list_without_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("no network lookup")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    boston = zip_centre("02110")
    assert 42.3 < boston.latitude_deg < 42.4 and -71.1 < boston.longitude_deg < -71.0
    assert zip_centre("02110-1234") == boston


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("99999", ZIP_UNKNOWN.format(what="ZIP code", value="99999")),
        ("0211O", ZIP_MALFORMED.format(what="ZIP code", value="0211O")),
        ("", ZIP_MALFORMED.format(what="ZIP code", value="")),
    ],
)
def test_an_unknown_or_malformed_zip_code_is_refused_naming_it(value, words):
    with pytest.raises(ValidationError) as exc:
        zip_centre(value)
    assert exc.value.message == words and exc.value.value == value and exc.value.field == "postal_code"


def test_the_admin_sets_a_mobile_locations_area_and_it_is_audited(staff, mobile):
    location = location_service_area_set(
        user=staff[Role.ADMIN], location=mobile, centre_postal_code="02110", radius_miles=12.25
    )
    location.refresh_from_db()
    assert location.service_centre_postal_code == "02110" and location.service_radius_miles == Decimal("12.2")
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.summary == "Service area of Mobile infusions: within 12.2 miles of ZIP 02110"


def test_only_the_admin_sets_an_area(staff, mobile):
    with pytest.raises(PermissionDenied):
        location_service_area_set(
            user=staff[Role.NURSE], location=mobile, centre_postal_code="02110", radius_miles=10
        )


def test_a_clinic_has_no_service_area(staff, downtown):
    with pytest.raises(ValidationError) as exc:
        location_service_area_set(
            user=staff[Role.ADMIN], location=downtown, centre_postal_code="02110", radius_miles=10
        )
    assert exc.value.message == SERVICE_AREA_MOBILE_ONLY.format(location="Downtown Clinic")


@pytest.mark.parametrize(
    ("zip_code", "radius", "words"),
    [
        ("99999", 10, "The service area's centre: ZIP code 99999 is not in the list of US ZIP codes"),
        ("02110", 0, "A service area's radius must be more than 0 and at most 200 miles, got 0.0."),
        ("02110", 250, "A service area's radius must be more than 0 and at most 200 miles, got 250.0."),
    ],
)
def test_a_bad_area_is_refused_in_words_and_nothing_is_saved(staff, mobile, zip_code, radius, words):
    with pytest.raises(ValidationError) as exc:
        location_service_area_set(
            user=staff[Role.ADMIN], location=mobile, centre_postal_code=zip_code, radius_miles=radius
        )
    assert exc.value.message.startswith(words)
    mobile.refresh_from_db()
    assert mobile.service_centre_postal_code == "" and mobile.service_radius_miles is None
