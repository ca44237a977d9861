"""Accounts-receivable ageing (issue 14): what patients and payers owe, by how long it has been owed.

Buckets are the usual 0–30, 31–60, 61–90 and over 90 days since the charge (or claim) date; a day counts on
the location's calendar, which the caller supplies as dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError

__all__ = ["AGEING_BUCKETS", "ageing_bucket", "ar_ageing"]

AGEING_BUCKETS: tuple[str, ...] = ("0–30", "31–60", "61–90", "90+")

AGE_NEGATIVE = (
    "Age {value} days is not allowed: an amount cannot be owed for fewer than 0 days (check the date)."
)


def ageing_bucket(days: int) -> str:
    """The bucket of an amount owed for ``days`` days: 0–30, 31–60, 61–90, 90+ (91 days and more)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValidationError(AGE_NEGATIVE.format(value=days), field="days", value=days)
    if days <= 30:
        return AGEING_BUCKETS[0]
    if days <= 60:
        return AGEING_BUCKETS[1]
    if days <= 90:
        return AGEING_BUCKETS[2]
    return AGEING_BUCKETS[3]


def ar_ageing(items: Iterable[tuple[date, Money]], today: date, currency: str) -> dict[str, Money]:
    """Totals by bucket of ``(owed since, amount)`` pairs; every bucket appears, zero when empty."""
    totals = {bucket: Money.zero(currency) for bucket in AGEING_BUCKETS}
    for since, amount in items:
        bucket = ageing_bucket((today - since).days)
        totals[bucket] = totals[bucket] + amount
    return totals
