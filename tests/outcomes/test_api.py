"""The outcomes API: record, correct, trajectory, flags (assess needs both fields), boosters, errors."""

from __future__ import annotations

import pytest

from ketaclinic.core.access import Role
from ketaclinic.outcomes.models import QuestionnaireResponse, SafetyFlag
from tests.outcomes.conftest import phq9

pytestmark = pytest.mark.django_db


def test_record_correct_trajectory_flags_over_the_api(staff, patient, client_for):
    nurse = client_for(staff[Role.NURSE])
    base = f"/api/outcomes/patients/{patient.external_id}"
    first = nurse.post(
        f"{base}/responses",
        {"instrument": "phq9", "answers": phq9(20), "timepoint": "baseline"},
        content_type="application/json",
    )
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["total"], body["severity"], body["loinc_panel"], body["source"]) == (
        20,
        "severe",
        "44249-1",
        "staff",
    )
    bad = nurse.post(
        f"{base}/responses", {"instrument": "phq9", "answers": [9] * 9}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "phq9_1"
    risky = nurse.post(
        f"{base}/responses", {"instrument": "phq9", "answers": phq9(9, 1)}, content_type="application/json"
    ).json()
    assert "suicidal_ideation" in risky["flags"]
    fixed = nurse.post(
        f"/api/outcomes/responses/{risky['id']}/correct",
        {"answers": phq9(8), "reason": "Item 9 was misread"},
        content_type="application/json",
    )
    assert fixed.status_code == 201 and fixed.json()["replaces"] == risky["id"]
    assert QuestionnaireResponse.objects.count() == 3
    t = nurse.get(f"{base}/trajectory/phq9").json()
    assert (
        [p["total"] for p in t["points"]] == [20.0, 8.0]
        and t["responder"] is True
        and t["response_line"] == 10.0
    )
    flags = nurse.get("/api/outcomes/flags").json()
    assert (
        len(flags) == 1 and flags[0]["reason"] == "suicidal_ideation"
    )  # a correction does not silence a flag
    refused = nurse.post(
        f"/api/outcomes/flags/{flags[0]['id']}/assess",
        {"assessment": "Seen in clinic today.", "plan": ""},
        content_type="application/json",
    )
    # the schema says a plan is required (minLength 1): refused before the service, naming the field
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "plan"
    assert SafetyFlag.objects.get().status == "open"
    done = nurse.post(
        f"/api/outcomes/flags/{flags[0]['id']}/assess",
        {"assessment": "Seen in clinic today; item 9 misread.", "plan": "No risk; routine follow-up."},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "assessed"
    assert nurse.get("/api/outcomes/flags").json() == []
