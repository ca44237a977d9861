"""The JSON API: same rules as the pages, one error shape naming field and allowed range."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.patients.models import Patient

pytestmark = pytest.mark.django_db

NEW = {
    "given_name": "Ana",
    "family_name": "Lopez",
    "birth_date": "1988-03-02",
    "sex_at_birth": "female",
    "location": "downtown",
    "weight": {"value": "150", "unit": "lb"},
}
NO = {
    c: "no"
    for c in (
        "ketamine_hypersensitivity",
        "uncontrolled_hypertension",
        "vascular_aneurysm",
        "intracerebral_haemorrhage",
        "raised_icp_iop",
        "psychosis_history",
        "pregnancy",
        "hepatic_impairment",
    )
}


@pytest.fixture
def intake_api(staff, client_for):
    return client_for(staff[Role.INTAKE])


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_register_then_read_the_chart(intake_api):
    r = post(intake_api, "/api/patients", NEW)
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    chart = intake_api.get(f"/api/patients/{pid}").json()
    assert chart["weight_kg"] == "68.04"
    assert chart["patient"]["mrn"].startswith("KC")


@pytest.mark.parametrize(
    ("change", "status", "field", "text"),
    [
        ({"birth_date": (date.today() + timedelta(days=3)).isoformat()}, 400, "birth_date", "in the future"),
        ({"weight": {"value": "0", "unit": "kg"}}, 400, "weight", "outside the allowed range 20.0–350.0 kg"),
        ({"weight": {"value": "900", "unit": "kg"}}, 400, "weight", "outside the allowed range"),
        ({"weight": {"value": "70"}}, 422, "weight.unit", "Field required"),
        ({"weight": {"value": "70", "unit": ""}}, 400, "weight", "needs a unit"),
        ({"sex_at_birth": "x"}, 422, "sex_at_birth", "String should match pattern"),
    ],
)
def test_impossible_patients_are_refused_naming_the_field(intake_api, change, status, field, text):
    r = post(intake_api, "/api/patients", {**NEW, **change})
    assert r.status_code == status, r.content
    error = r.json()["error"]
    assert error["field"] == field
    assert text in error["message"]
    assert Patient.objects.count() == 0


def test_full_screening_through_the_api(staff, client_for, intake_api, protocols):
    pid = post(intake_api, "/api/patients", NEW).json()["id"]
    ref = post(
        intake_api,
        f"/api/screening/patients/{pid}/referrals",
        {
            "indication": "trd",
            "referrer_name": "Dr. Blake",
            "referrer_role": "psychiatrist",
            "reason": "TRD",
            "received_on": date.today().isoformat(),
        },
    )
    assert ref.status_code == 201, ref.content
    s = post(
        intake_api,
        f"/api/screening/patients/{pid}/screenings",
        {
            "indication": "trd",
            "referral": ref.json()["id"],
            "contraindications": NO,
            "trials": [
                {"kind": "antidepressant", "name": "sertraline", "weeks": 8},
                {"kind": "antidepressant", "name": "bupropion", "weeks": 7},
            ],
        },
    )
    assert s.status_code == 201, s.content
    body = s.json()
    assert (body["computed_outcome"], body["protocol_id"], body["protocol_version"]) == (
        "eligible",
        "depression-standard",
        4,
    )
    # intake may not sign; the prescriber may.
    assert (
        post(intake_api, f"/api/screening/screenings/{body['id']}/sign", {"outcome": "eligible"}).status_code
        == 403
    )
    signed = post(
        client_for(staff[Role.PRESCRIBER]),
        f"/api/screening/screenings/{body['id']}/sign",
        {"outcome": "eligible"},
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["signed_outcome"] == "eligible"


def test_unknown_indication_is_refused(intake_api, protocols):
    pid = post(intake_api, "/api/patients", NEW).json()["id"]
    r = post(intake_api, f"/api/screening/patients/{pid}/screenings", {"indication": "insomnia"})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "indication"
    assert "allowed are trd" in r.json()["error"]["message"]


def test_anonymous_api_calls_get_401(client):
    assert client.get("/api/patients").status_code == 401


def test_another_locations_patient_is_403_and_audited(intake_api, other_patient):
    r = intake_api.get(f"/api/patients/{other_patient.external_id}")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "outside_locations"
    assert AuditEntry.objects.filter(
        action="denied", path=f"/api/patients/{other_patient.external_id}"
    ).exists()
