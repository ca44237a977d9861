"""The README tour: the main pages at a tablet viewport (1180 × 820, an iPad Air in landscape).

Every run saves them to ``tests/e2e/artifacts/tour/``; with ``KETACLINIC_SCREENSHOTS=docs`` (``make
screenshots``) they also replace ``docs/img/`` — look at each one before committing it. They are
quantised to a 256-colour palette, which keeps UI screenshots legible and each well under 200 KB.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.conftest import ARTIFACTS, TABLET

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
MAX_BYTES = 300_000  # a page of the demo's worklist, at tablet width
INTAKE, PRESCRIBER, ADMIN = "intake.jones", "dr.rivera", "admin.morgan"


@pytest.fixture(scope="module")
def tour_dirs() -> list[Path]:
    dirs = [ARTIFACTS / "tour"]
    if os.environ.get("KETACLINIC_SCREENSHOTS") == "docs":
        dirs.append(DOCS_IMG)
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    return dirs


@pytest.fixture
def snap(tour_dirs):
    from PIL import Image

    def save(page, name: str, *, full_page: bool = False) -> None:
        page.mouse.move(0, 0)  # no hover effects
        raw = ARTIFACTS / f"tour-{name}.raw.png"
        page.screenshot(path=str(raw), animations="disabled", caret="hide", full_page=full_page)
        image = Image.open(raw).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        for d in tour_dirs:
            path = d / f"{name}.png"
            image.save(path, optimize=True)
            assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes"
        raw.unlink()

    return save


def test_tour(new_page, snap):
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("dr.rivera")
    snap(page, "01-login")

    intake = new_page(INTAKE, viewport=TABLET)
    patient = flows.register_patient(
        intake,
        given="Maya",
        family="Okonkwo",
        birth_date="1986-09-14",
        weight=("163", "lb"),
        height=("168", "cm"),
    )
    intake.get_by_placeholder("Medication").fill("lorazepam")
    intake.get_by_placeholder("Dose").fill("0.5 mg at night")
    intake.locator("section", has=intake.get_by_role("heading", name="Current medications")).get_by_role(
        "button", name="Add"
    ).click()
    intake.get_by_placeholder("Substance").fill("penicillin")
    intake.get_by_placeholder("Reaction").fill("hives")
    intake.locator("section", has=intake.get_by_role("heading", name="Allergies")).get_by_role(
        "button", name="Add"
    ).click()
    flows.record_referral(intake, patient)
    flows.open_screening(intake, patient)
    flows.choose_indication(intake)
    intake.get_by_label("Referral").select_option(index=1)
    flows.fill_screening(intake)
    intake.evaluate("window.scrollTo(0, 0)")
    snap(intake, "05-screening-form")
    flows.compute(intake)
    screening_url = intake.url

    prescriber = new_page(PRESCRIBER, viewport=TABLET)
    prescriber.goto("/dashboard/")
    expect(prescriber.get_by_role("heading", name="Screenings awaiting your signature")).to_be_visible()
    snap(prescriber, "02-dashboard-prescriber")
    prescriber.goto("/patients/")
    prescriber.get_by_label("Search patients").fill("mar")
    expect(prescriber).to_have_url(re.compile(r"\?q=mar$"))
    expect(prescriber.locator("#results tbody tr").first).to_contain_text(re.compile("mar", re.IGNORECASE))
    snap(prescriber, "03-patient-search")
    prescriber.goto(screening_url)
    flows.sign_decision(prescriber, outcome="Eligible")
    expect(prescriber.get_by_test_id("signed-outcome")).to_have_text("Eligible")
    snap(prescriber, "06-screening-signed")
    prescriber.goto(patient.url)
    snap(prescriber, "04-patient-chart", full_page=True)
    prescriber.goto(
        "/sessions/board/?location=downtown"
    )  # the demo's day: every state, slots to check in, a flag
    expect(prescriber.get_by_test_id("board")).to_contain_text("Running")
    expect(prescriber.get_by_test_id("slot").first).to_contain_text("of 6")
    snap(prescriber, "session-day-board", full_page=True)
    prescriber.goto("/protocols/")
    prescriber.get_by_role("link", name="Depression (TRD / MDD) — standard IV ketamine series").click()
    snap(prescriber, "08-protocol")

    admin = new_page(ADMIN, viewport=TABLET)
    admin.goto("/audit/")
    admin.get_by_role("button", name="Verify the chain").click()
    expect(admin.get_by_role("status")).to_contain_text("Chain intact")
    snap(admin, "07-audit")

    nurse = new_page("nurse.patel", viewport=TABLET)
    nurse.goto("/outcomes/worklist/?location=downtown")
    expect(nurse.locator("tr.due-overdue").first).to_be_visible()
    snap(nurse, "questionnaires-due", full_page=True)


def test_tour_desk_calendar(new_page, snap):
    """The front desk's week calendar at Downtown, opened at today: chairs, rooms and staff by time of day."""
    desk = new_page(INTAKE, viewport=TABLET)
    desk.goto("/desk/calendar/?location=downtown")
    expect(desk.locator("section.cal-day.today").get_by_test_id("appointment").first).to_be_in_viewport()
    snap(desk, "desk-calendar")
