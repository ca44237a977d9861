"""The back office in a browser, at tablet size: the billing clerk opens the worklist, sells a 6-infusion
package to a patient whose infusion was given, takes an HSA card payment, and prints the superbill of the
session and the itemised receipt."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from ketaclinic.core.billing.codes import infusion_cpt_lines
from tests.e2e import flows
from tests.e2e.conftest import ARTIFACTS, TABLET
from tests.e2e.test_front_desk_pathway import clinic_today
from tests.e2e.test_session_browser import (
    ack_all,
    checklist_on_the_page,
    done,
    settled,
    sign_consent,
    vitals,
)

CLERK = "billing.kim"


def test_the_clerk_sells_a_package_takes_an_hsa_payment_and_prints_a_superbill(new_page, shot):
    page = new_page(CLERK, viewport=TABLET)
    page.goto("/billing/")
    expect(page.get_by_role("heading", name="Billing worklist")).to_be_visible()
    shot(page, "worklist")
    page.locator("[data-testid=balances] a").first.click()
    expect(page.get_by_role("heading", name=re.compile("Account of"))).to_be_visible()
    page.get_by_label("Package", exact=False).and_(page.locator("select")).select_option(
        label="6-infusion series"
    )
    page.get_by_role("button", name="Sell package").click()
    expect(page.locator(".msg.success")).to_contain_text("Sold: 6-infusion series")
    expect(page.get_by_test_id("packages")).to_contain_text("of 6 infusions left")
    page.locator("#id_amount").fill("1,500.00")
    page.locator("#id_method").select_option(label="HSA/FSA card")
    page.get_by_label("Card (from the card reader)").fill("tok_hsa_4242")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".msg.success")).to_contain_text("Payment by HSA/FSA card ending 4242")
    expect(page.get_by_test_id("ledger")).to_contain_text("−$1,500.00")
    shot(page, "account")
    page.get_by_role("link", name="Superbill").first.click()
    expect(page.get_by_test_id("superbill-lines")).to_contain_text(re.compile(r"CPT 963(65|66|74)"))
    expect(page.locator("main")).to_contain_text("NPI 1234567893")
    shot(page, "superbill")
    response = page.request.get(page.get_by_role("link", name="PDF").first.get_attribute("href") or "")
    assert response.ok and response.body()[:4] == b"%PDF"
    page.go_back()
    page.get_by_role("link", name="Itemised receipt").click()
    expect(page.get_by_test_id("receipt")).to_contain_text("card ending 4242")
    shot(page, "receipt")


def test_the_clerk_records_a_workers_comp_payer_policy_and_authorization_through_the_pages(new_page, shot):
    """Payer, policy and a 2-session prior authorization typed on the new pages; the account shows the
    sessions used and the days left; a duplicate number is refused in words; the policy is deactivated at the
    end so the demo patient's later bookings in other browser tests are not held by it."""
    page = new_page(CLERK, viewport=TABLET)
    page.goto("/billing/payers/")
    expect(page.get_by_role("heading", name="Payers", exact=True)).to_be_visible()
    page.locator("#id_name").fill("Golden State Comp Fund")
    page.locator("#id_kind").select_option(label="Workers' compensation carrier")
    page.locator("#id_payer_id").fill("GSCF1")
    page.get_by_role("button", name="Add payer").click()
    expect(page.locator(".msg.success")).to_contain_text("Payer added: Golden State Comp Fund")
    expect(page.get_by_test_id("payers")).to_contain_text("GSCF1")
    shot(page, "payers")

    page.goto("/billing/")
    page.locator("[data-testid=balances] a").first.click()
    expect(page.get_by_role("heading", name=re.compile("Account of"))).to_be_visible()
    page.get_by_text("Add a policy").click()
    page.locator("#id_payer").select_option(label="Golden State Comp Fund")
    page.locator("#id_member_id").fill("WC-77120")
    page.locator("#id_coverage_percent").fill("100")
    page.locator("#id_priority").select_option("2")
    page.get_by_role("button", name="Add policy").click()
    expect(page.locator(".msg.success")).to_contain_text("Insurance policy added: Golden State Comp Fund")
    policy = page.get_by_test_id("policies").locator("li").filter(has_text="WC-77120")
    policy.get_by_text("Add a prior authorization").click()
    today = page.evaluate("() => new Date().toISOString().slice(0, 10)")
    policy.locator("#id_number").fill("GS-2026-7")
    policy.locator("#id_approved_units").fill("2")
    policy.locator("#id_first_day").fill(today)
    policy.locator("#id_last_day").fill(today)
    policy.get_by_role("button", name="Add authorization").click()
    expect(page.locator(".msg.success")).to_contain_text("Prior authorization GS-2026-7 added")
    policy = page.get_by_test_id("policies").locator("li").filter(has_text="WC-77120")
    expect(policy.get_by_test_id("authorizations")).to_contain_text("of 2")
    shot(page, "account-insurance")

    policy.get_by_text("Add a prior authorization").click()
    policy.locator("#id_number").fill("GS-2026-7")
    policy.locator("#id_approved_units").fill("2")
    policy.locator("#id_first_day").fill(today)
    policy.locator("#id_last_day").fill(today)
    policy.get_by_role("button", name="Add authorization").click()
    expect(page.locator(".msg.error")).to_contain_text(
        "Authorization number GS-2026-7 is already on file with Golden State Comp Fund"
    )
    shot(page, "duplicate-refused")
    policy = page.get_by_test_id("policies").locator("li").filter(has_text="WC-77120")
    policy.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".msg.success")).to_contain_text("Insurance policy deactivated")


