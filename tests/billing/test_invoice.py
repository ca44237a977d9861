"""The account's invoice: what is owed and by when (30 days from its date, or the payment plan's open
instalments), every charge and credit that makes the balance, how to pay; as a page and a PDF. A paid-up
account's invoice says nothing is due. The superbills carry the patient's home address."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.billing import services as b
from ketaclinic.core.access import Role

pytestmark = pytest.mark.django_db


def today_at(patient):
    return timezone.now().astimezone(ZoneInfo(patient.location.timezone)).date()


def test_the_invoice_names_the_amount_due_and_the_date_and_lists_charges_and_payments(
    client_for, clerk, provider, patient, sold
):
    b.payment_record(user=clerk, patient=patient, amount_cents=47_500, method="cash")
    client = client_for(clerk)
    page = client.get(f"/billing/patients/{patient.external_id}/invoice/").content.decode()
    today = today_at(patient)
    assert f"{patient.mrn}-{today:%Y%m%d}" in page
    assert 'data-testid="invoice-due">$3,000.00' in page  # $3,475.00 less $475.00 paid
    due = today + timedelta(days=30)
    assert f'data-testid="invoice-due-by">{due.day} {due:%B %Y}' in page
    assert (
        "$3,475.00" in page and "\u2212$475.00" in page
    )  # the package charge and the payment (a minus sign)
    assert provider.name in page and f"Tax id {provider.tax_id}" in page
    pdf = client.get(f"/billing/patients/{patient.external_id}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert f"invoice-{patient.mrn}-{today:%Y%m%d}.pdf" in pdf["Content-Disposition"]


def test_with_a_payment_plan_the_invoice_lists_the_open_instalments_instead_of_one_date(
    client_for, clerk, patient, sold
):
    first_due = today_at(patient) + timedelta(days=5)
    b.financing_plan_create(
        user=clerk,
        patient=patient,
        amount_cents=300_000,
        instalments=3,
        first_due=first_due,
        interval_months=1,
    )
    page = client_for(clerk).get(f"/billing/patients/{patient.external_id}/invoice/").content.decode()
    assert 'data-testid="invoice-instalments"' in page and 'data-testid="invoice-due-by"' not in page
    assert page.count("$1,000.00") == 3 and f"{first_due.day} {first_due:%B %Y}" in page


def test_a_paid_up_account_owes_nothing_and_the_invoice_is_for_billing_roles_only(
    client_for, clerk, staff, patient, sold
):
    b.payment_record(user=clerk, patient=patient, amount_cents=347_500, method="check", check_number="1001")
    url = f"/billing/patients/{patient.external_id}/invoice/"
    page = client_for(clerk).get(url).content.decode()
    assert 'data-testid="invoice-nothing"' in page and 'data-testid="invoice-due"' not in page
    assert client_for(staff[Role.NURSE]).get(url).status_code == 403


def test_the_superbill_carries_the_patients_home_address(
    client_for, clerk, provider, insured, given, patient
):
    page = client_for(clerk).get(f"/billing/sessions/{given.external_id}/superbill/").content.decode()
    assert "12 Elm St, Boston MA 02110" in page
