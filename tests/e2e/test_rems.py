"""The esketamine REMS form in the browser: the prescriber's dashboard lists the overdue and due-soon forms,
the form page shows what is missing with its time windows, and the prescriber confirms it."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_the_prescriber_sees_the_overdue_form_and_completes_it(new_page, shot):
    page = new_page("dr.rivera")
    page.goto("/")
    rems = page.get_by_test_id("rems-worklist")
    expect(rems).to_contain_text("2 days overdue")
    expect(rems).to_contain_text("Due in 1 day")
    shot(page, "worklist")
    rems.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile("REMS Patient Monitoring Form"))).to_be_visible()
    missing = page.get_by_test_id("rems-missing")
    expect(missing).to_contain_text("Device lot numbers: none entered")
    shot(page, "form")
    page.get_by_label("Device lot numbers").fill("24KX118")
    page.get_by_label("Concomitant medications that may cause sedation or blood pressure changes").fill(
        "none"
    )
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Confirm the form").click()
    expect(page.get_by_test_id("rems-complete")).to_be_visible()
    expect(page.get_by_role("button", name="Mark submitted")).to_be_visible()
    shot(page, "confirmed")
