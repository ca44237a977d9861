"""The back office in a browser, at tablet size: the billing clerk opens the worklist, sells a 6-infusion
package to a patient whose infusion was given, takes an HSA card payment, and prints the superbill of the
session and the itemised receipt."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import TABLET

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