# --- the whole back-office day, on a server whose clock the test moves: sell, book, give, bill ----------

IPAD = {"width": 1024, "height": 768}  # the tablet the desk, the nurse and the clerk carry
INTAKE, NURSE, PRESCRIBER = "intake.jones", "nurse.patel", "dr.rivera"


def _package_line(page: Page, account_url: str) -> str:
    page.goto(account_url)
    return page.get_by_test_id("packages").inner_text()


def _signed_plan_from_today(desk: Page, doctor: Page, today: date, at: str) -> tuple[str, str]:
    """A new patient through the pages, as the front desk and the prescriber do it: registered and referred by
    intake, screened eligible (computed by intake, signed by the prescriber), and a signed plan whose series
    starts today at ``at``. Returns the patient's name and chart address."""
    family = flows.unique_family_name("Ledger")
    patient = flows.register_patient(desk, given="Marisol", family=family, birth_date="1979-03-14")
    flows.record_referral(desk, patient)
    flows.open_screening(desk, patient)
    flows.choose_indication(desk)
    desk.get_by_label("Referral").select_option(index=1)
    flows.fill_screening(desk)
    flows.compute(desk)
    expect(desk.get_by_test_id("computed-outcome")).to_have_text("Eligible")
    doctor.goto(desk.url)
    flows.sign_decision(doctor, outcome="Eligible")
    expect(doctor.get_by_role("status")).to_have_text("Decision signed.")
    doctor.goto(patient.url)
    doctor.get_by_role("link", name="New treatment plan").click()
    doctor.get_by_label("Screening").select_option(index=1)
    doctor.get_by_label("First infusion on or after").fill(today.isoformat())
    days = {today.weekday(), (today.weekday() + 3) % 7}
    boxes = doctor.locator("input[name=weekdays]")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        box.set_checked(int(box.get_attribute("value") or -1) in days)
    doctor.get_by_label("Start time (location's local time)").fill(at)
    doctor.locator("#id_location").select_option(label="Downtown Clinic")
    downtown_chairs = doctor.locator("#id_chair option", has_text="Downtown")
    doctor.locator("#id_chair").select_option(downtown_chairs.last.get_attribute("value"))
    doctor.get_by_role("button", name="Draft the plan").click()
    doctor.get_by_role("button", name="Sign the plan").click()
    expect(doctor.get_by_test_id("plan-status")).to_have_text("Active (signed)")
    expect(doctor.get_by_test_id("slot").first).to_contain_text(f"{today:%Y-%m-%d} {at}")
    return patient.name, patient.url


