"""Sign-in as staff see it: wrong password, password-only roles, the authenticator code, sign-out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e import flows


def test_demo_key_matches_the_demo_loader():
    from ketaclinic.web.demo import DEMO_PASSWORD, DEMO_TOTP_KEY_HEX

    assert (flows.DEMO_TOTP_KEY_HEX, flows.DEMO_PASSWORD) == (DEMO_TOTP_KEY_HEX, DEMO_PASSWORD)


def test_wrong_password_is_refused_with_a_message(new_page, shot):
    page = new_page()
    flows.password_step(page, "nurse.patel", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Your username and password did not match")
    expect(page.get_by_role("heading", name="Sign in to ketaclinic")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("nurse.patel")
    shot(page, "refused")


def test_nurse_signs_in_with_a_password_only_and_signs_out(new_page, shot):
    page = new_page()
    flows.password_step(page, "nurse.patel")
    expect(page.get_by_role("heading", name="Good day, Asha")).to_be_visible()
    expect(page.get_by_text("Asha Patel · Infusion nurse")).to_be_visible()
    shot(page, "dashboard")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to ketaclinic")).to_be_visible()
    page.goto("/patients/")  # signed out: the chart list is closed again
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/patients/"))


def test_prescriber_needs_the_authenticator_code(new_page, shot):
    page = new_page()
    flows.password_step(page, "np.chen")
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    page.goto("/patients/")  # the password alone opens nothing
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    right = flows.totp_now()
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not valid")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)  # nothing to open before the code
    shot(page, "wrong-code")
    # django-otp refuses every code for 1 s after a wrong one (then 2 s, 4 s, ...); a person takes longer
    # than that to type the next code. Nothing on the page changes when the pause ends, so wait it out.
    page.wait_for_timeout(1_100)
    page.get_by_label("Code").fill(flows.totp_now())
    page.get_by_role("button", name="Verify").click()
    expect(
        page.get_by_role("heading", name="Patients")
    ).to_be_visible()  # back where the prescriber was going
    expect(page.get_by_text("Mei Chen · Prescriber")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to ketaclinic")).to_be_visible()
