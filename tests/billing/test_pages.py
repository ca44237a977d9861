"""The billing pages: the worklist (in a fixed number of queries), the account with package sale, payment,
refund and correction, billing a session, and the superbill and receipt as pages and PDFs."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.billing import services as b
from ketaclinic.billing.models import LedgerEntry
from ketaclinic.billing.selectors import balance_cents
from ketaclinic.core.access import Role
from tests.conftest import register
from tests.infusions.conftest import walk

pytestmark = pytest.mark.django_db


def test_the_billing_clerk_sells_a_package_and_takes_payments_on_the_account_page(
    client_for, clerk, patient, series
):
    client = client_for(clerk)
    url = f"/billing/patients/{patient.external_id}/"
    assert client.post(url, {"action": "sell", "package": series.pk}).status_code == 302
    page = client.get(url).content.decode()
    assert "Balance due: <strong>$3,475.00" in page and "6 of 6 infusions left" in page
    r = client.post(
        url, {"action": "pay", "amount": "1,000.00", "method": "hsa_fsa", "card_token": "tok_hsa_4242"}
    )
    assert r.status_code == 302
    paid = LedgerEntry.objects.get(kind="payment")
    assert (paid.amount_cents, paid.card_last4) == (100_000, "4242")
    too_much = client.post(url, {"action": "pay", "amount": "2,475.01", "method": "cash"})
    assert too_much.status_code == 400
    assert "larger than the balance due of $2,475.00" in too_much.content.decode()
    refund = client.post(
        url, {"action": "refund", "payment": paid.external_id, "amount": "100", "reason": "Overcharged"}
    )
    assert refund.status_code == 302
    assert balance_cents(b.account_for(patient)) == 257_500
    receipt = client.get(f"/billing/patients/{patient.external_id}/receipt/").content.decode()
    assert "card ending 4242" in receipt and "$2,575.00" in receipt


def test_a_nurse_sees_no_account_and_the_billing_role_sees_no_clinical_notes(client_for, staff, patient):
    assert client_for(staff[Role.NURSE]).get(f"/billing/patients/{patient.external_id}/").status_code == 403
    assert client_for(staff[Role.BILLING]).get("/billing/").status_code == 200


def test_the_worklist_reads_in_a_fixed_number_of_queries(
    client_for, clerk, downtown, intake, django_assert_max_num_queries
):
    client = client_for(clerk)
    client.get("/billing/")
    for i in range(6):
        p = register(intake, downtown, given_name=f"Pat{i}", birth_date=date(1980 + i, 1, i + 1))
        b.charge_add(user=clerk, patient=p, amount_cents=10_000 + i, description="Consultation")
    with django_assert_max_num_queries(16):
        page = client.get("/billing/")
    assert page.content.decode().count("/billing/patients/") >= 6


def test_a_given_session_is_on_the_worklist_until_billed_and_its_superbill_has_the_codes(
    client_for, clerk, provider, session, nurse, prescriber
):
    walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    client = client_for(clerk)
    assert str(session.external_id) in client.get("/billing/").content.decode()
    assert client.post(f"/billing/sessions/{session.external_id}/bill/").status_code == 302
    assert str(session.external_id) not in client.get("/billing/").content.decode()
    page = client.get(f"/billing/sessions/{session.external_id}/superbill/").content.decode()
    assert "CPT 96365" in page and "HCPCS J3490" in page and "NPI 1234567893" in page and "$475.00" in page
    pdf = client.get(f"/billing/sessions/{session.external_id}/superbill.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"


def test_the_reports_show_payments_by_method_receivables_and_package_liabilities_as_csv(
    client_for, clerk, patient, sold
):
    b.payment_record(user=clerk, patient=patient, amount_cents=100_000, method="cash")
    b.payment_record(
        user=clerk, patient=patient, amount_cents=47_500, method="hsa_fsa", card_token="tok_hsa_1881"
    )
    client = client_for(clerk)
    page = client.get("/billing/reports/").content.decode()
    assert "Cash" in page and "$1,000.00" in page and "HSA/FSA card" in page and "$475.00" in page
    csv_text = client.get("/billing/reports.csv").content.decode()
    assert '0–30,"$2,000.00"' in csv_text
    assert ',6,"$3,475.00"' in csv_text  # six infusions paid for, none given


def test_the_patient_reads_the_statement_once_through_the_link(client_for, clerk, patient, sold, client):
    token = b.statement_link_create(user=clerk, patient=patient)
    first = client.get(f"/statement/{token}/")
    assert first.status_code == 200 and "Balance due: <strong>$3,475.00" in first.content.decode()
    assert client.get(f"/statement/{token}/").status_code == 410
    assert client.get("/statement/not-a-token/").status_code == 410
