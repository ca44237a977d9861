"""The front desk's whole pathway in one walk, each step as its person does it in Chromium.

A stranger asks for a free assessment on a phone; the intake coordinator turns the request into a patient
and a referral; the screening is computed by intake and signed by the prescriber; the prescriber drafts and
signs a treatment plan (all through the pages); the desk books the series from "Fill the chairs" and moves
one infusion to the patient's home (the mobile team's route). Not walked yet: the reminder job and the
patient's confirmation on a phone (test_reminder_phone walks those for a demo patient).

The server is this module's own (a fresh demo clinic on the browser tests' 10:00 clock, like
test_reminder_phone), so the test can run the reminder task against its database.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.e2e import flows
from tests.e2e.conftest import TABLET, Clocked, manage, save_failure_screenshots

PHONE = {"width": 390, "height": 844}
INTAKE, PRESCRIBER, NURSE = "intake.jones", "dr.rivera", "nurse.patel"


# The pathway patient's reminder as the task system left it: its state, its message's state, channel, address.
FIND_REMINDER = """
from ketaclinic.reminders.models import PreparationCheck
check = (
    PreparationCheck.objects.filter(appointment__patient__family_name={family!r}, asks_preparation=True)
    .select_related("message").order_by("starts_at").first()
)
message = check and check.message
print(check and check.status, message and message.status, message and message.channel,
      message and message.to_address, check and check.not_sent_reason, sep="|")
"""


def delivered_link(env: dict[str, str], family: str, worker_output: str, base_url: str) -> str:
    """The link in the reminder as the patient received it: the outbox keeps only the masked text once a
    message is delivered ("(one-time link)"), so it is read from what the sender delivered, the console
    sender's output of the jobs worker (``--- sms to +1617... (reference)`` then the text)."""
    row = manage(env, "shell", "-c", FIND_REMINDER.format(family=family)).strip().splitlines()[-1]
    status, sent, channel, to, reason = row.split("|")
    assert (status, sent) == ("waiting", "sent"), f"the reminder is {status} ({reason}), its message {sent}"
    block = worker_output.split(f"--- {channel} to {to} ", 1)[1].split("\n---\n", 1)[0]
    found = re.search(rf"{re.escape(base_url)}/prep/\S+", block)
    assert found, block
    return found.group(0)


def clinic_today(page: Page) -> date:
    """The clinic's day on the server's clock (the calendar marks it), not the test machine's."""
    page.goto("/desk/calendar/?location=downtown")
    today = page.locator("section.cal-day.today").get_attribute("id") or ""
    return date.fromisoformat(today.removeprefix("day-"))


