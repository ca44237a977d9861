"""Staff see only the patients of their locations, for every role; a refusal is audited, and the 403
page offers emergency access only to the roles that may use it."""

from __future__ import annotations

import pytest

from ketaclinic.core.access import Permission, Role, role_can
from ketaclinic.patients.access import OUTSIDE_LOCATIONS
from tests.accounts.conftest import denials_of, refer, screen

pytestmark = pytest.mark.django_db

ALL_ROLES = pytest.mark.parametrize("role", list(Role), ids=str)


def northside_urls(other_patient, screening) -> dict[str, str]:
    pid = other_patient.external_id
    return {
        "chart page": f"/patients/{pid}/",
        "edit page": f"/patients/{pid}/edit/",
        "referral page": f"/screening/patient/{pid}/referral/",
        "screening page": f"/screening/patient/{pid}/new/",
        "screening detail page": f"/screening/{screening.external_id}/",
        "API chart": f"/api/patients/{pid}",
        "API referrals": f"/api/screening/patients/{pid}/referrals",
        "API screenings": f"/api/screening/patients/{pid}/screenings",
        "API screening": f"/api/screening/screenings/{screening.external_id}",
    }


@pytest.fixture
def northside_screening(other_patient, northside, protocols):
    registrar = other_patient.created_by
    return screen(registrar, other_patient, refer(registrar, other_patient))


@ALL_ROLES
def test_downtown_staff_are_refused_every_northside_record_and_each_refusal_is_audited(
    role, staff, other_patient, northside_screening, client_for
):
    user = staff[role]
    client = client_for(user)
    urls = northside_urls(other_patient, northside_screening)
    for what, url in urls.items():
        response = client.get(url)
        assert response.status_code == 403, (what, response.status_code)
        if url.startswith("/api/"):
            assert response.json()["error"]["code"] in ("outside_locations", "forbidden"), what
    denials = denials_of(user)
    assert [d.path for d in denials] == list(urls.values())
    assert all(d.detail["status"] == 403 for d in denials)


@ALL_ROLES
def test_outside_location_refusal_names_the_patient_in_the_audit_entry(
    role, staff, other_patient, client_for
):
    user = staff[role]
    client_for(user).get(f"/patients/{other_patient.external_id}/")
    (denial,) = denials_of(user)
    assert denial.patient_external_id == other_patient.external_id


@pytest.mark.parametrize("role", [r for r in Role if role_can(r, Permission.PATIENT_REGISTER)], ids=str)
def test_writes_to_a_northside_patient_are_refused_and_save_nothing(role, staff, other_patient, client_for):
    client = client_for(staff[role])
    pid = other_patient.external_id
    measurements_before = other_patient.measurements.count()
    assert (
        client.post(
            f"/api/patients/{pid}/allergies", {"substance": "Latex"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        client.post(f"/patients/{pid}/allergies/", {"substance": "Latex", "severity": "mild"}).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/patients/{pid}/measurements",
            {"kind": "weight", "value": "80", "unit": "kg"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert not other_patient.allergies.exists()
    assert other_patient.measurements.count() == measurements_before


@pytest.mark.parametrize("role", [r for r in Role if role_can(r, Permission.PATIENT_REGISTER)], ids=str)
def test_registering_a_patient_at_another_location_is_refused(role, staff, northside, client_for):
    from ketaclinic.patients.services import LOCATION_NOT_YOURS

    response = client_for(staff[role]).post(
        "/api/patients",
        {
            "given_name": "Lena",
            "family_name": "Okafor",
            "birth_date": "1990-02-03",
            "sex_at_birth": "female",
            "location": "northside",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == LOCATION_NOT_YOURS.format(value=northside.name)
    assert not northside.patients.filter(family_name="Okafor").exists()


@ALL_ROLES
def test_list_and_search_never_show_a_northside_patient(role, staff, patient, other_patient, client_for):
    client = client_for(staff[role])
    for query in ("", "Nguyen", "James", "1979-09-30", "09/30/1979", other_patient.mrn):
        page = client.get("/patients/", {"q": query})
        assert page.status_code == 200
        assert other_patient not in page.context["patients"]
        assert f"/patients/{other_patient.external_id}/".encode() not in page.content
        api = client.get("/api/patients", {"q": query})
        assert api.status_code == 200
        assert str(other_patient.external_id) not in {p["id"] for p in api.json()}
    listed = client.get("/api/patients").json()
    assert [p["id"] for p in listed] == [str(patient.external_id)]


@ALL_ROLES
def test_403_page_offers_emergency_access_only_to_roles_holding_breakglass_use(
    role, staff, other_patient, client_for
):
    response = client_for(staff[role]).get(f"/patients/{other_patient.external_id}/")
    assert response.status_code == 403
    assert OUTSIDE_LOCATIONS.encode() in response.content
    link = f"/accounts/break-glass/{other_patient.external_id}/".encode()
    assert (link in response.content) is role_can(role, Permission.BREAK_GLASS)


@ALL_ROLES
def test_emergency_access_form_is_refused_to_roles_without_breakglass_use(
    role, staff, other_patient, client_for
):
    user = staff[role]
    response = client_for(user).get(f"/accounts/break-glass/{other_patient.external_id}/")
    if role_can(role, Permission.BREAK_GLASS):
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert other_patient.mrn.encode() not in response.content
        assert len(denials_of(user)) == 1


def test_search_by_exact_mrn_of_another_location_offers_emergency_access_without_the_name(
    staff, other_patient, client_for
):
    page = client_for(staff[Role.NURSE]).get("/patients/", {"q": other_patient.mrn})
    assert b"is a patient of another location" in page.content
    assert f"/accounts/break-glass/{other_patient.external_id}/".encode() in page.content
    assert b"Nguyen" not in page.content
    assert b"James" not in page.content
    billing = client_for(staff[Role.BILLING]).get("/patients/", {"q": other_patient.mrn})
    assert b"/accounts/break-glass/" not in billing.content


def test_staff_of_both_locations_see_both_patients(staff, patient, other_patient, northside, client_for):
    nurse = staff[Role.NURSE]
    nurse.locations.add(northside)
    ids = {p["id"] for p in client_for(nurse).get("/api/patients").json()}
    assert ids == {str(patient.external_id), str(other_patient.external_id)}


def test_registering_at_an_unknown_location_is_bad_input_not_a_missing_record(staff, client_for):
    from ketaclinic.patients.api import LOCATION_UNKNOWN

    response = client_for(staff[Role.INTAKE]).post(
        "/api/patients",
        {
            "given_name": "Lena",
            "family_name": "Okafor",
            "birth_date": "1990-02-03",
            "sex_at_birth": "female",
            "location": "dwntown",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": LOCATION_UNKNOWN.format(value="dwntown"),
        "field": "location",
        "value": "dwntown",
    }
