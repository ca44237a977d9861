"""Financing plans on the account page: set up within the balance due, instalments with due dates in the
location's days and their status from payments; refusals that name the field, value and range; overdue
instalments on the billing worklist, read in a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.billing import selectors
from ketaclinic.billing import services as b
from ketaclinic.billing.models import FinancingPlan
from ketaclinic.core.errors import ValidationError
from tests.conftest import register

pytestmark = pytest.mark.django_db


def today_at(patient) -> date:
    return timezone.now().astimezone(ZoneInfo(patient.location.timezone)).date()


def owing(clerk, patient, cents: int = 90_000) -> None:
    b.charge_add(user=clerk, patient=patient, amount_cents=cents, description="6-infusion series")


def test_the_clerk_sets_up_a_plan_and_payments_mark_instalments_paid(client_for, clerk, patient):
    owing(clerk, patient)
    client = client_for(clerk)
    url = f"/billing/patients/{patient.external_id}/"
    first = today_at(patient) + timedelta(days=3)
    r = client.post(
        url,
        {
            "action": "finance",
            "amount": "900.00",
            "instalments": "3",
            "first_due": first,
            "interval_months": "1",
        },
    )
    assert r.status_code == 302
    plan = FinancingPlan.objects.get()
    assert (plan.amount_cents, plan.instalments, plan.first_due) == (90_000, 3, first)
    assert AuditEntry.objects.filter(
        summary__startswith="Financing plan of $900.00 in 3 instalments"
    ).exists()
    page = client.get(url).content.decode()
    assert page.count("$300.00") >= 3 and f"{first:%-d %b %Y}" in page and "No financing plan" not in page
    client.post(url, {"action": "pay", "amount": "450.00", "method": "cash"})
    rows = selectors.financing_plans(b.account_for(patient), today_at(patient))
    assert [s.status.value for s in rows[0].states] == ["paid", "part_paid", "due"]
    assert "Part-paid" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("amount", "900.01", "Amount financed $900.01 is more than the balance due ($900.00)"),
        (
            "instalments",
            "25",
            "Number of instalments 25 is not allowed: a plan has from 2 to 24 instalments.",
        ),
        ("instalments", "1", "from 2 to 24"),
        ("first_due", "yesterday", "is in the past: the first instalment is due today"),
    ],
)
def test_a_plan_out_of_range_is_refused_in_words_and_nothing_is_saved(
    client_for, clerk, patient, field, value, words
):
    owing(clerk, patient)
    today = today_at(patient)
    data = {
        "action": "finance",
        "amount": "900.00",
        "instalments": "6",
        "first_due": today,
        "interval_months": "1",
    }
    data[field] = today - timedelta(days=1) if value == "yesterday" else value
    r = client_for(clerk).post(f"/billing/patients/{patient.external_id}/", data)
    assert r.status_code == 400
    assert words in r.content.decode().replace("&#x27;", "'")
    assert not FinancingPlan.objects.exists()


def test_a_second_plan_is_refused_while_the_first_has_instalments_to_pay(clerk, patient):
    owing(clerk, patient)
    today = today_at(patient)
    b.financing_plan_create(user=clerk, patient=patient, amount_cents=40_000, instalments=2, first_due=today)
    with pytest.raises(ValidationError) as err:
        b.financing_plan_create(
            user=clerk, patient=patient, amount_cents=10_000, instalments=2, first_due=today
        )
    assert "already has a financing plan" in err.value.message
    assert FinancingPlan.objects.count() == 1


def test_payments_before_the_plan_do_not_pay_its_instalments(clerk, patient):
    owing(clerk, patient)
    b.payment_record(user=clerk, patient=patient, amount_cents=30_000, method="cash")
    today = today_at(patient)
    b.financing_plan_create(user=clerk, patient=patient, amount_cents=60_000, instalments=2, first_due=today)
    rows = selectors.financing_plans(b.account_for(patient), today)
    assert [s.paid.cents for s in rows[0].states] == [0, 0]


def test_overdue_instalments_are_on_the_worklist_in_a_fixed_number_of_queries(
    client_for, clerk, downtown, intake, django_assert_max_num_queries
):
    client = client_for(clerk)
    client.get("/billing/")
    names = []
    for i in range(5):
        p = register(intake, downtown, given_name=f"Fin{i}", birth_date=date(1980 + i, 1, i + 1))
        owing(clerk, p, 60_000)
        b.financing_plan_create(
            user=clerk, patient=p, amount_cents=60_000, instalments=3, first_due=today_at(p)
        )
        names.append(p.display_name)
    FinancingPlan.objects.update(first_due=long_ago())  # the first instalments' days have now passed
    with django_assert_max_num_queries(17):
        page = client.get("/billing/").content.decode()
    section = page.split('data-testid="overdue-instalments"')[1].split("</section>")[0]
    assert all(name in section for name in names) and section.count("1 of 3") == 5
    assert "$200.00" in section


def long_ago() -> date:
    return timezone.localdate() - timedelta(days=40)
