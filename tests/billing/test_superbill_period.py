"""A superbill for a period (a month, a course): every infusion the patient was given in it, each with its
date, codes and charge, the diagnosis and the rendering prescriber once, the period's charges and payments;
as a page and a PDF, in a fixed number of queries however many infusions; a period that is not one is
refused naming what was typed."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.billing import services as b
from tests.billing.conftest import give
from tests.clock import advance, daytime
from tests.infusions.conftest import schedule

pytestmark = pytest.mark.django_db


def test_a_period_superbill_lists_each_infusion_with_its_codes_and_the_totals(
    client_for, clerk, provider, patient, session, nurse, prescriber, depression, chair
):
    daytime(session.location.timezone)
    first = give(session, nurse, prescriber, clerk)
    tz = ZoneInfo(first.location.timezone)
    day1 = first.started_at.astimezone(tz).date()
    client = client_for(clerk)
    url = f"/billing/patients/{patient.external_id}/superbill/"
    period = {"from": f"{day1:%Y-%m-%d}", "to": f"{day1 + timedelta(days=10):%Y-%m-%d}"}
    client.get(url, period)
    with CaptureQueriesContext(connection) as one:
        page = client.get(url, period).content.decode()
    assert page.count("CPT 96365") == 1 and "NPI 1245319599" in page

    advance(3 * 24 * 60)  # three days later, the second infusion of the series
    second = give(schedule(nurse, patient, depression, chair), nurse, prescriber, clerk)
    day2 = second.started_at.astimezone(tz).date()
    b.payment_record(user=clerk, patient=patient, amount_cents=20_000, method="cash")
    client = client_for(clerk)  # signed in again: three days idle ended the sign-in
    client.get(url, period)
    with CaptureQueriesContext(connection) as two:
        page = client.get(url, period).content.decode()
    assert len(two.captured_queries) == len(one.captured_queries)  # not one more per infusion
    assert page.count("CPT 96365") == 2 and page.count("HCPCS J3490") == 2
    assert f"{day1:%Y-%m-%d}" in page and f"{day2:%Y-%m-%d}" in page
    assert page.index(f"{day1:%Y-%m-%d}</td>") < page.index(f"{day2:%Y-%m-%d}</td>")  # in date order
    assert 'data-testid="period-charge">$950.00' in page  # two infusions at $475.00
    assert 'data-testid="period-paid">$200.00' in page
    assert page.count("NPI 1245319599") == 1  # the rendering prescriber named once

    # a period that ends before the second infusion holds the first only
    only_first = client.get(url, {"from": period["from"], "to": f"{day1:%Y-%m-%d}"}).content.decode()
    assert only_first.count("CPT 96365") == 1 and "$475.00" in only_first
    pdf = client.get(f"/billing/patients/{patient.external_id}/superbill.pdf", period)
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert f"superbill-{patient.mrn}-{period['from']}-to-{period['to']}.pdf" in pdf["Content-Disposition"]


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ({"from": "2026-13-01", "to": "2026-12-31"}, "The period's first day '2026-13-01' is not a date"),
        (
            {"from": "2026-03-01", "to": "2026-02-01"},
            "The period ends (2026-02-01) before it starts (2026-03-01)",
        ),
        ({"from": "2025-01-01", "to": "2026-03-01"}, "A superbill covers at most 366 days; 2025-01-01 to"),
    ],
)
def test_a_period_that_is_not_one_is_refused_naming_it(client_for, clerk, patient, period, words):
    client = client_for(clerk)
    r = client.get(f"/billing/patients/{patient.external_id}/superbill/", period, follow=True)
    assert r.redirect_chain and r.redirect_chain[-1][0] == f"/billing/patients/{patient.external_id}/"
    assert words in r.content.decode().replace("&#x27;", "'")


def test_an_empty_period_says_so_and_the_account_page_offers_the_period(client_for, clerk, patient):
    client = client_for(clerk)
    page = client.get(f"/billing/patients/{patient.external_id}/superbill/").content.decode()
    assert 'data-testid="period-empty"' in page and "No infusions were completed in this period." in page
    account = client.get(f"/billing/patients/{patient.external_id}/").content.decode()
    assert 'data-testid="period-form"' in account and "Superbill for the period" in account


def test_the_period_superbill_is_for_billing_roles_only(client_for, staff, patient):
    from ketaclinic.core.access import Role

    url = f"/billing/patients/{patient.external_id}/superbill/"
    assert client_for(staff[Role.NURSE]).get(url).status_code == 403