def test_a_package_sold_booked_given_and_billed_with_an_hsa_payment_and_a_superbill_pdf(
    clocked, shot, tmp_path
):
    """The issue's walk, each step by its person on a 1024x768 tablet: a new patient with a signed plan whose
    series starts today; the clerk sells a 6-infusion package; the intake coordinator books today's planned
    infusion from "Fill the chairs"; the nurse checks the patient in (one infusion taken from the package; a
    mistaken check-in cancelled gives it back), runs the checklist, starts the infusion the prescriber
    ordered, takes vital signs while the server's clock runs the bag empty, stops, observes and discharges;
    the clerk then sees 5 of 6 infusions left, takes an HSA/FSA card payment and opens the session's
    superbill, whose CPT lines are the ones the real start and stop times give and whose J3490 line carries
    the milligrams given; its PDF names them and the session's charge."""
    # The server's day starts at 10:00 with the demo's infusions running and every infuser booked until the
    # afternoon; the walk starts at about 16:30 (before anyone signs in), so that the solver of "Fill the
    # chairs", which places a slot at the earliest free start, finds a nurse on shift and free.
    clocked.advance(6.5 * 60)
    desk = clocked.page(INTAKE, viewport=IPAD)
    doctor = clocked.page(PRESCRIBER, viewport=IPAD)
    today = clinic_today(desk)
    name, chart_url = _signed_plan_from_today(desk, doctor, today, "17:30")
    patient_id = chart_url.rstrip("/").split("/")[-1]
    account_url = f"/billing/patients/{patient_id}/"
    family = name.split()[-1]

    # 1. the clerk sells the package
    clerk = clocked.page(CLERK, viewport=IPAD)
    clerk.goto(account_url)
    expect(clerk.get_by_role("heading", name=f"Account of {name}")).to_be_visible()
    clerk.get_by_label("Package", exact=False).and_(clerk.locator("select")).select_option(
        label="6-infusion series"
    )
    clerk.get_by_role("button", name="Sell package").click()
    expect(clerk.locator(".msg.success")).to_contain_text("Sold: 6-infusion series")
    expect(clerk.get_by_test_id("packages")).to_contain_text("6 of 6 infusions left")
    expect(clerk.get_by_test_id("balance")).to_contain_text("$3,475.00")
    shot(clerk, "1-package-sold")

    # 2. the intake coordinator books today's planned infusion through Fill the chairs, and only that one
    desk.goto(f"/desk/fill/?location=downtown&week={today - timedelta(days=today.weekday()):%Y-%m-%d}")
    rows = desk.get_by_test_id("proposal")
    ours = rows.filter(has_text=family).filter(has_text=f"{today:%a} {today.day} {today:%b}")
    expect(ours).to_have_count(1)
    key = ours.locator("input[name=take]").get_attribute("value")
    for i in range(rows.count()):
        take = rows.nth(i).locator("input[name=take]")
        take.set_checked(take.get_attribute("value") == key)
    shot(desk, "2-fill-the-chairs")
    desk.get_by_test_id("fill-accept").click()
    result = desk.get_by_test_id("fill-result")
    expect(result).to_have_count(1)
    expect(result).to_contain_text(name)
    expect(desk.get_by_test_id("fill-results").locator(".attn")).to_have_count(0)
    booked_at = result.locator("td").nth(1).inner_text()
    shot(desk, "2-booked")
    desk.goto(f"/desk/calendar/?location=downtown&week={today:%Y-%m-%d}")
    expect(
        desk.locator(f"#day-{today:%Y-%m-%d}").get_by_test_id("appointment").filter(has_text=name).first
    ).to_be_visible()
    assert _package_line(clerk, account_url).endswith("6 of 6 infusions left")  # booking takes no unit

    # 3. the nurse checks the patient in: one infusion is taken; a mistaken check-in cancelled gives it back
    nurse = clocked.page(NURSE, viewport=IPAD)

    def check_in() -> str:
        nurse.goto("/sessions/board/?location=downtown")
        nurse.get_by_test_id("slot").filter(has_text=name).get_by_role(
            "button", name=re.compile("^Check in")
        ).click()
        expect(nurse.get_by_test_id("state")).to_have_text("Checked in")
        return re.sub(r"^https?://[^/]+", "", nurse.url)

    url = check_in()
    assert "5 of 6 infusions left" in _package_line(clerk, account_url)
    nurse.goto(url)
    nurse.get_by_text("Cancel this session…").click()
    nurse.get_by_label("Why is the session cancelled?").fill("Checked in by mistake: wrong patient called")
    nurse.get_by_role("button", name="Cancel session").click()
    settled(nurse)
    expect(nurse.get_by_test_id("state")).to_have_text("Cancelled")
    assert "6 of 6 infusions left" in _package_line(clerk, account_url)
    shot(clerk, "3-unit-given-back")
    url = check_in()
    assert "5 of 6 infusions left" in _package_line(clerk, account_url)

    # 4. the infusion, as test_session_browser walks it, without the incidents
    vitals(nurse, "")  # baseline
    done(nurse, "Vital signs recorded.")
    expect(nurse.get_by_test_id("consent-status")).not_to_contain_text("Consent on file")  # a new patient
    given_name = name.removesuffix(f" {family}")
    sign_consent(desk, {"id": patient_id, "given_name": given_name, "family_name": family})
    nurse.reload()
    expect(nurse.get_by_test_id("consent-status")).to_contain_text("Consent on file")
    checklist_on_the_page(nurse, doctor, url, "72")
    nurse.get_by_role("button", name=re.compile("order from today's weight")).click()
    done(nurse, "")
    doctor.goto(url)
    doctor.get_by_role("button", name="Sign order").click()
    done(doctor, "Order signed.")
    nurse.reload()
    nurse.get_by_role("button", name="Checklist complete").click()
    done(nurse, "Pre-infusion checklist passed.")
    bag = nurse.get_by_test_id("order-bag").inner_text()
    drawn, strength = re.search(r"draw ([\d.]+) mL of the ([\d.]+) mg/mL vial", bag).groups()
    doctor.goto(url)
    doctor.get_by_test_id("bag-check-link").click()
    doctor.get_by_label("Vial strength on the label (mg/mL)").fill(strength)
    doctor.get_by_label("Volume drawn, on the syringe (mL)").fill(drawn)
    doctor.get_by_role("button", name="Record the check").click()
    expect(doctor.get_by_test_id("vial-check-result")).to_contain_text("match the order")
    nurse.reload()
    nurse.get_by_role("button", name="Start infusion").click()
    done(nurse, "Infusion started.")
    expect(nurse.get_by_test_id("state")).to_have_text("Running")
    shot(nurse, "4-running")
    sid = url.strip("/").split("/")[-1]
    d = nurse.request.get(f"/api/sessions/{sid}").json()["delivery"]
    left_min = (d["vtbi_ml"] - d["delivered_ml"]) / d["current_rate_ml_per_h"] * 60
    while left_min > 0:  # readings every 8 minutes on the server's clock until the bag is empty
        step = min(8.0, left_min + 1)
        clocked.advance(step)
        left_min -= step
        nurse.reload()
        vitals(nurse, "")
        settled(nurse)
        ack_all(nurse, "Rechecked, within limits")
    expect(nurse.get_by_test_id("stop-pump")).to_be_visible(timeout=20_000)
    stop = nurse.locator("form[action$='/stop/']")
    stop.get_by_label("Reason", exact=True).fill("Bag empty")
    stop.get_by_role("button", name="Stop infusion").click()
    done(nurse, "Infusion stopped")
    for _ in range(2):
        clocked.advance(15)
        nurse.reload()
        ack_all(nurse, "Recovery vital signs taken")
        vitals(nurse, "", sys=124, dia=78, hr=74)
        done(nurse, "Vital signs recorded.")
    clocked.advance(2)
    vitals(nurse, "", sys=122, dia=78, hr=72)
    done(nurse, "Vital signs recorded.")
    form = nurse.locator("form[action$='/discharge-assess/']")
    for item in ("Activity and mental status", "Pain", "Nausea / vomiting", "Intake and output"):
        form.locator("fieldset, div.field").filter(has_text=item).first.get_by_role("radio").first.check()
    form.get_by_label("Escort present").check()
    form.get_by_label("Escort's name").fill("Sam Driver")
    form.get_by_label("Discharge instructions given and explained").check()
    form.get_by_role("button", name="Assess for discharge").click()
    done(nurse, "")
    nurse.get_by_role("button", name="Discharge", exact=True).click()
    done(nurse, "")
    expect(nurse.get_by_test_id("state")).to_have_text("Discharged")
    shot(nurse, "4-discharged")
    given = nurse.request.get(f"/api/sessions/{sid}").json()
    started = datetime.fromisoformat(given["session"]["started_at"])
    ended = datetime.fromisoformat(given["session"]["ended_at"])
    mg = Decimal(str(round(given["delivery"]["delivered_mg"], 3))).normalize()

    # 5. the clerk (signed in again: the idle sign-out ran on the server's clock) sees the package used,
    # takes an HSA/FSA card payment and opens the superbill
    clocked.storage_states.pop(CLERK, None)
    clerk = clocked.page(CLERK, viewport=IPAD)
    clerk.goto(account_url)
    expect(clerk.get_by_test_id("packages")).to_contain_text("5 of 6 infusions left")
    clerk.locator("#id_amount").fill("1,000.00")
    clerk.locator("#id_method").select_option(label="HSA/FSA card")
    clerk.get_by_label("Card (from the card reader)").fill("tok_hsa_5550")
    clerk.get_by_role("button", name="Record payment").click()
    expect(clerk.locator(".msg.success")).to_contain_text("Payment by HSA/FSA card ending 5550")
    expect(clerk.get_by_test_id("balance")).to_contain_text("$2,475.00")
    shot(clerk, "5-account-paid")
    clerk.get_by_role("link", name="Superbill").first.click()
    lines = clerk.get_by_test_id("superbill-lines")
    expected = infusion_cpt_lines(started, ended)
    assert [c.code for c in expected] == ["96365"]  # a 40-minute infusion: the initial hour only
    for line in expected:
        row = lines.locator("tr", has_text=f"CPT {line.code}")
        expect(row.locator("td").nth(2)).to_have_text(str(line.units))
    expect(lines.locator("tr", has_text="HCPCS J3490")).to_contain_text(
        f"ketamine hydrochloride {mg:f} mg IV"
    )
    expect(clerk.locator("main")).to_contain_text(f"{today:%Y-%m-%d}")  # the day it was booked for and given
    assert booked_at.startswith(f"{today:%a} {today.day} {today:%b}")
    charge = "$579.16"  # $3,475.00 over six infusions, rounded down to the cent
    expect(clerk.locator("main")).to_contain_text(charge)
    shot(clerk, "5-superbill")
    pdf = clerk.request.get(clerk.get_by_role("link", name="PDF").first.get_attribute("href") or "")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "superbill.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "96365" in text and "J3490" in text and f"{mg:f} mg" in text and charge in text, text
    assert name in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(ARTIFACTS / "superbill-pdf")], check=True)


