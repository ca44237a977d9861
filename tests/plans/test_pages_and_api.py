"""Plan pages and API end to end through the test client: draft, sign, move, cancel, booster, revise."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketaclinic.core.access import Role
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from tests.plans.conftest import next_monday

pytestmark = pytest.mark.django_db


def test_chart_shows_the_plan_section_and_link(client_for, staff, patient, plan):
    page = client_for(staff[Role.NURSE]).get(f"/patients/{patient.external_id}/").content.decode()
    assert "Treatment plan" in page and f"/plans/{plan.external_id}/" in page and "6 slots" in page
    assert "Not signed" in page  # consent status
    assert "New treatment plan" not in page  # nurses do not write plans
    assert (
        "New treatment plan"
        in client_for(staff[Role.PRESCRIBER]).get(f"/patients/{patient.external_id}/").content.decode()
    )


def test_draft_sign_move_cancel_through_the_pages(client_for, staff, patient, eligible, chairs):
    doc = client_for(staff[Role.PRESCRIBER])
    monday = next_monday()
    form = doc.get(f"/plans/patient/{patient.external_id}/new/")
    assert form.status_code == 200 and str(eligible.external_id) in form.content.decode()
    bad = doc.post(
        f"/plans/patient/{patient.external_id}/new/",
        {
            "screening": eligible.external_id,
            "start": monday.isoformat(),
            "weekdays": ["0", "3"],
            "at": "09:00",
            "location": "downtown",
        },
    )
    assert bad.status_code == 400 and "Choose a chair at Downtown Clinic" in bad.content.decode()
    assert not TreatmentPlan.objects.exists()
    r = doc.post(
        f"/plans/patient/{patient.external_id}/new/",
        {
            "screening": eligible.external_id,
            "start": monday.isoformat(),
            "weekdays": ["0", "3"],
            "at": "09:00",
            "location": "downtown",
            "chair": chairs[0].external_id,
            "closed": (monday + timedelta(days=3)).isoformat(),
        },
    )
    plan = TreatmentPlan.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/plans/{plan.external_id}/"
    assert (monday + timedelta(days=3)) not in [i.scheduled_start.date() for i in plan.infusions.all()]
    page = doc.get(r["Location"]).content.decode()
    assert page.count('data-testid="slot"') == 6 and "Sign the plan" in page and "Start 0.5 mg/kg" in page
    assert page.count(">evaluation</span>") == 1
    assert doc.post(f"/plans/{plan.external_id}/").status_code == 302
    plan.refresh_from_db()
    assert plan.status == "active"
    nurse = client_for(staff[Role.NURSE])
    second = plan.infusions.get(sequence=2)
    assert nurse.get(f"/plans/infusions/{second.external_id}/move/").status_code == 200
    too_close = nurse.post(
        f"/plans/infusions/{second.external_id}/move/",
        {"start": f"{monday.isoformat()}T15:00", "location": "downtown", "chair": chairs[0].external_id},
    )
    assert (
        too_close.status_code == 400
        and "the protocol sets at least 48 h between infusions" in too_close.content.decode()
    )
    ok = nurse.post(
        f"/plans/infusions/{second.external_id}/move/",
        {
            "start": f"{(monday + timedelta(days=4)).isoformat()}T13:30",
            "location": "downtown",
            "chair": chairs[1].external_id,
        },
    )
    second.refresh_from_db()
    assert ok.status_code == 302 and second.chair == chairs[1]
    assert second.scheduled_start.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "13:30"
    nurse.post(f"/plans/infusions/{second.external_id}/cancel/", {"reason": "Patient unwell"})
    second.refresh_from_db()
    assert second.status == PlannedInfusion.Status.CANCELLED
    assert nurse.get(f"/plans/{plan.external_id}/booster/").status_code == 200


def test_revise_page_makes_a_new_draft(client_for, staff, plan):
    from ketaclinic.plans.services import plan_sign

    plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    doc = client_for(staff[Role.PRESCRIBER])
    r = doc.post(
        f"/plans/{plan.external_id}/revise/",
        {
            "series_count": 8,
            "max_per_week": 2,
            "min_spacing_hours": 48,
            "evaluation_after": 8,
            "booster_min_days": 14,
            "booster_policy": "On recurrence",
            "notes": "Extend",
        },
    )
    new = TreatmentPlan.objects.get(supersedes=plan)
    assert r["Location"] == f"/plans/{new.external_id}/" and new.series_count == 8


def test_api_draft_sign_move_booster(client_for, staff, patient, eligible, chairs):
    doc = client_for(staff[Role.PRESCRIBER])
    monday = next_monday()
    r = doc.post(
        f"/api/plans/patients/{patient.external_id}/plans",
        {
            "screening": str(eligible.external_id),
            "start": monday.isoformat(),
            "weekdays": [0, 3],
            "at": "09:00",
            "location": "downtown",
            "chair": str(chairs[0].external_id),
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (
        body["protocol_id"] == "depression-standard"
        and len(body["infusions"]) == 6
        and body["status"] == "draft"
    )
    assert body["dose_strategy"]["starting_dose"] == 0.5 and body["infusions"][0]["chair"] == "Chair 1"
    signed = doc.post(f"/api/plans/plans/{body['id']}/sign", content_type="application/json").json()
    assert signed["status"] == "active"
    again = doc.post(f"/api/plans/plans/{body['id']}/sign", content_type="application/json")
    assert again.status_code == 400 and "a signed plan cannot change" in again.json()["error"]["message"]
    nurse = client_for(staff[Role.NURSE])
    slot = body["infusions"][1]["id"]
    bad = nurse.post(
        f"/api/plans/infusions/{slot}/move",
        {"start": f"{monday.isoformat()}T20:00:00-05:00"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "scheduled_start"
    last = body["infusions"][-1]["scheduled_start"][:10]
    booster_day = date.fromisoformat(last) + timedelta(days=21)
    b = nurse.post(
        f"/api/plans/plans/{body['id']}/boosters",
        {
            "start": f"{booster_day.isoformat()}T09:00:00-05:00",
            "location": "downtown",
            "chair": str(chairs[1].external_id),
        },
        content_type="application/json",
    )
    assert b.status_code == 201 and b.json()["kind"] == "booster"
    listed = nurse.get(f"/api/plans/patients/{patient.external_id}/plans").json()
    assert len(listed) == 1 and len(listed[0]["infusions"]) == 7


def test_api_refuses_a_draft_without_an_eligible_screening(client_for, staff, patient, protocols, chairs):
    from tests.accounts.conftest import screen

    s = screen(staff[Role.INTAKE], patient)
    r = client_for(staff[Role.PRESCRIBER]).post(
        f"/api/plans/patients/{patient.external_id}/plans",
        {
            "screening": str(s.external_id),
            "start": next_monday().isoformat(),
            "weekdays": [0],
            "at": "09:00",
            "location": "downtown",
            "chair": str(chairs[0].external_id),
        },
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "screening"


def test_openapi_lists_the_plan_and_consent_operations(client_for, staff):
    paths = client_for(staff[Role.NURSE]).get("/api/openapi.json").json()["paths"]
    assert (
        "/api/plans/infusions/{external_id}/move" in paths
        and "/api/consent/patients/{external_id}/links" in paths
    )
