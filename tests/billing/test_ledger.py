"""The money ledger: charges, payments, refunds, reversals and write-offs as append-only entries, the balance
derived from them, and every refusal leaving nothing half-saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction

from ketaclinic.audit.models import AuditEntry
from ketaclinic.billing import rules
from ketaclinic.billing import services as b
from ketaclinic.billing.models import LedgerEntry, PriceList
from ketaclinic.billing.selectors import balance_cents
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def entries(patient) -> int:
    return LedgerEntry.objects.filter(account__patient=patient).count()


def test_a_package_sale_charges_the_seeded_price_and_the_balance_follows_the_entries(clerk, patient, series):
    sale = b.package_sell(user=clerk, patient=patient, package=series)
    assert sale.infusions == 6 and sale.charge.amount_cents == 347_500
    account = b.account_for(patient)
    assert balance_cents(account) == 347_500
    b.payment_record(user=clerk, patient=patient, amount_cents=100_000, method="cash")
    b.payment_record(user=clerk, patient=patient, amount_cents=47_500, method="check", check_number="1042")
    assert balance_cents(account) == 200_000
    assert rules.money_words(balance_cents(account)) == "$2,000.00"
    assert (
        AuditEntry.objects.filter(
            patient_external_id=patient.external_id, summary__startswith="Payment"
        ).count()
        == 2
    )


def test_a_payment_larger_than_the_balance_is_refused_and_nothing_is_saved(clerk, patient, series):
    b.package_sell(user=clerk, patient=patient, package=series)
    before = entries(patient)
    with pytest.raises(ValidationError, match=r"larger than the balance due of \$3,475.00") as exc:
        b.payment_record(
            user=clerk, patient=patient, amount_cents=347_501, method="card", card_token="tok_visa_4242"
        )
    assert exc.value.field == "amount"
    assert entries(patient) == before


def test_a_card_payment_keeps_only_the_processor_reference_and_last_four(clerk, patient, series):
    b.package_sell(user=clerk, patient=patient, package=series)
    with pytest.raises(ValidationError, match="declined"):
        b.payment_record(
            user=clerk, patient=patient, amount_cents=100, method="card", card_token="tok_declined_0002"
        )
    assert entries(patient) == 1  # the charge alone
    paid = b.payment_record(
        user=clerk, patient=patient, amount_cents=347_500, method="hsa_fsa", card_token="tok_hsa_1881"
    )
    assert paid.card_last4 == "1881" and paid.processor_reference.startswith("pi_fake_")


def test_a_refund_is_at_most_what_was_paid_that_way_and_not_yet_refunded(clerk, patient, series):
    b.package_sell(user=clerk, patient=patient, package=series)
    card = b.payment_record(
        user=clerk, patient=patient, amount_cents=200_000, method="card", card_token="tok_visa_4242"
    )
    b.payment_record(user=clerk, patient=patient, amount_cents=50_000, method="cash")
    refund = b.refund_record(
        user=clerk, payment=card, amount_cents=150_000, reason="Stopped after two infusions"
    )
    assert refund.processor_reference.startswith("re_fake_") and refund.card_last4 == "4242"
    before = entries(patient)
    with pytest.raises(
        ValidationError, match=r"larger than what was paid by card and not yet refunded \(\$500.00\)"
    ):
        b.refund_record(user=clerk, payment=card, amount_cents=50_001, reason="Again")
    assert entries(patient) == before
    assert balance_cents(b.account_for(patient)) == 347_500 - 250_000 + 150_000


def test_a_correction_is_a_reversal_made_once_and_never_itself_reversed(clerk, patient, series):
    b.package_sell(user=clerk, patient=patient, package=series)
    wrong = b.payment_record(user=clerk, patient=patient, amount_cents=30_000, method="cash")
    reversal = b.entry_reverse(user=clerk, entry=wrong, reason="Typed against the wrong patient")
    assert balance_cents(b.account_for(patient)) == 347_500
    with pytest.raises(ValidationError, match="already reversed"):
        b.entry_reverse(user=clerk, entry=wrong, reason="Twice")
    with pytest.raises(ValidationError, match="is itself a reversal and cannot be reversed"):
        b.entry_reverse(user=clerk, entry=reversal, reason="Undo")
    with pytest.raises(ValidationError, match="Say why"):
        b.write_off_record(user=clerk, patient=patient, amount_cents=100, reason=" ")


def test_the_ledger_refuses_update_and_delete_in_the_database(clerk, patient, series):
    sale = b.package_sell(user=clerk, patient=patient, package=series)
    for sql in (
        "UPDATE billing_ledgerentry SET amount_cents = 1 WHERE id = %s",
        "DELETE FROM billing_ledgerentry WHERE id = %s",
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [sale.charge.pk])
    assert LedgerEntry.objects.get(pk=sale.charge.pk).amount_cents == 347_500


def test_a_price_without_a_currency_is_refused(clerk):
    with pytest.raises(ValidationError, match="Price has no currency"):
        rules.check_currency("")
    with pytest.raises(IntegrityError), transaction.atomic():
        PriceList.objects.create(name="No currency", currency="", effective_from="2026-01-01")


@pytest.mark.parametrize(
    ("text", "cents"), [("3475", 347_500), ("3,475.00", 347_500), ("$3,475.00", 347_500), ("0.5", 50)]
)
def test_amounts_typed_by_staff_become_exact_cents(text, cents):
    assert rules.parse_cents(text) == cents


@pytest.mark.parametrize("text", ["3.475", "abc", "-20", "0", "nan", ""])
def test_amounts_that_are_not_money_are_refused(text):
    with pytest.raises(ValidationError):
        rules.parse_cents(text)


def test_a_nurse_may_not_take_payments(staff, patient, series):
    with pytest.raises(PermissionDenied):
        b.payment_record(user=staff[Role.NURSE], patient=patient, amount_cents=100, method="cash")
