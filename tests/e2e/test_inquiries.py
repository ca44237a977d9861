"""The front desk in a browser, at tablet size: someone asks for a free assessment from the public page
(linked from the sign-in page), the intake coordinator finds the request in the queue and registers the
person as a patient with a referral in one step; the admin opens a staff record."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.conftest import TABLET

INTAKE, ADMIN = "intake.jones", "admin.morgan"


def test_a_public_request_becomes_a_patient_with_a_referral(new_page, shot):
    family = flows.unique_family_name("Okonkwo")
    public = new_page(viewport=TABLET)
    public.goto("/accounts/login/")
    public.get_by_role("link", name="Request a free assessment").click()
    expect(public.get_by_role("heading", name="Request a free assessment")).to_be_visible()
    public.get_by_label("First name").fill("Adaeze")
    public.get_by_label("Last name").fill(family)
    public.get_by_role("textbox", name="Phone").fill("617 555 0187")
    public.get_by_label("Email (optional)").fill("adaeze@example.org")
    public.get_by_label("Nearest clinic").select_option(label="Downtown Clinic")
    public.get_by_label("Seeking help for (optional)").select_option(label="Treatment-resistant depression")
    public.get_by_label("Who suggested ketamine therapy?").select_option(label="My therapist or counsellor")
    expect(public.get_by_label("Leave this empty")).not_to_be_in_viewport()  # the honeypot: out of sight
    public.get_by_label(re.compile("I agree that the clinic may contact me")).check()
    shot(public, "public-form")
    public.get_by_role("button", name="Send my request").click()
    expect(public.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    expect(public.locator("main")).not_to_contain_text(family)
    expect(public.locator("main")).not_to_contain_text("555")

    desk = new_page(INTAKE, viewport=TABLET)
    desk.goto("/intake/inquiries/")
    row = desk.locator("tr", has_text=family)
    expect(row).to_contain_text("min")  # just arrived: its age in minutes
    expect(desk.locator("h2", has_text="Downtown Clinic")).to_be_visible()
    shot(desk, "queue")
    row.get_by_role("link", name=re.compile(family)).click()
    expect(desk.get_by_role("heading", name=f"Adaeze {family}")).to_be_visible()
    desk.get_by_label("Birth date").fill("1987-03-14")
    desk.get_by_label("Sex at birth").select_option(label="Female")
    expect(desk.get_by_label("Indication")).to_have_value("trd")
    desk.get_by_label("Referrer name").fill("Dana Ortiz, LCSW")
    expect(desk.get_by_label("Referrer role")).to_have_value("therapist")
    shot(desk, "convert")
    desk.get_by_role("button", name="Register patient and referral").click()
    expect(desk.locator(".msg.success")).to_contain_text(f"Registered Adaeze {family}")
    expect(desk.get_by_role("heading", name=re.compile(family))).to_be_visible()
    expect(desk.locator("section", has_text="Referrals")).to_contain_text("Dana Ortiz, LCSW")
    shot(desk, "chart")
    desk.goto("/intake/inquiries/")
    expect(desk.locator("main")).not_to_contain_text(family)


def test_the_admin_opens_a_staff_record_with_licences(new_page, shot):
    page = new_page(ADMIN, viewport=TABLET)
    page.goto("/accounts/staff/")
    alerts = page.get_by_test_id("licence-alerts")
    expect(alerts).to_contain_text("MD-245781")
    expect(alerts).to_contain_text("expires in")
    shot(page, "staff-list")
    page.get_by_role("link", name=re.compile("Rivera")).first.click()
    expect(page.get_by_label("DEA registration")).to_have_value("BR1234563")
    expect(page.get_by_label("NPI")).to_have_value("1987654328")
    expect(page.locator("section", has_text="Licences and registrations")).to_contain_text("MD-245781")
    shot(page, "staff-edit")