def test_a_new_person_walks_the_front_desk_pathway(browser, desk_server, shot):
    base_url, clock_file, env = desk_server
    site = Clocked(browser, base_url, clock_file)
    family = flows.unique_family_name("Whitfield")
    name = f"Imogen {family}"
    try:
        # 1. the public request, on a phone, no account
        public = site.page(viewport=PHONE)
        public.goto("/accounts/login/")
        public.get_by_role("link", name="Request a free assessment").click()
        public.get_by_label("First name").fill("Imogen")
        public.get_by_label("Last name").fill(family)
        public.get_by_role("textbox", name="Phone").fill("617 555 0142")
        public.get_by_label("Email (optional)").fill("imogen@example.org")
        public.get_by_label("Nearest clinic").select_option(label="Downtown Clinic")
        public.get_by_label("Seeking help for (optional)").select_option(
            label="Treatment-resistant depression"
        )
        public.get_by_label("Who suggested ketamine therapy?").select_option(
            label="My therapist or counsellor"
        )
        public.get_by_label(re.compile("I agree that the clinic may contact me")).check()
        shot(public, "1-public-request")
        public.get_by_role("button", name="Send my request").click()
        expect(public.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
        shot(public, "1-sent")

        # 2. the intake coordinator turns it into a patient and a referral in one step (tablet)
        desk = site.page(INTAKE, viewport=TABLET)
        today = clinic_today(desk)
        desk.goto("/intake/inquiries/")
        row = desk.locator("tr", has_text=family)
        expect(row).to_have_count(1)
        shot(desk, "2-queue")
        row.get_by_role("link", name=re.compile(family)).click()
        desk.get_by_label("Birth date").fill("1985-09-21")
        desk.get_by_label("Sex at birth").select_option(label="Female")
        expect(desk.get_by_label("Indication")).to_have_value("trd")
        desk.get_by_label("Referrer name").fill("Dr. Paul Amsel")
        shot(desk, "2-convert")
        desk.get_by_role("button", name="Register patient and referral").click()
        expect(desk.locator(".msg.success")).to_contain_text(f"Registered {name}")
        patient = flows.Registered(url=desk.url, mrn="", name=name)
        expect(desk.locator("section", has_text="Referrals")).to_contain_text("Dr. Paul Amsel")
        shot(desk, "2-chart")
        desk.goto(f"/patients/?q={family}")
        expect(desk.locator("main tbody tr", has_text=family)).to_have_count(1)  # the patient exists once
        # the home address (for the home visit later), inside the mobile team's area
        desk.goto(patient.url)
        desk.get_by_role("link", name="Edit details").click()
        desk.get_by_label("Home address").fill("12 Brattle Street")
        desk.get_by_label("Postal code").fill("02138")
        desk.get_by_role("button", name="Save", exact=True).click()

        # 3. screening: intake computes, the prescriber signs (the screening pages)
        flows.open_screening(desk, patient)
        flows.choose_indication(desk)
        desk.get_by_label("Referral").select_option(index=1)
        flows.fill_screening(desk)
        flows.compute(desk)
        expect(desk.get_by_test_id("computed-outcome")).to_have_text("Eligible")
        screening_url = desk.url
        doctor = site.page(PRESCRIBER, viewport=TABLET)
        doctor.goto(screening_url)
        flows.sign_decision(doctor, outcome="Eligible")
        expect(doctor.get_by_role("status")).to_have_text("Decision signed.")
        shot(doctor, "3-screening-signed")

        # 4. the prescriber drafts and signs the plan: from tomorrow, at 13:00 Downtown's time
        first = today + timedelta(days=1)
        doctor.goto(patient.url)
        doctor.get_by_role("link", name="New treatment plan").click()
        doctor.get_by_label("Screening").select_option(index=1)
        doctor.get_by_label("First infusion on or after").fill(first.isoformat())
        days = {first.weekday(), (first.weekday() + 3) % 7}
        boxes = doctor.locator("input[name=weekdays]")
        for i in range(boxes.count()):
            box = boxes.nth(i)
            box.set_checked(int(box.get_attribute("value") or -1) in days)
        doctor.get_by_label("Start time (location's local time)").fill("13:00")
        doctor.locator("#id_location").select_option(label="Downtown Clinic")
        downtown_chairs = doctor.locator("#id_chair option", has_text="Downtown")
        doctor.locator("#id_chair").select_option(downtown_chairs.last.get_attribute("value"))
        shot(doctor, "4-plan-form")
        doctor.get_by_role("button", name="Draft the plan").click()
        doctor.get_by_role("button", name="Sign the plan").click()
        expect(doctor.get_by_test_id("plan-status")).to_have_text("Active (signed)")
        slots = doctor.get_by_test_id("slot")
        expect(slots.first).to_contain_text(f"{first:%Y-%m-%d} 13:00")
        plan_url = doctor.url
        shot(doctor, "4-plan-signed")
        when = [re.search(r"\d{4}-\d\d-\d\d", slots.nth(i).inner_text()) for i in range(slots.count())]
        days_planned = [date.fromisoformat(m.group(0)) for m in when if m]
        assert days_planned[0] == first and len(days_planned) >= 3

        # 5. the desk moves the last infusion to the patient's home (the mobile team), then books the series
        # from "Fill the chairs", week by week
        home_day = days_planned[-1]
        desk.goto(plan_url)
        desk.get_by_test_id("slot").last.get_by_role("link", name="Move").click()
        desk.get_by_label("New start (location's local time)").fill(f"{home_day.isoformat()}T13:00")
        desk.locator("#id_location").select_option(label="Mobile infusions (home visits)")
        desk.locator("#id_chair").select_option("")
        desk.get_by_label("At the patient's home (mobile clinic)").check()
        shot(desk, "5-move-home")
        desk.get_by_role("button", name="Save").click()
        expect(desk.get_by_test_id("slot").last).to_contain_text("At home (Mobile infusions (home visits))")
        shot(desk, "5-plan-with-home-visit")
        booked: dict[str, str] = {}  # "Infusion 1" -> "Sat 5 Dec, 07:00", as Fill the chairs booked it
        for monday in sorted({d - timedelta(days=d.weekday()) for d in days_planned}):
            desk.goto(f"/desk/fill/?location=downtown&week={monday.isoformat()}")
            proposals = desk.get_by_test_id("proposal")
            if proposals.filter(has_text=family).count() == 0:
                continue
            for i in range(proposals.count()):
                take = proposals.nth(i).locator("input[name=take]")
                take.set_checked(family in proposals.nth(i).inner_text())
            shot(desk, f"5-fill-{monday.isoformat()}")
            desk.get_by_test_id("fill-accept").click()
            results = desk.get_by_test_id("fill-result")
            expect(results.filter(has_text=family).first).to_be_visible()
            expect(desk.get_by_test_id("fill-results").locator(".attn")).to_have_count(0)
            for i in range(results.count()):
                cells = results.nth(i).locator("td")
                booked[cells.nth(0).inner_text().split(" · ")[-1]] = cells.nth(1).inner_text()
        assert sorted(booked) == [
            f"Infusion {n}" for n in range(1, len(days_planned))
        ]  # all but the home one
        first_at = booked["Infusion 1"].split(", ")[1]
        assert booked["Infusion 1"].startswith(f"{first:%a} {first.day} {first:%b}")
        desk.goto(f"/desk/calendar/?location=downtown&week={first.isoformat()}")
        day = desk.locator(f"#day-{first.isoformat()}")
        block = day.get_by_test_id("appointment").filter(has_text=family)
        expect(block).to_have_count(2)  # one infusion, shown on its chair's lane and its nurse's
        expect(block.first).to_have_attribute("title", re.compile(f"^Ketamine infusion {first_at}-"))
        shot(desk, "5-calendar")
        nurse = site.page(NURSE, viewport=TABLET)
        nurse.goto(f"/plans/home-visits/route/?location=mobile&date={home_day.isoformat()}")
        stop = nurse.locator("tr", has_text=family)
        expect(stop).to_contain_text("13:00")
        expect(stop).to_contain_text("12 Brattle Street")
        shot(nurse, "5-home-route")

        # 6. the task system sends tomorrow's reminders: one pass of the jobs worker (the daily 10:00
        # job); the text carries the clinic's own address (before, the link had none and opened nothing)
        board = f"/sessions/board/?location=downtown&date={first.isoformat()}"
        calendar = f"/desk/calendar/?location=downtown&week={first.isoformat()}"
        link = delivered_link(env, family, manage(env, "jobs_worker", "--once"), base_url)
        desk.goto(board)  # not answered yet: the desk sees it needs a call
        expect(desk.locator("tr", has_text=family).first).to_contain_text("Not confirmed yet")
        shot(desk, "6-board-not-confirmed")
        desk.goto(calendar)  # the block on the chair's lane (the first) carries the badge
        chair_block = (
            desk.locator(f"#day-{first.isoformat()}").get_by_test_id("appointment").filter(has_text=family)
        )
        expect(chair_block.first.locator(".badge.prep-wait")).to_be_visible()
        expect(chair_block.first.locator(".badge.prep-wait")).to_have_text("Not answered")

        # 7. the patient opens the link on the phone, confirms the preparation and names the driver
        phone = site.page(viewport=PHONE)
        phone.goto(link)
        expect(phone.get_by_text("Your upcoming appointments")).to_be_visible()
        shot(phone, "6-reminder-link")
        phone.get_by_label("A light meal only", exact=False).check()
        phone.get_by_label("No alcohol", exact=False).check()
        phone.get_by_label("I will not drive for 24 hours", exact=False).check()
        phone.get_by_label("Who is driving you home?").fill("Ana Ruiz")
        phone.get_by_role("button", name="Send my answer").click()
        expect(phone.get_by_text("You are all set")).to_be_visible()
        shot(phone, "7-confirmed")
        # the desk reloads its pages and sees the answer: the board's badge names the driver, the calendar's
        # block on the chair's lane is marked prepared
        desk.goto(board)
        expect(desk.locator("tr", has_text=family).first).to_contain_text("Prepared, driver Ana Ruiz")
        shot(desk, "7-board")
        desk.goto(calendar)
        badge = chair_block.first.locator(".badge")
        expect(badge).to_be_visible()
        expect(badge).to_have_text("Prepared")
        expect(badge).to_have_class(re.compile(r"\bprep-ok\b"))
        shot(desk, "7-calendar")

    except BaseException:
        save_failure_screenshots("front-desk-pathway", site.contexts)
        raise
    finally:
        for context in site.contexts:
            context.close()
