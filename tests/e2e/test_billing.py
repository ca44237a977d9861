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
