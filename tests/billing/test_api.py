"""The billing API: the worklist, an account, package sale, payments (card by token only), refunds,
write-offs, reversals, the statement link and a session's claim (codes as JSON, the 837P file). Amounts
travel as strings with their currency; refusals name the field, the value and what is allowed, as the pages
do; clinical roles are refused and nothing is saved; reading an account takes the same queries however long
its ledger is."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.billing import services as b
from ketaclinic.billing.models import LedgerEntry
from ketaclinic.billing.selectors import balance_cents
from ketaclinic.core.access import Role
from ketaclinic.core.billing.claims import x12_problems
from tests.infusions.conftest import walk

pytestmark = pytest.mark.django_db


def post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def test_the_clerk_sells_a_package_takes_a_card_refunds_writes_off_and_reverses_through_the_api(
    client_for, clerk, patient, series
):
    client = client_for(clerk)
    base = f"/api/billing/accounts/{patient.external_id}"
    sold = post(client, f"{base}/packages", {"package": "series-6"})
    assert sold.status_code == 201, sold.content
    assert sold.json()["balance"] == {"amount": "3475.00", "currency": "USD"}
    assert sold.json()["packages"][0]["infusions_left"] == 6
    paid = post(
        client,
        f"{base}/payments",
        {"amount": "1,000.00", "currency": "USD", "method": "card", "card_token": "tok_visa_4242"},
    )
    assert paid.status_code == 201, paid.content
    payment = LedgerEntry.objects.get(kind="payment")
    assert (payment.amount_cents, payment.card_last4, payment.processor_reference != "") == (
        100_000,
        "4242",
        True,
    )
    assert paid.json()["balance"]["amount"] == "2475.00"
    refunded = post(
        client,
        f"{base}/refunds",
        {"payment": str(payment.external_id), "amount": "100", "currency": "USD", "reason": "Overcharged"},
    )
    assert refunded.status_code == 201, refunded.content
    assert refunded.json()["balance"]["amount"] == "2575.00"
    off = post(client, f"{base}/write-offs", {"amount": "75.00", "currency": "usd", "reason": "Hardship"})
    assert off.status_code == 201, off.content
    written = LedgerEntry.objects.get(kind="write_off")
    back = post(client, f"{base}/reversals", {"entry": str(written.external_id), "reason": "Not approved"})
    assert back.status_code == 201, back.content
    assert back.json()["balance"]["amount"] == "2575.00"
    assert balance_cents(b.account_for(patient)) == 257_500
    kinds = [e["kind"] for e in back.json()["entries"]]
    assert kinds == ["charge", "payment", "refund", "write_off", "reversal"]
    assert [e["reversed"] for e in back.json()["entries"]] == [False, False, False, True, False]
    link = client.post(f"{base}/statement-link")
    assert link.status_code == 201 and "/statement/" in link.json()["url"]


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        (
            {"amount": "3475.01", "currency": "USD", "method": "cash"},
            400,
            "amount",
            "balance due of $3,475.00",
        ),
        ({"amount": "10.00", "currency": "XYZ", "method": "cash"}, 400, "currency", "XYZ"),
        ({"amount": "10.00", "currency": "EUR", "method": "cash"}, 400, "currency", "kept in USD"),
        ({"amount": 10.5, "currency": "USD", "method": "cash"}, 422, "amount", "string"),
        ({"amount": "10.005", "currency": "USD", "method": "cash"}, 400, "amount", "10.005"),
        ({"amount": "0", "currency": "USD", "method": "cash"}, 400, "amount", "more than zero"),
        ({"amount": "10.00", "currency": "USD", "method": "card"}, 400, "card", "card"),
        ({"amount": "10.00", "currency": "USD", "method": "insurance"}, 400, "method", "cash, check"),
    ],
)
def test_a_payment_the_pages_would_refuse_is_refused_naming_the_field_and_nothing_is_saved(
    client_for, clerk, patient, sold, body, status, field, words
):
    r = post(client_for(clerk), f"/api/billing/accounts/{patient.external_id}/payments", body)
    assert r.status_code == status, r.content
    error = r.json()["error"]
    assert error["field"] == field and words in error["message"], error
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_a_refund_over_what_was_paid_that_way_is_refused(client_for, clerk, patient, sold):
    cash = b.payment_record(user=clerk, patient=patient, amount_cents=50_000, method="cash")
    r = post(
        client_for(clerk),
        f"/api/billing/accounts/{patient.external_id}/refunds",
        {"payment": str(cash.external_id), "amount": "500.01", "currency": "USD", "reason": "Overpaid"},
    )
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"] == "amount" and "$500.00" in r.json()["error"]["message"]
    assert not LedgerEntry.objects.filter(kind="refund").exists()


@pytest.mark.parametrize("role", [Role.NURSE, Role.PRESCRIBER, Role.INTAKE])
def test_clinical_roles_may_not_read_or_record_billing(client_for, staff, patient, sold, role):
    client = client_for(staff[role])
    base = f"/api/billing/accounts/{patient.external_id}"
    assert client.get("/api/billing/worklist").status_code == 403
    assert client.get(base).status_code == 403
    r = post(client, f"{base}/payments", {"amount": "10.00", "currency": "USD", "method": "cash"})
    assert r.status_code == 403 and r.json()["error"]["code"] in ("forbidden", "outside_locations")
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_reading_an_account_takes_the_same_queries_however_long_the_ledger(
    client_for, clerk, patient, series
):
    client = client_for(clerk)
    url = f"/api/billing/accounts/{patient.external_id}"
    b.package_sell(user=clerk, patient=patient, package=series)
    b.payment_record(user=clerk, patient=patient, amount_cents=1_000, method="cash")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(10):
        b.payment_record(user=clerk, patient=patient, amount_cents=1_000, method="cash")
    b.package_sell(user=clerk, patient=patient, package=series)
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).json()
    assert len(body["entries"]) == 13 and len(body["packages"]) == 2
    assert len(many) == len(few)


def test_the_worklist_lists_sessions_to_bill_claims_to_send_and_balances_in_fixed_queries(
    client_for, clerk, insured, session, nurse, prescriber, patient, series
):
    walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    client = client_for(clerk)
    client.get("/api/billing/worklist")
    with CaptureQueriesContext(connection) as few:
        work = client.get("/api/billing/worklist").json()
    assert [s["session"] for s in work["sessions_to_bill"]] == [str(session.external_id)]
    assert [s["session"] for s in work["claims_to_send"]] == [str(session.external_id)]
    b.package_sell(user=clerk, patient=patient, package=series)
    with CaptureQueriesContext(connection) as more:
        work = client.get("/api/billing/worklist").json()
    assert work["balances_due"][0]["balance"] == {"amount": "3475.00", "currency": "USD"}
    assert len(more) == len(few)


def test_a_sessions_claim_as_codes_and_as_the_837p(client_for, clerk, provider, insured, given):
    client = client_for(clerk)
    claim = client.get(f"/api/billing/sessions/{given.external_id}/claim")
    assert claim.status_code == 200, claim.content
    body = claim.json()
    assert body["prior_authorization"] == "PA20260042" and body["diagnosis_codes"] == ["F33.9"]
    assert "96365" in [line["code"] for line in body["lines"]]
    assert all(isinstance(line["charge"]["amount"], str) for line in body["lines"])
    x12 = client.get(f"/api/billing/sessions/{given.external_id}/claim.837")
    text = x12.content.decode()
    assert x12.status_code == 200 and x12["Content-Type"] == "application/edi-x12"
    assert text.startswith("ISA*") and x12_problems(text) == ()


def test_a_claim_missing_the_clinics_npi_is_refused_naming_it(client_for, clerk, insured, given):
    r = client_for(clerk).get(f"/api/billing/sessions/{given.external_id}/claim")
    assert r.status_code == 400 and "NPI" in r.json()["error"]["message"]
