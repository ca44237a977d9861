"""Patient search (live, through htmx) and registration with units, as the intake coordinator uses them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.conftest import open_page

INTAKE = "intake.jones"
SEARCH_BIRTH_DATE = "1952-07-19"  # older than every demo patient


@pytest.fixture(scope="module")
def searchable(server, browser, storage_states) -> flows.Registered:
    """A patient registered through the registration page, with a name no demo patient has."""
    page = open_page(browser, server, storage_states, INTAKE)
    patient = flows.register_patient(
        page,
        given="Quentin",
        family=flows.unique_family_name("Zabriskie"),
        birth_date=SEARCH_BIRTH_DATE,
        sex="Male",
    )
    page.context.close()
    return patient


def results(page):
    return page.locator("#results tbody tr")


def live_search(page, text: str) -> None:
    """Type into the search box without pressing Enter; the results update in place (htmx)."""
    page.get_by_label("Search patients").fill(text)
    expect(page).to_have_url(re.compile(r"\?q="))  # htmx pushed the search into the address bar


@pytest.fixture
def patient_list(new_page):
    page = new_page(INTAKE)
    page.goto("/patients/")
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    page.evaluate("window.__samePage = true")  # survives only if the page is never reloaded
    yield page
    assert page.evaluate("window.__samePage === true"), "the search reloaded the page instead of updating it"


def test_search_by_name_updates_live(patient_list, searchable, shot):
    page = patient_list
    family = searchable.name.split()[-1]
    live_search(page, family[:-1].lower())  # part of the name, any case
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text(f"{family}, Quentin")
    expect(results(page).first).to_contain_text(searchable.mrn)
    shot(page, "by-name")
    live_search(page, "Nobody Matcheszzz")
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text("No patient matches “Nobody Matcheszzz” at your locations.")


def test_search_by_mrn(patient_list, searchable):
    page = patient_list
    live_search(page, searchable.mrn.lower())
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text(searchable.mrn)
    results(page).first.get_by_role("link").click()
    expect(page.get_by_role("heading", name=searchable.name)).to_be_visible()
    page.evaluate("window.__samePage = true")  # the chart is a new page, on purpose


@pytest.mark.parametrize("typed", [SEARCH_BIRTH_DATE, "07/19/1952"])
def test_search_by_birth_date(patient_list, searchable, typed):
    page = patient_list
    live_search(page, typed)
    expect(results(page).filter(has_text=searchable.mrn)).to_have_count(1)
    for row in results(page).all():
        expect(row).to_contain_text(SEARCH_BIRTH_DATE)


def test_weight_in_pounds_is_stored_and_shown_in_kg(new_page, shot):
    page = new_page(INTAKE)
    patient = flows.register_patient(
        page,
        given="Lena",
        family=flows.unique_family_name("Poundstone"),
        birth_date="1990-02-11",
        weight=("154", "lb"),
        height=("64", "in"),
    )
    body = page.locator("section", has=page.get_by_role("heading", name="Body"))
    expect(body).to_contain_text("69.85 kg")  # 154 lb × 0.45359237
    expect(body).to_contain_text("(entered 154 lb")
    expect(body).to_contain_text("162.56 cm")  # 64 in × 2.54
    shot(page, "chart")
    assert patient.mrn.startswith("KC")


def field_with_error(page, label: str):
    """The form field labelled ``label`` (required fields show a ``*``) when it carries an error."""
    name = page.locator("label, legend", has_text=re.compile(rf"^{re.escape(label)}( \*)?$"))
    return page.locator(".field.has-error").filter(has=name)


def test_weight_without_a_unit_is_refused_naming_the_field(new_page, shot):
    page = new_page(INTAKE)
    family = flows.unique_family_name("Nounit")
    flows.fill_registration(page, given="Ada", family=family, birth_date="1988-08-08", weight=("70", ""))
    page.get_by_role("button", name="Register").click()
    expect(field_with_error(page, "Weight unit")).to_contain_text(
        "Choose the unit of the weight: it is never guessed."
    )
    expect(page.get_by_label("Weight", exact=True)).to_have_value("70")  # what was typed is kept
    shot(page, "refused")
    page.goto(f"/patients/?q={family}")
    expect(results(page).first).to_contain_text("No patient matches")  # nothing half-saved


def test_birth_date_in_the_future_is_refused(new_page):
    page = new_page(INTAKE)
    family = flows.unique_family_name("Future")
    flows.fill_registration(page, given="Tom", family=family, birth_date="2099-01-01")
    page.get_by_role("button", name="Register").click()
    expect(field_with_error(page, "Birth date")).to_contain_text("Birth date 2099-01-01 is in the future.")
    page.goto(f"/patients/?q={family}")
    expect(results(page).first).to_contain_text("No patient matches")


def test_duplicate_patient_warning_needs_the_confirmation_box(new_page, shot):
    page = new_page(INTAKE)
    family = flows.unique_family_name("Dupont")
    first = flows.register_patient(
        page, given="Marie", family=family, birth_date="1979-11-23", phone="617-555-0199"
    )

    flows.fill_registration(page, given="Marie", family=family, birth_date="1979-11-23", phone="617-555-0199")
    page.get_by_role("button", name="Register").click()
    warning = page.get_by_role("alert").filter(has_text="Possible duplicate patient")
    expect(warning).to_contain_text(first.mrn)
    shot(page, "warning")
    page.get_by_role("button", name="Register").click()  # again, without ticking the box: still refused
    expect(warning).to_be_visible()
    expect(page.get_by_role("heading", name="Register a patient")).to_be_visible()

    page.get_by_label("I checked: this is a different person. Register anyway.").check()
    page.get_by_role("button", name="Register").click()
    second = flows.registered(page)
    assert second.mrn != first.mrn
    page.goto(f"/patients/?q={family}")
    expect(results(page)).to_have_count(2)
