"""The clinic administrator in a browser, at tablet size: a location's chairs, rooms, hours and closures
(a closure over booked appointments refused, listing them), a week of staff shifts (an overlapping shift
refused), and the skills card on a staff record."""

from __future__ import annotations

import datetime
import re

from playwright.sync_api import expect

from tests.e2e.conftest import TABLET

ADMIN = "admin.morgan"


def test_the_admin_edits_a_locations_resources_and_shifts(new_page, shot):
    page = new_page(ADMIN, viewport=TABLET)
    page.goto("/desk/resources/")
    page.get_by_role("link", name="Chairs, rooms, hours and closures").first.click()
    expect(page.get_by_role("heading", name="Chairs and rooms")).to_be_visible()
    shot(page, "location")
    closure = page.locator("form", has=page.locator("input[value=closure_add]"))
    today = datetime.date.today()  # the week ahead holds the demo's booked series (twice a week)
    closure.get_by_label("First day closed").fill(today.isoformat())
    closure.get_by_label("Last day closed").fill((today + datetime.timedelta(days=7)).isoformat())
    closure.get_by_label("Reason").fill("Burst pipe")
    closure.get_by_role("button", name="Add closure").click()
    expect(page.locator(".msg.error").first).to_contain_text(re.compile("cannot close .* booked"))
    shot(page, "closure-refused")
    page.goto("/desk/resources/")
    page.get_by_role("link", name="Staff shifts").first.click()
    expect(page.get_by_test_id("shift-week")).to_contain_text(re.compile(r"\d\d:\d\d–\d\d:\d\d"))
    shot(page, "shifts")
    page.goto("/accounts/staff/")
    page.get_by_role("link", name="Grace Kim, RN").click()
    skills = page.get_by_test_id("staff-skills")
    expect(skills.get_by_label("Gives infusions")).to_be_checked()
    skills.get_by_label("Makes home visits").check()
    skills.get_by_role("button", name="Save skills").click()
    expect(page.locator(".msg.success")).to_contain_text("Skills saved.")
    expect(page.get_by_test_id("staff-skills").get_by_label("Makes home visits")).to_be_checked()
    shot(page, "staff-skills")
