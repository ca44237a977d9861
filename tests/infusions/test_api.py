"""The session API end to end: a whole session over HTTP, idempotent vitals, concurrency and error shapes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.core.infusion.vitals import IMPLAUSIBLE
from ketaclinic.infusions.models import VitalSigns
from ketaclinic.infusions.services import CHANGED_MEANWHILE
from tests.clock import advance, advance_to
from tests.infusions.conftest import CONFIRM, ensure_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client_for, nurse):
    c = client_for(nurse)

    def call(method: str, url: str, body: dict | None = None):
        if method == "get":
            return c.get(f"/api/sessions{url}")
        return c.post(f"/api/sessions{url}", body or {}, content_type="application/json")

    return call


def test_a_whole_session_over_the_api(api, client_for, prescriber, patient, depression, chair, session):
    sid = session.external_id
    t0 = timezone.now() - timedelta(minutes=120)
    r = api("post", f"/{sid}/check-in", {"expected_version": 1, "at": t0.isoformat()})
    assert r.status_code == 200 and r.json()["state"] == "checked_in"
    version = r.json()["version"]
    r = api(
        "post",
        f"/{sid}/vitals",
        {
            "client_id": str(uuid.uuid4()),
            "taken_at": timezone.now().isoformat(),
            "systolic_mmhg": 122,
            "diastolic_mmhg": 76,
            "heart_rate_bpm": 70,
            "spo2_percent": 98,
            "respiratory_rate_per_min": 14,
            "sedation": "none",
        },
    )
    assert r.status_code == 201 and r.json()["phase"] == "baseline"
    for code in CONFIRM:
        r = api("post", f"/{sid}/checklist", {"expected_version": version, "code": code, "answer": "yes"})
        assert r.status_code == 200, r.json()
        version += 1
    for body in (
        {"code": "weight_today", "value": "70", "unit": "kg"},
        {"code": "phq9_today", "value": 17},
        {"code": "pregnancy_status", "answer": "not_pregnant"},
    ):
        assert api("post", f"/{sid}/checklist", {"expected_version": version, **body}).status_code == 200
        version += 1
    r = api("post", f"/{sid}/orders", {"expected_version": version})
    assert r.status_code == 201 and r.json()["dose_mg"] == pytest.approx(35.0)
    order, version, bag = r.json()["id"], version + 1, r.json()
    assert bag["vtbi_ml"] > 0 and bag["bag_ml"] > 0 and bag["drug_volume_ml"] > 0
    doctor = client_for(prescriber)  # once: a TOTP code is not accepted twice
    r = doctor.post(
        f"/api/sessions/{sid}/orders/{order}/sign",
        {"expected_version": version},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["signed_at"]
    version += 1
    assert api("post", f"/{sid}/checklist/complete", {"expected_version": version}).status_code == 200
    version += 1
    r = api("post", f"/{sid}/start", {"expected_version": version})
    assert r.status_code == 400 and r.json()["error"]["field"] == "vial_check"
    r = doctor.post(
        f"/api/sessions/{sid}/vial-check",
        {
            "expected_version": version,
            "vial_mg_per_ml": bag["vial_mg_per_ml"],
            "drawn_ml": round(bag["drug_volume_ml"], 1),
        },
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["match"], r.json()
    version += 1
    start = advance(1)
    r = api("post", f"/{sid}/start", {"expected_version": version, "at": start.isoformat()})
    assert r.status_code == 200 and r.json()["kind"] == "start"
    version += 1
    advance_to(start + timedelta(minutes=10))
    r = api(
        "post",
        f"/{sid}/vitals",
        {
            "client_id": "reading-10",
            "taken_at": (start + timedelta(minutes=10)).isoformat(),
            "systolic_mmhg": 186,
            "diastolic_mmhg": 96,
            "heart_rate_bpm": 88,
        },
    )
    assert r.status_code == 201 and [a["rule"] for a in r.json()["alerts"]] == ["systolic_high"]
    alert = r.json()["alerts"][0]
    assert alert["suggested_action"] == "pause"
    r = api(
        "post", f"/{sid}/alerts/{alert['id']}/acknowledge", {"note": "Paused 5 min, BP 150/88 on recheck"}
    )
    assert r.status_code == 200 and r.json()["acknowledged_at"]
    advance_to(start + timedelta(minutes=15))
    r = doctor.post(
        f"/api/sessions/{sid}/rate",
        {
            "expected_version": version,
            "rate_mg_per_h": 40,
            "reason": "BP 186 systolic",
            "at": (start + timedelta(minutes=15)).isoformat(),
        },
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["rate_mg_per_h"] == 40
    version += 1
    advance_to(start + timedelta(minutes=45))
    r = api(
        "post",
        f"/{sid}/stop",
        {"expected_version": version, "at": (start + timedelta(minutes=45)).isoformat()},
    )
    assert r.status_code == 200
    version += 1
    advance_to(start + timedelta(minutes=80))
    api(
        "post",
        f"/{sid}/vitals",
        {
            "client_id": "recovery",
            "systolic_mmhg": 126,
            "diastolic_mmhg": 80,
            "heart_rate_bpm": 74,
            "spo2_percent": 98,
            "respiratory_rate_per_min": 14,
        },
    )
    r = api(
        "post",
        f"/{sid}/discharge-assessments",
        {
            "expected_version": version,
            "activity_mental_status": 2,
            "pain": 2,
            "nausea_vomiting": 2,
            "intake_output": 2,
            "escort_present": True,
            "instructions_given": True,
            "escort_name": "Sam",
        },
    )
    assert r.status_code == 201 and r.json()["fit"] and r.json()["total"] == 10
    version += 1
    assert api("post", f"/{sid}/discharge", {"expected_version": version}).json()["state"] == "discharged"
    version += 1
    r = api("post", f"/{sid}/note", {"expected_version": version})
    assert r.status_code == 200 and "rate changed to 40 mg/h" in r.json()["text"]
    version += 1
    assert api("post", f"/{sid}/note/sign", {"expected_version": version}).json()["signed_at"]
    detail = api("get", f"/{sid}").json()
    assert detail["session"]["state"] == "discharged" and detail["open_alerts"] == []
    assert detail["delivery"]["delivered_mg"] == pytest.approx(52.5 * 15 / 60 + 40 * 30 / 60, rel=1e-3)
    mar = api("get", f"/{sid}/mar").json()
    assert mar[0]["medication"] == "ketamine" and [x["kind"] for x in mar[0]["rates"]] == [
        "start",
        "rate",
        "stop",
    ]
    chart = api("get", f"/{sid}/vitals").json()
    assert len(chart["vitals"]) == 3 and chart["predicted"]


def test_a_retried_vitals_post_answers_200_with_the_same_reading(api, session, nurse, prescriber):
    sid = session.external_id
    api("post", f"/{sid}/check-in", {"expected_version": 1})
    body = {"client_id": "gateway-42", "heart_rate_bpm": 71, "spo2_percent": 97}
    first, again = api("post", f"/{sid}/vitals", body), api("post", f"/{sid}/vitals", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert VitalSigns.objects.filter(client_id="gateway-42").count() == 1


def test_out_of_range_vitals_name_the_range(api, session):
    sid = session.external_id
    api("post", f"/{sid}/check-in", {"expected_version": 1})
    r = api("post", f"/{sid}/vitals", {"client_id": "bad", "heart_rate_bpm": 400})
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "invalid",
        "field": "heart_rate_bpm",
        "value": "400.0",
        "message": IMPLAUSIBLE.format(label="Heart rate", value=400, unit="/min", low=0, high=350),
    }


def test_a_stale_version_answers_with_the_changed_meanwhile_message(api, session, client_for, intake):
    sid = session.external_id
    client_for(intake).post(
        f"/api/sessions/{sid}/check-in", {"expected_version": 1}, content_type="application/json"
    )
    r = api("post", f"/{sid}/cancel", {"expected_version": 1, "reason": "Unwell"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "expected_version"
    prefix = CHANGED_MEANWHILE.split("{who}")[0]
    assert r.json()["error"]["message"].startswith(prefix + "Intake Tester at ")


def test_schedule_and_the_board(api, patient, chair, depression):
    body = {
        "scheduled_start": timezone.now().isoformat(),
        "protocol_id": "depression-standard",
        "chair": str(chair.external_id),
        "added_reason": "Extra infusion agreed with the prescriber",
    }
    r = api("post", f"/patients/{patient.external_id}/sessions", body)
    assert r.status_code == 400 and "no active signed treatment plan" in r.json()["error"]["message"]
    ensure_plan(patient)
    r = api("post", f"/patients/{patient.external_id}/sessions", {**body, "added_reason": ""})
    assert r.status_code == 400 and "needs a reason" in r.json()["error"]["message"]
    r = api("post", f"/patients/{patient.external_id}/sessions", body)
    assert r.status_code == 201, r.json()
    assert r.json()["chair"] == "Chair 1" and r.json()["version"] == 1
    board = api("get", "/board?location=downtown").json()
    assert (
        board["chairs"][0]["chair"] == "Chair 1"
        and board["chairs"][0]["rows"][0]["session"]["state"] == "scheduled"
    )
    assert board["chairs"][-1] == {"chair": None, "rows": [], "slots": []} and board["flags"] == []
    assert (
        api(
            "post",
            f"/patients/{patient.external_id}/sessions",
            {"scheduled_start": timezone.now().isoformat(), "protocol_id": "nope"},
        ).status_code
        == 400
    )
    assert api("get", "/board?location=atlantis").status_code == 400


def test_the_openapi_lists_the_idempotent_vitals_post(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    post = paths["/api/sessions/{external_id}/vitals"]["post"]
    assert "idempotent" in post["summary"] and set(post["responses"]) >= {"200", "201"}


def test_reading_a_session_is_audited_once_per_request(api, session, patient):
    from ketaclinic.audit.models import AuditEntry

    before = AuditEntry.objects.order_by("-seq").first().seq
    assert api("get", f"/{session.external_id}").status_code == 200
    (entry,) = AuditEntry.objects.filter(seq__gt=before)
    assert entry.action == "view" and entry.patient_external_id == patient.external_id
    assert entry.detail["read"] == ["infusion session"]
    before = entry.seq
    day = session.scheduled_start.astimezone(
        ZoneInfo(session.location.timezone)
    ).date()  # the session's local day
    api("get", f"/board?location=downtown&day={day.isoformat()}")
    (entry,) = AuditEntry.objects.filter(seq__gt=before)
    assert str(patient.external_id) in entry.detail["patients"]


def test_the_session_api_says_when_to_stop_the_pump(api, session, nurse, prescriber):
    """A device or another screen reading the API learns the bag is empty as the page does."""
    from tests.infusions.conftest import start_infusion, walk

    start_infusion(
        walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber),
        nurse=nurse,
        prescriber=prescriber,
    )
    advance(5)
    d = api("get", f"/{session.external_id}").json()["delivery"]
    assert d["vtbi_ml"] > 0 and d["stop_pump"] is False and d["vtbi_reached_at"] is None
    advance(60)  # a 40-minute bag, an hour later
    d = api("get", f"/{session.external_id}").json()["delivery"]
    assert d["stop_pump"] is True and d["vtbi_reached_at"] is not None
    assert d["delivered_ml"] == pytest.approx(d["vtbi_ml"]) and d["current_rate_ml_per_h"] == 0
