"""Financing plans: a financed amount paid in instalments on set due dates (issue 14, item 3).

A plan splits an amount of money into N instalments (2 to 24), the first due on a given day and each next
one a whole number of calendar months later. A due date keeps the first one's day of the month, clamped to the
month's end: a plan first due on 31 January is next due on 28 (or 29) February, then 31 March. The cents that
do not divide evenly go on the first instalment, so the instalments always add up to the financed amount.

Payments are applied to the instalments oldest-due-first, and never more than an instalment asks for: an
instalment is *paid*, *part-paid* (something paid, not yet past its due date), *due* (nothing paid, not yet
past its due date) or *overdue* (its due date has passed and it is not fully paid) as of a given day.

>>> [(i.due.isoformat(), str(i.amount)) for i in instalment_schedule(
...     Money.from_cents(100000, "USD"), 3, date(2027, 1, 31))]
[('2027-01-31', '$333.34'), ('2027-02-28', '$333.33'), ('2027-03-31', '$333.33')]
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ketaclinic.core.billing.money import Money, format_money
from ketaclinic.core.errors import ValidationError

__all__ = [
    "INSTALMENTS_MAX",
    "INSTALMENTS_MIN",
    "INTERVAL_MONTHS_MAX",
    "Instalment",
    "InstalmentState",
    "InstalmentStatus",
    "add_months",
    "check_plan",
    "instalment_schedule",
    "instalment_states",
]

INSTALMENTS_MIN, INSTALMENTS_MAX = 2, 24
INTERVAL_MONTHS_MAX = 12

COUNT_OUT_OF_RANGE = (
    "Number of instalments {value} is not allowed: a plan has from {low} to {high} instalments."
)
INTERVAL_OUT_OF_RANGE = "Months between instalments {value} is not allowed: give from 1 to {high} months."
AMOUNT_NOT_POSITIVE = "Amount financed {value} is not allowed: a plan finances more than $0.00."
AMOUNT_OVER_BALANCE = (
    "Amount financed {value} is more than the balance due ({balance}): finance from {low} up to {balance}."
)
FIRST_DUE_PAST = (
    "First due date {value} is in the past: the first instalment is due today ({today}) or later."
)


class InstalmentStatus(StrEnum):
    PAID = "paid"
    PART_PAID = "part_paid"
    DUE = "due"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"paid": "Paid", "part_paid": "Part-paid", "due": "Due", "overdue": "Overdue"}[self.value]


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int  # 1-based
    due: date
    amount: Money


@dataclass(frozen=True, slots=True)
class InstalmentState:
    instalment: Instalment
    paid: Money
    status: InstalmentStatus

    @property
    def left(self) -> Money:
        return self.instalment.amount - self.paid


def add_months(first: date, months: int) -> date:
    """``first`` moved ``months`` calendar months on, its day of the month clamped to the month's end.

    >>> add_months(date(2028, 1, 31), 1), add_months(date(2028, 1, 31), 2)
    (datetime.date(2028, 2, 29), datetime.date(2028, 3, 31))
    """
    index = first.year * 12 + (first.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(first.day, last))


def _check_shape(count: int, interval_months: int) -> None:
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not INSTALMENTS_MIN <= count <= INSTALMENTS_MAX
    ):
        raise ValidationError(
            COUNT_OUT_OF_RANGE.format(value=count, low=INSTALMENTS_MIN, high=INSTALMENTS_MAX),
            field="instalments",
            value=count,
        )
    if (
        isinstance(interval_months, bool)
        or not isinstance(interval_months, int)
        or not 1 <= interval_months <= INTERVAL_MONTHS_MAX
    ):
        raise ValidationError(
            INTERVAL_OUT_OF_RANGE.format(value=interval_months, high=INTERVAL_MONTHS_MAX),
            field="interval_months",
            value=interval_months,
        )


def check_plan(
    *, amount: Money, balance: Money, count: int, interval_months: int, first_due: date, today: date
) -> None:
    """Refuses a plan for nothing or for more than the balance due, a count or interval out of range, or a
    first due date before ``today`` (the clinic's day at its location); each refusal names the field, the
    value and what is allowed."""
    _check_shape(count, interval_months)
    low = Money.from_cents(1, amount.currency)
    if amount < low:
        raise ValidationError(
            AMOUNT_NOT_POSITIVE.format(value=format_money(amount)), field="amount", value=amount
        )
    if amount > balance:
        raise ValidationError(
            AMOUNT_OVER_BALANCE.format(
                value=format_money(amount), balance=format_money(balance), low=format_money(low)
            ),
            field="amount",
            value=amount,
        )
    if first_due < today:
        raise ValidationError(
            FIRST_DUE_PAST.format(value=first_due.isoformat(), today=today.isoformat()),
            field="first_due",
            value=first_due,
        )


def instalment_schedule(
    amount: Money, count: int, first_due: date, *, interval_months: int = 1
) -> list[Instalment]:
    """The instalments of a plan: equal shares in cents, the remainder cents on the first; due dates
    ``interval_months`` calendar months apart, each counted from the first due date (so a clamped February
    does not pull March's date back)."""
    _check_shape(count, interval_months)
    if amount.cents <= 0:
        raise ValidationError(
            AMOUNT_NOT_POSITIVE.format(value=format_money(amount)), field="amount", value=amount
        )
    share, remainder = divmod(amount.cents, count)
    return [
        Instalment(
            number=n + 1,
            due=add_months(first_due, n * interval_months),
            amount=Money.from_cents(share + (remainder if n == 0 else 0), amount.currency),
        )
        for n in range(count)
    ]


def instalment_states(
    schedule: Sequence[Instalment], payments: Iterable[Money], on: date
) -> list[InstalmentState]:
    """Each instalment's status on day ``on``, the payments (net of refunds) applied oldest-due-first and
    never more than an instalment asks for; what is paid beyond the whole plan is not shown on it."""
    if not schedule:
        return []
    currency = schedule[0].amount.currency
    left = sum((p.cents for p in payments if p.currency == currency), 0)
    states = []
    for instalment in sorted(schedule, key=lambda i: i.due):
        paid = max(0, min(left, instalment.amount.cents))
        left -= paid
        if paid == instalment.amount.cents:
            status = InstalmentStatus.PAID
        elif instalment.due < on:
            status = InstalmentStatus.OVERDUE
        elif paid > 0:
            status = InstalmentStatus.PART_PAID
        else:
            status = InstalmentStatus.DUE
        states.append(InstalmentState(instalment, Money.from_cents(paid, currency), status))
    return states
