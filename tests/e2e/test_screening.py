"""A full screening decision: referral, screening with the protocol's questions, the prescriber's
signature."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ketaclinic.protocols.files import shipped_protocol
from tests.e2e import flows

INTAKE, PRESCRIBER = "intake.jones", "dr.rivera"


def referred_patient(page, given: str, family_stem: str, birth_date: str) -> flows.Registered:
    patient = flows.register_patient(
        page, given=given, family=flows.unique_family_name(family_stem), birth_date=birth_date
    )
    flows.record_referral(page, patient)
    referrals = page.locator("section", has=page.get_by_role("heading", name="Referrals"))
    expect(referrals).to_contain_text("Treatment-resistant depression — from Dr. Susan Blake (Psychiatrist)")
    return patient


def decision(page):
    return page.locator("section.decision")


DEPRESSION = shipped_protocol("depression-standard")


def test_trd_screening_is_eligible_and_signed_by_a_prescriber(new_page, shot):
    page = new_page(INTAKE)
    patient = referred_patient(page, "Robin", "Eligible", "1984-06-02")
    flows.open_screening(page, patient)
    page.evaluate("window.__samePage = true")
    page.get_by_label("Indication").select_option(label="— choose —")
    expect(page.locator("#questions")).to_contain_text("Choose the indication first")
    expect(page.locator("#questions fieldset")).to_have_count(0)
    flows.choose_indication(page)  # the protocol's questions arrive through htmx ...
    assert page.evaluate("window.__samePage === true")  # ... without reloading the page
    expect(page.locator("#questions")).to_contain_text(
        f"Depression (TRD / MDD) — standard IV ketamine series (v{DEPRESSION.version})"
    )
    page.get_by_label("Referral").select_option(
        label="Referral from Dr. Susan Blake (Treatment-resistant depression)"
    )
    flows.fill_screening(page)
    shot(page, "form")
    flows.compute(page)
    expect(decision(page).get_by_test_id("computed-outcome")).to_have_text("Eligible")
    expect(decision(page)).to_contain_text(f"standard IV ketamine series (v{DEPRESSION.version})")
    trials = page.locator("section", has=page.get_by_role("heading", name="Failed trials"))
    expect(trials).to_contain_text("sertraline 150 mg daily — 8 weeks")
    expect(trials).to_contain_text("venlafaxine XR 225 mg daily — 10 weeks")
    expect(page.get_by_text("Awaiting a prescriber's signature.")).to_be_visible()  # intake cannot sign
    expect(page.get_by_role("button", name="Sign decision")).to_have_count(0)
    screening_url = page.url

    prescriber = new_page(PRESCRIBER)
    prescriber.goto("/dashboard/")
    waiting = prescriber.locator(
        "section", has=prescriber.get_by_role("heading", name="Screenings awaiting your signature")
    )
    waiting.get_by_role("link", name=patient.name).click()
    expect(prescriber).to_have_url(screening_url)
    flows.sign_decision(prescriber, outcome="Eligible")
    expect(prescriber.get_by_role("status")).to_have_text("Decision signed.")
    expect(decision(prescriber).get_by_role("heading", level=2)).to_have_text(
        re.compile(r"Signed decision:\s+Eligible")
    )
    expect(decision(prescriber)).to_contain_text("Signed by Elena Rivera")
    expect(prescriber.get_by_role("button", name="Sign decision")).to_have_count(0)  # final
    shot(prescriber, "signed")

    prescriber.goto(patient.url)
    screenings = prescriber.locator("section", has=prescriber.get_by_role("heading", name="Screenings"))
    expect(screenings.locator("tbody tr")).to_have_count(1)
    expect(screenings).to_contain_text("Eligible")
    expect(screenings).to_contain_text("Signed")


def test_past_substance_use_needs_review_and_a_signing_note(new_page, shot):
    page = new_page(INTAKE)
    patient = referred_patient(page, "Casey", "Review", "1977-10-15")
    flows.open_screening(page, patient)
    flows.choose_indication(page)
    page.get_by_label("Referral").select_option(index=1)
    flows.fill_screening(page, substance_use="Past substance use")
    page.get_by_label("Substance use notes").fill("Alcohol use disorder, in remission for 4 years.")
    flows.compute(page)
    expect(decision(page).get_by_test_id("computed-outcome")).to_have_text("Needs prescriber review")
    expect(decision(page).locator(".reasons")).to_contain_text(re.compile("substance", re.IGNORECASE))
    screening_url = page.url

    prescriber = new_page(PRESCRIBER)
    prescriber.goto(screening_url)
    flows.sign_decision(prescriber, outcome="Eligible")
    expect(prescriber.locator(".field.has-error")).to_contain_text(
        "A note is required when the screening needed review."
    )
    expect(decision(prescriber).get_by_test_id("computed-outcome")).to_be_visible()  # still unsigned
    shot(prescriber, "note-required")
    flows.sign_decision(
        prescriber,
        outcome="Eligible",
        note="Reviewed with the referring psychiatrist: sustained remission, low risk.",
    )
    expect(decision(prescriber).get_by_role("heading", level=2)).to_have_text(
        re.compile(r"Signed decision:\s+Eligible")
    )
    expect(decision(prescriber)).to_contain_text("(computed: Needs prescriber review)")
    expect(decision(prescriber)).to_contain_text("Note: “Reviewed with the referring psychiatrist")