def test_a_double_tap_on_record_payment_records_one_payment(new_page, shot):
    """The tablet's double tap: the button stops after the first, and the server keeps the form's key, so
    a second request (sent anyway) records nothing."""
    page = new_page(CLERK, viewport=TABLET)
    page.goto("/billing/")
    page.locator("[data-testid=balances] a").last.click()
    page.get_by_label("Package", exact=False).and_(page.locator("select")).select_option(
        label="6-infusion series"
    )
    page.get_by_role("button", name="Sell package").click()
    expect(page.locator(".msg.success")).to_contain_text("Sold: 6-infusion series")
    ledger = page.get_by_test_id("ledger")
    before = ledger.locator("tr", has_text="−$13.37").count()
    pay_form = page.locator("form", has=page.locator("input[name=action][value=pay]"))
    sent = {
        "csrfmiddlewaretoken": pay_form.locator("input[name=csrfmiddlewaretoken]").get_attribute("value"),
        "once": pay_form.locator("input[name=once]").get_attribute("value"),
        "action": "pay",
        "amount": "13.37",
        "method": "cash",
    }
    page.locator("#id_amount").fill("13.37")
    page.locator("#id_method").select_option(label="Cash")
    page.get_by_role("button", name="Record payment").dblclick()
    expect(page.locator(".msg.success")).to_contain_text("Payment by Cash")
    page.reload()
    expect(ledger.locator("tr", has_text="−$13.37")).to_have_count(before + 1)
    shot(page, "one-payment-after-a-double-tap")
    resent = page.request.post(page.url, form=sent)  # the same form sent again another way
    assert resent.ok and "recorded once, not twice" in resent.text()
    page.reload()
    expect(ledger.locator("tr", has_text="−$13.37")).to_have_count(before + 1)
