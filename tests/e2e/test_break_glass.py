"""Emergency access ("break-glass"): a nurse opens a chart outside her location with a reason; the
admin sees it in the review queue and in the audit trail, and records a review."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e import flows

INTAKE, NURSE, ADMIN = "intake.jones", "nurse.patel", "admin.morgan"  # the nurse works at Downtown only
REASON = "Patient arrived at Downtown in crisis; need her medication list and allergies now."


def test_nurse_uses_emergency_access_and_the_admin_reviews_it(new_page, shot):
    intake = new_page(INTAKE)
    patient = flows.register_patient(
        intake,
        given="Nadia",
        family=flows.unique_family_name("Northside"),
        birth_date="1969-03-30",
        location="Northside Clinic",
    )
    external_id = patient.url.rstrip("/").rsplit("/", 1)[-1]

    nurse = new_page(NURSE)
    nurse.goto("/patients/")
    nurse.get_by_label("Search patients").fill(patient.name.split()[-1])
    expect(nurse.locator("#results")).to_contain_text("No patient matches")  # not one of her patients

    response = nurse.goto(patient.url)
    assert response is not None
    assert response.status == 403
    expect(nurse.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(nurse.get_by_role("heading", name=patient.name)).to_have_count(0)  # nothing of the chart shows
    shot(nurse, "403")
    nurse.get_by_role("link", name="Emergency access…").click()
    expect(nurse.get_by_role("heading", name="Emergency access")).to_be_visible()
    expect(nurse.get_by_text(re.compile(f"{patient.mrn} is cared for at Northside Clinic"))).to_be_visible()
    nurse.get_by_label("Reason (required)").fill(REASON)
    nurse.get_by_role("button", name="Open the record").click()
    expect(nurse.get_by_role("status")).to_contain_text("Emergency access granted for 4 hours")
    expect(nurse.get_by_role("heading", name=patient.name)).to_be_visible()
    expect(nurse.get_by_text(f"{patient.mrn} · born 1969-03-30")).to_be_visible()
    shot(nurse, "chart")

    admin = new_page(ADMIN)
    admin.goto("/dashboard/")
    queue = admin.locator("section", has=admin.get_by_role("heading", name="Emergency accesses to review"))
    expect(queue).to_contain_text(patient.mrn)
    queue.get_by_role("link", name="Open the review queue").click()
    card = admin.locator(".card").filter(has_text=patient.mrn)
    expect(card).to_contain_text("Asha Patel")
    expect(card).to_contain_text(REASON)
    card.get_by_label("Appropriate", exact=True).check()
    card.get_by_label("Note").fill("Confirmed with the Downtown charge nurse.")
    shot(admin, "review")
    card.get_by_role("button", name="Record review").click()
    expect(admin.get_by_role("status")).to_have_text("Review recorded.")
    expect(admin.locator(".card").filter(has_text=patient.mrn)).to_have_count(0)

    admin.goto("/audit/?action=denied")
    denied = admin.locator("tbody tr", has_text=f"/patients/{external_id}/")
    expect(denied).to_contain_text("nurse.patel")  # the refused attempt before the emergency access
    admin.goto(f"/audit/?patient={external_id}")
    trail = admin.locator("tbody")
    expect(trail.locator("tr", has_text=REASON)).to_contain_text("Emergency access")
    expect(trail.locator("tr", has_text="Reviewed emergency access")).to_contain_text("appropriate")
