"""A whole infusion session in the browser, on the nurse's tablet: check in, checklist, order signed by the
prescriber, start, vital signs every interval with one alert acknowledged, a titration, stop, recovery,
discharge and the signed note; then the day board, the MAR and the discharge instructions.

The server's clock cannot be faked, so the nurse enters each step as a late entry ("Earlier time…" and
"Taken at"), as the services allow (never in the future, never before the previous event): the session
happened over the last two hours and the protocol's 30 minutes of observation have passed for real.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

ZONE = ZoneInfo("America/New_York")  # the demo clinics' time zone
NURSE, PRESCRIBER, INTAKE = "nurse.patel", "dr.rivera", "intake.jones"


def local(minutes_ago: float, now: datetime) -> str:
    return (now - timedelta(minutes=minutes_ago)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def schedule_session(page: Page) -> tuple[str, str, dict]:
    """The front desk books today's infusion for a Downtown patient who has not signed the consent yet (through
    the API, as a scheduler would)."""
    patients = page.request.get("/api/patients?q=").json()
    patient = next(p for p in patients if p["location"] == "downtown"
                   and page.request.get(f"/api/consent/patients/{p['id']}").json()["state"] != "on_file")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    start = (datetime.now(tz=ZONE) - timedelta(minutes=120)).isoformat()
    r = page.request.post(f"/api/sessions/patients/{patient['id']}/sessions",
                          data={"scheduled_start": start, "protocol_id": "depression-standard"},
                          headers={"X-CSRFToken": csrf, "Referer": page.url})
    assert r.status == 201, r.text()
    return r.json()["id"], patient["sex_at_birth"], patient


def sign_consent(page: Page, patient: dict) -> None:
    """The patient signs the consent on the clinic's tablet: reads, types the name, draws a signature."""
    page.goto(f"/consent/patient/{patient['id']}/sign/")
    page.get_by_label("I have read the text above").check()
    page.get_by_label("Full name (typed)").fill(f"{patient['given_name']} {patient['family_name']}")
    box = page.locator("#signature-pad").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + box["height"] / 2 + (15 if step % 2 else -15))
    page.mouse.up()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Consent signed and stored.")).to_be_visible()


def settled(page: Page) -> None:
    """Wait until the page's htmx request (the form just submitted) has been answered and swapped in."""
    page.wait_for_function("!document.querySelector('.htmx-request')")


def done(page: Page, text: str) -> None:
    settled(page)
    expect(page.get_by_test_id("error")).to_have_count(0)
    expect(page.get_by_test_id("notice")).to_contain_text(text)


def at(page: Page, action: str, when: str) -> None:
    """Press an action button with an earlier time."""
    form = page.locator(f"form[action$='/{action}/']")
    form.locator("summary").click()
    form.locator("input[name=at]").fill(when)
    form.locator("button[type=submit]").click()


def vitals(page: Page, when: str, sys: int = 124, dia: int = 78, hr: int = 74, spo2: int = 98, rr: int = 14,
           sedation: str = "None") -> None:
    page.get_by_label("BP systolic (mmHg)").fill(str(sys))
    page.get_by_label("BP diastolic (mmHg)").fill(str(dia))
    page.get_by_label("Heart rate (/min)").fill(str(hr))
    page.get_by_label("SpO₂ (%)").fill(str(spo2))
    page.get_by_label("Respiratory rate (/min)").fill(str(rr))
    page.get_by_label("Sedation / dissociation").select_option(label=sedation)
    page.get_by_label("Taken at, if not now").fill(when)
    page.get_by_role("button", name="Save vital signs").click()


