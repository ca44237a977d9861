"""Clinic admins manage staff accounts and load protocol versions through the web app."""

from __future__ import annotations

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from ketaclinic.accounts.models import User
from ketaclinic.accounts.services import LOCATIONS_REQUIRED, STAFF_LAST_ADMIN, staff_create, staff_set_active
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.protocols.files import shipped_protocol
from ketaclinic.protocols.models import ProtocolVersion

pytestmark = pytest.mark.django_db


def test_admin_creates_a_prescriber_with_a_strong_password(staff, downtown, client_for):
    admin = client_for(staff[Role.ADMIN])
    response = admin.post(
        "/accounts/staff/",
        {
            "action": "create",
            "username": "dr.new",
            "first_name": "Nia",
            "last_name": "Obi",
            "role": "prescriber",
            "prescriber_kind": "anesthesiologist",
            "credentials": "MD",
            "locations": [downtown.pk],
            "password": "a-long-and-unusual-passphrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="dr.new")
    assert (user.role, user.prescriber_kind, list(user.locations.all())) == (
        "prescriber",
        "anesthesiologist",
        [downtown],
    )
    assert user.password.startswith("md5$")  # test settings' fast hasher; base settings use argon2 first


def test_weak_passwords_and_missing_locations_are_refused(staff, downtown):
    with pytest.raises(ValidationError, match="too short"):
        staff_create(
            user=staff[Role.ADMIN], username="x", password="short", role="nurse", locations=[downtown]
        )
    with pytest.raises(ValidationError) as exc:
        staff_create(
            user=staff[Role.ADMIN],
            username="y",
            password="a-long-and-unusual-passphrase",
            role="nurse",
            locations=[],
        )
    assert exc.value.message == LOCATIONS_REQUIRED


def test_the_last_admin_cannot_be_deactivated(staff):
    admin = staff[Role.ADMIN]
    with pytest.raises(ValidationError) as exc:
        staff_set_active(user=admin, staff_member=admin, active=False)
    assert exc.value.message == STAFF_LAST_ADMIN
    nurse = staff_set_active(user=admin, staff_member=staff[Role.NURSE], active=False)
    assert not nurse.is_active


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.NURSE, Role.INTAKE, Role.BILLING])
def test_only_admins_open_the_staff_page(staff, client_for, role):
    assert client_for(staff[role]).get("/accounts/staff/").status_code == 403


def test_admin_loads_a_new_protocol_version_from_a_file(staff, client_for, protocols):
    data = shipped_protocol("depression-standard").model_dump(mode="json")
    new = data["version"] + 1
    data.update(version=new, changelog="Upper age 70 after medical director review")
    data["eligibility"]["age"]["max_years"] = 70
    upload = SimpleUploadedFile(
        f"depression-v{new}.yaml", yaml.safe_dump(data).encode(), content_type="application/x-yaml"
    )
    response = client_for(staff[Role.ADMIN]).post("/protocols/load/", {"document": upload}, follow=True)
    assert f"depression-standard v{new} loaded".encode() in response.content
    assert (
        ProtocolVersion.objects.get(protocol_id="depression-standard", version=new).loaded_by
        == staff[Role.ADMIN]
    )


def test_an_invalid_protocol_file_is_refused_with_the_problem(staff, client_for, protocols):
    upload = SimpleUploadedFile("bad.yaml", b"format: ketaclinic.protocol/1\nid: depression-standard\n")
    response = client_for(staff[Role.ADMIN]).post("/protocols/load/", {"document": upload}, follow=True)
    assert b"version: Field required" in response.content
    assert ProtocolVersion.objects.filter(protocol_id="depression-standard").count() == 1
