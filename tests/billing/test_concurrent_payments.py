"""Concurrent payments on one account never lose or double an entry: twelve clerks paying $1,000.00 at once
on a $3,475.00 balance get exactly three through; the others are told the balance left."""

from __future__ import annotations

import pytest

from ketaclinic.billing import services as b
from ketaclinic.billing.models import LedgerEntry, Package
from ketaclinic.billing.selectors import balance_cents
from ketaclinic.core.access import Role
from tests.infusions.test_races import PG, people, race, split


@pytest.mark.django_db(transaction=PG)
def test_twelve_payments_at_once_take_exactly_what_is_owed(downtown, patient):
    clerks = people(Role.BILLING, downtown)
    b.package_sell(user=clerks[0], patient=patient, package=Package.objects.get(code="series-6"))

    def pay(clerk):
        return b.payment_record(user=clerk, patient=patient, amount_cents=100_000, method="cash")

    done, refused = split(race(pay, clerks), clerks)
    assert len(done) == 3 and len(refused) == 9
    assert all("larger than the balance due" in str(r) for _, r in refused)
    assert LedgerEntry.objects.filter(account__patient=patient, kind="payment").count() == 3
    assert balance_cents(b.account_for(patient)) == 47_500
