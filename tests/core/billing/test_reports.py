"""Accounts receivable by age: 0–30, 31–60, 61–90, 90+ days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ketaclinic.core.billing.money import Money
from ketaclinic.core.billing.reports import AGEING_BUCKETS, ageing_bucket, ar_ageing
from ketaclinic.core.errors import ValidationError


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0–30"),
        (30, "0–30"),
        (31, "31–60"),
        (60, "31–60"),
        (61, "61–90"),
        (90, "61–90"),
        (91, "90+"),
        (4000, "90+"),
    ],
)
def test_bucket_boundaries(days: int, bucket: str) -> None:
    assert ageing_bucket(days) == bucket


def test_a_negative_age_is_refused() -> None:
    with pytest.raises(ValidationError, match="fewer than 0 days"):
        ageing_bucket(-1)


def test_amounts_are_totalled_by_bucket_and_every_bucket_shows() -> None:
    today = date(2026, 12, 4)
    usd = lambda text: Money(Decimal(text), "USD")  # noqa: E731
    items = [
        (today, usd("100")),
        (today - timedelta(days=30), usd("50")),
        (today - timedelta(days=95), usd("475")),
    ]
    totals = ar_ageing(items, today, "USD")
    assert list(totals) == list(AGEING_BUCKETS)
    assert totals == {"0–30": usd("150"), "31–60": usd("0"), "61–90": usd("0"), "90+": usd("475")}
