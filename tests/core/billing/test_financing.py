"""Financing plans: instalments that add up to the amount financed, due dates by calendar month clamped to the
month's end, and statuses from payments applied oldest-due-first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.billing.financing import (
    INSTALMENTS_MAX,
    INSTALMENTS_MIN,
    InstalmentStatus,
    add_months,
    check_plan,
    instalment_schedule,
    instalment_states,
)
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError


def usd(cents: int) -> Money:
    return Money.from_cents(cents, "USD")


def test_remainder_cents_go_on_the_first_instalment() -> None:
    plan = instalment_schedule(usd(100000), 3, date(2027, 5, 10))
    assert [i.amount.cents for i in plan] == [33334, 33333, 33333]
    assert [i.number for i in plan] == [1, 2, 3]


def test_month_end_is_clamped_and_not_carried_forward() -> None:
    plan = instalment_schedule(usd(40000), 4, date(2027, 1, 31))
    assert [i.due for i in plan] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    leap = instalment_schedule(usd(20000), 2, date(2028, 1, 31))
    assert leap[1].due == date(2028, 2, 29)


def test_interval_of_three_months_crosses_the_year() -> None:
    plan = instalment_schedule(usd(30000), 3, date(2027, 11, 30), interval_months=3)
    assert [i.due for i in plan] == [date(2027, 11, 30), date(2028, 2, 29), date(2028, 5, 30)]


@pytest.mark.parametrize("count", [0, 1, 25, 100, -2])
def test_count_outside_2_to_24_is_refused_naming_the_range(count: int) -> None:
    with pytest.raises(ValidationError) as err:
        instalment_schedule(usd(10000), count, date(2027, 1, 1))
    assert err.value.field == "instalments"
    assert str(count) in err.value.message and "from 2 to 24" in err.value.message


@pytest.mark.parametrize("count", [INSTALMENTS_MIN, INSTALMENTS_MAX])
def test_count_at_the_bounds_is_accepted(count: int) -> None:
    assert len(instalment_schedule(usd(10000), count, date(2027, 1, 1))) == count


def test_check_plan_refuses_more_than_the_balance_and_a_past_first_due_date() -> None:
    today = date(2027, 6, 15)
    check_plan(
        amount=usd(50000), balance=usd(50000), first_due=today, count=6, interval_months=1, today=today
    )
    with pytest.raises(ValidationError) as over:
        check_plan(
            amount=usd(50001), balance=usd(50000), first_due=today, count=6, interval_months=1, today=today
        )
    assert (
        over.value.field == "amount" and "$500.01" in over.value.message and "$500.00" in over.value.message
    )
    with pytest.raises(ValidationError) as past:
        check_plan(
            amount=usd(100),
            balance=usd(50000),
            first_due=today - timedelta(days=1),
            count=6,
            interval_months=1,
            today=today,
        )
    assert past.value.field == "first_due" and "2027-06-14" in past.value.message
    with pytest.raises(ValidationError) as nothing:
        check_plan(
            amount=usd(0), balance=usd(50000), first_due=today, count=6, interval_months=1, today=today
        )
    assert nothing.value.field == "amount"


def test_statuses_as_of_a_day() -> None:
    plan = instalment_schedule(usd(30000), 3, date(2027, 1, 15))
    states = instalment_states(plan, [usd(10000), usd(5000)], on=date(2027, 2, 20))
    assert [s.status for s in states] == [
        InstalmentStatus.PAID,
        InstalmentStatus.OVERDUE,
        InstalmentStatus.DUE,
    ]
    assert states[1].paid == usd(5000) and states[1].left == usd(5000)
    later = instalment_states(plan, [usd(15000)], on=date(2027, 2, 10))
    assert later[1].status is InstalmentStatus.PART_PAID
    # due on the day itself is not yet overdue
    assert instalment_states(plan, [], on=date(2027, 1, 15))[0].status is InstalmentStatus.DUE
    assert instalment_states(plan, [], on=date(2027, 1, 16))[0].status is InstalmentStatus.OVERDUE


def test_overpayment_never_pays_an_instalment_more_than_it_asks() -> None:
    plan = instalment_schedule(usd(20000), 2, date(2027, 1, 1))
    states = instalment_states(plan, [usd(99999)], on=date(2030, 1, 1))
    assert [s.paid for s in states] == [usd(10000), usd(10000)]
    assert all(s.status is InstalmentStatus.PAID for s in states)


amounts = st.integers(min_value=1, max_value=1_000_000_000)
counts = st.integers(min_value=INSTALMENTS_MIN, max_value=INSTALMENTS_MAX)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
intervals = st.integers(min_value=1, max_value=12)


@settings(max_examples=300)
@given(amounts, counts, days, intervals)
def test_schedule_properties(cents: int, count: int, first: date, interval: int) -> None:
    plan = instalment_schedule(usd(cents), count, first, interval_months=interval)
    assert sum(i.amount.cents for i in plan) == cents
    assert all(i.amount.cents >= 0 for i in plan)
    assert max(i.amount.cents for i in plan[1:]) == min(i.amount.cents for i in plan[1:])
    assert 0 <= plan[0].amount.cents - plan[1].amount.cents < count
    dues = [i.due for i in plan]
    assert all(a < b for a, b in zip(dues, dues[1:], strict=False))
    for n, due in enumerate(dues):  # each due date keeps the first's day, or the month's last day
        months = (due.year - first.year) * 12 + due.month - first.month
        assert months == n * interval
        assert due.day == first.day or (due.day < first.day and (due + timedelta(days=1)).day == 1)


@settings(max_examples=300)
@given(amounts, counts, days, st.lists(st.integers(min_value=0, max_value=500_000_000), max_size=8), days)
def test_payments_applied_never_exceed_what_is_due(
    cents: int, count: int, first: date, payments: list[int], on: date
) -> None:
    plan = instalment_schedule(usd(cents), count, first)
    states = instalment_states(plan, [usd(p) for p in payments], on=on)
    assert all(0 <= s.paid.cents <= s.instalment.amount.cents for s in states)
    assert sum(s.paid.cents for s in states) == min(cents, sum(payments))
    # oldest-due-first: an instalment is only partly or not paid if every later one has nothing
    for earlier, later in zip(states, states[1:], strict=False):
        if later.paid.cents > 0:
            assert earlier.status is InstalmentStatus.PAID
    for s in states:
        if s.status is InstalmentStatus.OVERDUE:
            assert s.instalment.due < on and s.paid.cents < s.instalment.amount.cents


def test_add_months_keeps_a_mid_month_day() -> None:
    assert add_months(date(2027, 12, 15), 1) == date(2028, 1, 15)
