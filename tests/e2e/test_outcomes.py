"""Measurement-based care in the browser: a patient answers on a phone through a single-use link, the
urgent flag reaches the prescriber's dashboard at once, and the trajectory and clinic dashboard render."""

from __future__ import annotations

import re

from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 1366}


def test_patient_answers_on_a_phone_and_the_escalation_reaches_the_prescriber(new_page, shot):
    nurse = new_page("nurse.patel")
    nurse.goto("/patients/")
    nurse.locator("tr.rowlink a").first.click()
    name = nurse.get_by_role("heading", level=1).inner_text()
    nurse.get_by_role("link", name="Questionnaires and outcomes").click()
    nurse.get_by_label("Questionnaire").select_option("phq9")
    nurse.get_by_label("Show the link here (to read out or print)").check()
    nurse.get_by_role("button", name="Send link").click()
    link = nurse.locator("code.newlink").inner_text()
    assert re.search(r"/q/[A-Za-z0-9_-]{40,}/$", link)
    shot(nurse, "staff-link-created")

    phone = new_page(viewport=PHONE)  # no account
    phone.goto(link)
    expect(phone.get_by_role("heading", name=re.compile(r"^Hello"))).to_be_visible()
    assert name.split()[-1] not in phone.content()  # the family name is never shown
    shot(phone, "phone-form")
    for item, answer in enumerate(["Several days"] * 8 + ["More than half the days"], start=1):
        phone.locator("fieldset").nth(item - 1).get_by_label(answer, exact=True).check()
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_role("heading", name=re.compile(r"^Thank you"))).to_be_visible()
    expect(phone.get_by_text("988", exact=True)).to_be_visible()
    shot(phone, "phone-done-crisis-lines")
    phone.goto(link)  # single use
    expect(phone.get_by_role("alert")).to_contain_text("already used")
    shot(phone, "phone-link-reused")

    prescriber = new_page("dr.rivera")
    prescriber.goto("/dashboard/")
    flags = prescriber.get_by_role("alert").filter(has_text="URGENT: safety flags to assess")
    expect(flags).to_be_visible()
    expect(flags).to_contain_text("item 9")
    shot(prescriber, "prescriber-dashboard-urgent-flag")
    flags.locator("a").last.click()
    expect(prescriber.get_by_label("Assessment")).to_have_attribute("required", "")  # no empty dismissal
    expect(prescriber.get_by_label("Plan")).to_have_attribute("required", "")
    prescriber.get_by_label("Assessment").fill("Passive thoughts, no plan or intent; lives with partner.")
    prescriber.get_by_label("Plan").fill("Safety plan reviewed by phone; 988 given; call back tomorrow 9:00.")
    prescriber.get_by_role("button", name="Record assessment and plan").click()
    expect(prescriber.get_by_text("Assessment and plan recorded; the flag is closed.")).to_be_visible()


def test_trajectory_and_clinic_dashboard(new_page, shot):
    page = new_page("dr.rivera")
    page.goto("/dashboard/")
    page.get_by_role("heading", name="Boosters proposed after relapse").locator("xpath=..").locator(
        "a"
    ).first.click()
    expect(page.locator(".status").first).to_contain_text("relapse")
    image = page.locator("img.trajectory").first
    expect(image).to_be_visible()
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "trajectory-relapse-booster")
    page.goto("/outcomes/dashboard/")
    expect(page.get_by_role("heading", name="Clinic outcomes")).to_be_visible()
    expect(page.locator("[data-measure=response_rate]")).to_contain_text("Wilson")
    expect(page.get_by_role("heading", name="Definitions")).to_be_visible()
    shot(page, "clinic-outcomes-dashboard")


def test_worklist_statuses_send_now_and_a_correction(new_page, shot):
    """The demo's worklist: overdue first (warning colour), one emailed link, a patient to hand a link to;
    "Send link now" emails; the patient page shows each questionnaire's status; a correction is refused
    with too short a reason and saved with one."""
    nurse = new_page("nurse.patel")
    nurse.goto("/outcomes/worklist/?location=downtown")
    expect(nurse.get_by_role("heading", level=1)).to_have_text(
        "Questionnaires due and overdue · Downtown Clinic"
    )
    overdue = nurse.locator("tr.due-overdue")
    expect(overdue.first.locator(".badge.qs-overdue")).to_be_visible()
    assert overdue.count() == 3
    expect(nurse.get_by_text("No email address: hand out a link").first).to_be_visible()
    expect(
        nurse.get_by_text(re.compile(r"Link waiting to be sent by email to \w\*\*\*@example\.org"))
    ).to_be_visible()
    shot(nurse, "worklist")
    overdue.filter(has_text="Elena Vasquez").get_by_role("button", name="Send link now").click()
    expect(nurse.get_by_role("status").first).to_contain_text(
        "Link queued by email to Elena Vasquez (e***@example.org)"
    )
    expect(
        nurse.locator("tr", has_text="Elena Vasquez").get_by_text(
            re.compile("waiting to be sent by email to e")
        )
    ).to_be_visible()

    nurse.locator("tr", has_text="Elena Vasquez").get_by_role("link", name="Elena Vasquez").click()
    due = nurse.locator("section.due-status")
    expect(due.locator(".badge.qs-done").first).to_be_visible()
    expect(due.locator("tr.due-overdue .badge.qs-overdue")).to_have_count(1)
    expect(due.locator(".badge.qs-upcoming").first).to_be_visible()
    shot(nurse, "patient-due-status")
    nurse.locator("tr", has_text="After the series").get_by_role("link", name="Correct").first.click()
    expect(nurse.get_by_role("heading", level=1)).to_contain_text("Correct Generalized Anxiety Disorder-7")
    nurse.get_by_label("Reason").fill("typo")  # the browser requires a reason; the service wants 5 characters
    nurse.get_by_role("button", name="Save the correction").click()
    expect(nurse.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(nurse.get_by_role("alert")).to_contain_text("A correction needs a reason (at least 5 characters).")
    nurse.get_by_label("Reason").fill("Item 1 was entered one column too far right")
    nurse.locator("fieldset").first.get_by_label("More than half the days", exact=True).check()
    nurse.get_by_role("button", name="Save the correction").click()
    expect(nurse.get_by_role("status").first).to_contain_text("corrected")
    expect(nurse.get_by_text("correction: Item 1 was entered one column too far right")).to_be_visible()
    shot(nurse, "corrected")


def test_send_a_link_by_text_message_shows_it_waiting_on_a_tablet(new_page, shot):
    """ "Send a link to the patient's phone" queues a text message; the page lists it with its status and
    shows no link (it goes to the patient's phone)."""
    nurse = new_page("nurse.patel", viewport=TABLET)
    nurse.goto("/patients/")
    nurse.locator("tr.rowlink a").first.click()
    nurse.get_by_role("link", name="Questionnaires and outcomes").click()
    card = nurse.locator("section.send-link")
    expect(card.get_by_label(re.compile(r"Text message to \+1617555"))).to_be_checked()
    card.get_by_label("Questionnaire").select_option("phq9")
    card.get_by_role("button", name="Send link").click()
    expect(nurse.get_by_role("status").first).to_contain_text(
        "The link is queued by text message to phone ending"
    )
    row = nurse.locator("section.sent-links table.messages-table tbody tr").first
    expect(row).to_contain_text("Questionnaire link")
    expect(row.locator(".badge")).to_have_text("Waiting to be sent")
    assert "/q/" not in card.inner_text()
    shot(nurse, "outcomes-link-queued-by-text")