def test_a_whole_session_on_the_tablet(new_page, shot):  # type: ignore[no-untyped-def]
    now = datetime.now(tz=ZONE)
    desk = new_page(INTAKE)
    session_id, sex, patient = schedule_session(desk)
    url = f"/sessions/{session_id}/"

    nurse = new_page(NURSE)
    nurse.goto(url)
    expect(nurse.get_by_test_id("state")).to_have_text("Scheduled")
    at(nurse, "check-in", local(110, now))
    done(nurse, "Checked in.")
    vitals(nurse, local(105, now))  # baseline
    done(nurse, "Vital signs recorded.")

    # Consent is checked against the record, not taken on the nurse's word: refused until the patient signs.
    nurse.get_by_role("button", name=re.compile(r"^Signed informed consent.*: yes$")).click()
    settled(nurse)
    expect(nurse.get_by_test_id("error")).to_contain_text("the patient's consent is not on file")
    expect(nurse.get_by_test_id("consent-status")).to_contain_text("Not signed")
    sign_consent(desk, patient)
    nurse.goto(url)
    expect(nurse.get_by_test_id("consent-status")).to_contain_text("Consent on file")
    for question in ("Identity checked", "Signed informed consent", "No heavy meal", "No alcohol",
                     "Current medications reviewed", "Escort or driver"):
        nurse.get_by_role("button", name=re.compile(rf"^{question}.*: yes$")).click()
        done(nurse, "Checklist answer recorded.")
    weight = nurse.get_by_test_id("check-weight_today")
    weight.get_by_label("Weight").fill("72")
    weight.get_by_role("button", name="Save").click()
    done(nurse, "Checklist answer recorded.")
    phq = nurse.get_by_test_id("check-phq9_today")
    phq.get_by_label("Value").fill("19")
    phq.get_by_role("button", name="Save").click()
    done(nurse, "Checklist answer recorded.")
    if sex == "female":
        nurse.get_by_test_id("check-pregnancy_status").get_by_role("button", name="Not pregnant").click()
        done(nurse, "Checklist answer recorded.")
    nurse.get_by_role("button", name=re.compile("Calculate the order")).click()
    done(nurse, "Order calculated")
    expect(nurse.get_by_role("button", name="Sign order")).to_have_count(0)  # a nurse does not sign orders

    doctor = new_page(PRESCRIBER)
    doctor.goto(url)
    expect(doctor.get_by_test_id("order")).to_contain_text("mL/h")
    shot(doctor, "order-for-signature")
    doctor.get_by_role("button", name="Sign order").click()
    done(doctor, "Order signed.")

    nurse.goto(url)
    nurse.get_by_role("button", name="Checklist complete").click()
    done(nurse, "Pre-infusion checklist passed.")
    at(nurse, "start", local(100, now))
    done(nurse, "Infusion started.")
    expect(nurse.get_by_test_id("state")).to_have_text("Running")

    vitals(nurse, local(95, now), hr=78)
    done(nurse, "Vital signs recorded.")
    vitals(nurse, local(90, now), sys=184, dia=104, hr=96, sedation="Mild")
    done(nurse, "1 alert(s) to acknowledge")
    alert = nurse.get_by_test_id("alert")
    expect(alert).to_contain_text("Suggested")
    nurse.wait_for_function("document.querySelector('img.chart').complete && document.querySelector('img.chart').naturalWidth > 0")
    shot(nurse, "alert")
    alert.get_by_label("What was done").fill("Rate reduced per Dr. Rivera; BP rechecked")
    alert.get_by_role("button", name="Acknowledge").click()
    done(nurse, "Alert acknowledged.")

    rate = nurse.locator("form[action$='/rate/']")
    rate.get_by_label("New rate (mg/h)").fill("30")
    rate.get_by_label("Reason for the change").fill("Systolic 184: rate reduced on the prescriber's order")
    signer = rate.get_by_label("Ordered by (prescriber)")
    options = signer.locator("option").all_inner_texts()
    signer.select_option(label=next(o for o in options if "Rivera" in o))
    rate.get_by_label("When, if not now").fill(local(88, now))
    rate.get_by_role("button", name="Change rate").click()
    done(nurse, "Rate changed.")
    expect(nurse.get_by_test_id("rate")).to_contain_text("30.0 mg/h")

    for minutes_ago, sys in ((80, 150), (70, 136), (61, 128)):
        vitals(nurse, local(minutes_ago, now), sys=sys, dia=84, hr=80)
        done(nurse, "Vital signs recorded.")
    at(nurse, "stop", local(60, now))
    done(nurse, "Infusion stopped")
    expect(nurse.get_by_test_id("state")).to_have_text("Recovering")
    for minutes_ago in (45, 30, 15):
        vitals(nurse, local(minutes_ago, now), sys=126, dia=80, hr=72)
        done(nurse, "Vital signs recorded.")

    nurse.get_by_role("button", name="Discharge", exact=True).click()
    settled(nurse)
    expect(nurse.get_by_test_id("error")).to_contain_text("no passing discharge assessment")
    nurse.get_by_label("Escort present").check()
    nurse.get_by_label("Escort's name").fill("Ana Garcia (sister)")
    nurse.get_by_label("Discharge instructions given and explained").check()
    nurse.get_by_role("button", name="Assess for discharge").click()
    done(nurse, "Discharge assessment recorded.")
    expect(nurse.get_by_test_id("assessment")).to_contain_text("fit for discharge")
    expect(nurse.get_by_test_id("chart")).to_be_visible()
    nurse.wait_for_function("document.querySelector('img.chart').naturalWidth > 0")
    shot(nurse, "live-session-recovering")
    nurse.set_viewport_size({"width": 1180, "height": 1300})
    nurse.evaluate("window.scrollTo(0, 0)")
    shot(nurse, "live-session-chart", full_page=False)
    nurse.set_viewport_size({"width": 1180, "height": 820})
    nurse.get_by_role("button", name="Discharge", exact=True).click()
    done(nurse, "Discharged.")
    expect(nurse.get_by_test_id("state")).to_have_text("Discharged")

    nurse.get_by_role("link", name="Discharge instructions").click()
    expect(nurse.get_by_test_id("instructions")).to_contain_text("Do not drive")
    expect(nurse.get_by_test_id("instructions")).to_contain_text("617-555-0100")
    shot(nurse, "discharge-instructions")
    nurse.emulate_media(media="print")
    expect(nurse.get_by_role("banner")).to_be_hidden()  # the print stylesheet drops the navigation
    shot(nurse, "discharge-instructions-print")
    nurse.emulate_media(media="screen")

    nurse.goto(f"{url}note/")
    nurse.get_by_role("button", name="Generate the note").click()
    expect(nurse.get_by_test_id("note-text")).to_contain_text("rate changed to 30 mg/h")
    nurse.get_by_role("button", name="Sign the note").click()
    expect(nurse.get_by_role("heading", name=re.compile("Signed note"))).to_be_visible()
    shot(nurse, "signed-note")

    nurse.goto(f"{url}mar/")
    expect(nurse.get_by_test_id("mar")).to_contain_text("total infused")
    expect(nurse.get_by_test_id("mar")).to_contain_text("30.0 mg/h")
    shot(nurse, "mar")
    nurse.emulate_media(media="print")
    shot(nurse, "mar-print")
    nurse.emulate_media(media="screen")

    nurse.goto("/sessions/board/?location=downtown")
    expect(nurse.get_by_test_id("board")).to_contain_text("Discharged")
    shot(nurse, "day-board")

