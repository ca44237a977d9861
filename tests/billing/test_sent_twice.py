"""A money form sent twice (a double click, a request the browser sent again) records once: one payment,
one refund at the processor, one package sold. The form's one-time key is claimed in the same transaction
as what it records, so a refused first attempt leaves the form usable."""

from __future__ import annotations

import html
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from ketaclinic.billing import processors
from ketaclinic.billing import services as b
from ketaclinic.billing.models import LedgerEntry, PackageSale, SubmittedForm
from ketaclinic.billing.selectors import balance_cents

pytestmark = pytest.mark.django_db


def url(patient) -> str:
    return f"/billing/patients/{patient.external_id}/"


def keys_on_the_page(client, patient) -> dict[str, str]:
    """Each money form on the account page with its own one-time key."""
    page = client.get(url(patient)).content.decode()
    found = re.findall(
        r'name="action" value="(\w+)"><input type="hidden" name="once" value="([0-9a-f-]{36})"', page
    )
    return dict(found)


def test_every_money_form_carries_its_own_key_and_a_new_one_each_time_the_page_is_shown(
    client_for, clerk, patient, series
):
    client = client_for(clerk)
    client.post(url(patient), {"action": "sell", "package": series.pk})
    first = keys_on_the_page(client, patient)
    assert {"sell", "pay"} <= set(first)
    assert keys_on_the_page(client, patient)["pay"] != first["pay"]


def test_a_payment_sent_twice_is_recorded_once_and_the_second_answer_says_so(
    client_for, clerk, patient, series
):
    client = client_for(clerk)
    client.post(url(patient), {"action": "sell", "package": series.pk})
    once = keys_on_the_page(client, patient)["pay"]
    form = {"action": "pay", "amount": "500.00", "method": "cash", "once": once}
    assert client.post(url(patient), form).status_code == 302
    again = client.post(url(patient), form, follow=True)
    assert again.status_code == 200
    assert b.FORM_ALREADY_SENT in html.unescape(again.content.decode())
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert balance_cents(b.account_for(patient)) == 347_500 - 50_000
    other = {**form, "once": str(uuid.uuid4())}  # the same amount again, from a new form: a second payment
    assert client.post(url(patient), other).status_code == 302
    assert LedgerEntry.objects.filter(kind="payment").count() == 2


def test_a_card_refund_sent_twice_refunds_the_card_once(client_for, clerk, patient, series, monkeypatch):
    client = client_for(clerk)
    client.post(url(patient), {"action": "sell", "package": series.pk})
    client.post(
        url(patient), {"action": "pay", "amount": "100.00", "method": "card", "card_token": "tok_x_4242"}
    )
    paid = LedgerEntry.objects.get(kind="payment")
    refunds_at_the_processor: list[int] = []
    real = processors.FakeProcessor.refund

    def counted(self, *, reference: str, amount_cents: int) -> str:
        refunds_at_the_processor.append(amount_cents)
        return real(self, reference=reference, amount_cents=amount_cents)

    monkeypatch.setattr(processors.FakeProcessor, "refund", counted)
    form = {
        "action": "refund",
        "payment": paid.external_id,
        "amount": "50",
        "reason": "Overcharged",
        "once": keys_on_the_page(client, patient)["refund"],
    }
    assert client.post(url(patient), form).status_code == 302
    assert client.post(url(patient), form).status_code == 302
    assert refunds_at_the_processor == [5_000]
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_package_sold_twice_by_one_form_is_sold_once(client_for, clerk, patient, series):
    client = client_for(clerk)
    form = {"action": "sell", "package": series.pk, "once": str(uuid.uuid4())}
    client.post(url(patient), form)
    client.post(url(patient), form)
    assert PackageSale.objects.count() == 1
    assert balance_cents(b.account_for(patient)) == 347_500


def test_a_refused_payment_keeps_its_form_usable(client_for, clerk, patient, series):
    """Refused by a rule (more than the balance), the form's key is rolled back with everything else: the
    clerk corrects the amount and sends the same form again."""
    client = client_for(clerk)
    client.post(url(patient), {"action": "sell", "package": series.pk})
    once = str(uuid.uuid4())
    too_much = client.post(
        url(patient), {"action": "pay", "amount": "9,999.00", "method": "cash", "once": once}
    )
    assert too_much.status_code == 400 and "larger than the balance due" in too_much.content.decode()
    assert not SubmittedForm.objects.filter(key=once).exists()
    fixed = client.post(url(patient), {"action": "pay", "amount": "99.00", "method": "cash", "once": once})
    assert fixed.status_code == 302 and LedgerEntry.objects.filter(kind="payment").count() == 1


def test_a_form_without_a_key_still_records(client_for, clerk, patient, series):
    """A page opened before the keys existed (or a key that is not one) is not refused for that alone."""
    client = client_for(clerk)
    assert (
        client.post(url(patient), {"action": "sell", "package": series.pk, "once": "nonsense"}).status_code
        == 302
    )
    assert PackageSale.objects.count() == 1 and not SubmittedForm.objects.exists()


# On PostgreSQL the eight requests run at once on their own connections (the test's data must commit; flushed
# after); the tests' in-memory SQLite takes one writer at a time, so there they run one after another.
PG = os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.mark.django_db(transaction=PG)
def test_eight_taps_at_once_on_one_payment_form_record_one_payment(client_for, clerk, patient, series):
    b.package_sell(user=clerk, patient=patient, package=series)
    clients = [client_for(clerk) for _ in range(8)]
    form = {"action": "pay", "amount": "100.00", "method": "cash", "once": str(uuid.uuid4())}

    def tap(client) -> int:
        try:
            return client.post(url(patient), form).status_code
        finally:
            if PG:
                connection.close()

    if PG:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(tap, clients))
    else:
        answers = [tap(c) for c in clients]
    assert answers == [302] * 8  # each answer goes back to the account page, the later ones saying why
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    assert balance_cents(b.account_for(patient)) == 347_500 - 10_000
