"""The front desk's week calendar and booking, as the intake coordinator uses them on the clinic's tablet:
book from the free starts, see the appointment on the calendar after a reload, try a time that is taken and
take one of the nearest free starts offered instead."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import TABLET

INTAKE = "intake.jones"


def fill_booking(page, *, day: str, at: str) -> str:
    """The booking form for a follow-up with the nurse practitioner on shift at Downtown (Mei Chen; Dr Rivera
    works the mobile team) in the consultation room; returns the patient's family name (the first patient of
    the list)."""
    patient = page.locator("#id_patient")
    patient.select_option(index=1)
    family = patient.locator("option:checked").inner_text().split(",")[0]
    page.locator("#id_type").select_option(label="Follow-up visit")
    chen = page.locator("#id_staff option", has_text="Chen").first.get_attribute("value")
    page.locator("#id_staff").select_option(chen)
    page.locator("#id_room").select_option(label="Consultation room")
    page.locator("#id_day").fill(day)
    page.locator("#id_at").fill(at)
    return family


def test_book_from_the_free_starts_then_a_taken_time_offers_the_nearest(new_page, shot):
    page = new_page(INTAKE, viewport=TABLET)
    page.goto("/")
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calendar · Downtown Clinic")
    today = page.locator("section.cal-day.today").get_attribute("id")
    tomorrow = (date.fromisoformat(today.removeprefix("day-")) + timedelta(days=1)).isoformat()
    shot(page, "calendar-week")

    page.get_by_test_id("book-link").click()
    family = fill_booking(page, day=tomorrow, at="10:00")
    page.get_by_test_id("find-slots").click()
    first = page.get_by_test_id("slot").first
    expect(first).to_be_visible()
    shot(page, "free-starts")
    chosen = first.get_attribute("value")  # 2026-12-05T10:00
    first.click()
    expect(page).to_have_url(re.compile(r"/desk/calendar/"))
    expect(page.locator(".msg")).to_contain_text("Booked follow-up visit")

    page.reload()
    day = page.locator(f"#day-{chosen[:10]}")
    block = day.get_by_test_id("appointment").filter(has_text=family).filter(has_text=chosen[11:16])
    expect(block.first).to_be_visible()
    shot(page, "calendar-booked")

    page.get_by_test_id("book-link").click()
    fill_booking(page, day=chosen[:10], at=chosen[11:16])
    page.get_by_test_id("book-at").click()
    expect(page.get_by_test_id("refusal")).to_contain_text("already booked")
    expect(page.locator("#id_room")).to_have_value(re.compile(".+"))  # what was typed is kept
    offered = page.get_by_test_id("slot")
    expect(offered.first).to_be_visible()
    shot(page, "clash-offers")
    other = offered.first.get_attribute("value")
    assert other != chosen
    offered.first.click()
    expect(page).to_have_url(re.compile(r"/desk/calendar/"))
    expect(page.locator(".msg")).to_contain_text("Booked follow-up visit")
    page.reload()
    again = page.locator(f"#day-{other[:10]}").get_by_test_id("appointment").filter(has_text=other[11:16])
    expect(again.filter(has_text=family).first).to_be_visible()


def test_fill_the_chairs_and_an_appointments_page(new_page, shot):
    page = new_page(INTAKE, viewport=TABLET)
    page.goto("/desk/calendar/?location=downtown")
    page.get_by_test_id("fill-link").click()
    expect(page.get_by_test_id("fill-compare")).to_contain_text("First free slot, in order")
    shot(page, "fill")
    page.goto("/desk/calendar/?location=downtown")
    page.locator("section.cal-day.today a[data-testid=appointment]").first.click()
    expect(page.get_by_test_id("appointment-detail")).to_be_visible()
    expect(page.get_by_test_id("cancel-form")).to_be_visible()
    shot(page, "appointment")
