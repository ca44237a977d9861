"""The patient account: balances derived from append-only entries; payments, refunds, write-offs and
reversals refused when they would make the account impossible."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.billing.ledger import (
    AdjustmentDirection,
    EntryKind,
    LedgerEntry,
    account_balance,
    check_adjustment,
    check_ledger,
    check_payment,
    check_refund,
    check_reversal,
    check_write_off,
    entries_by_key,
    paid_total,
    refundable,
    refunded_total,
    signed,
)
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def charge(key: str, amount: str) -> LedgerEntry:
    return LedgerEntry(key, EntryKind.CHARGE, usd(amount))


def payment(key: str, amount: str, method: str | None = "card") -> LedgerEntry:
    return LedgerEntry(key, EntryKind.PAYMENT, usd(amount), method=method)


def refund(key: str, amount: str, method: str | None = "card") -> LedgerEntry:
    return LedgerEntry(key, EntryKind.REFUND, usd(amount), method=method)


def reversal(key: str, of: LedgerEntry) -> LedgerEntry:
    return LedgerEntry(key, EntryKind.REVERSAL, of.amount, reverses=of.key)


PACKAGE = charge("c1", "3475")


def test_a_package_sold_paid_in_two_parts_leaves_nothing_due() -> None:
    entries = [PACKAGE, payment("p1", "1475"), payment("p2", "2000", "hsa")]
    assert account_balance(entries, "USD") == usd("0")
    assert paid_total(entries, "USD") == usd("3475")
    assert paid_total(entries, "USD", method="hsa") == usd("2000")


def test_each_kind_moves_the_balance_its_way() -> None:
    adjust_up = LedgerEntry("a1", EntryKind.ADJUSTMENT, usd("10"), direction=AdjustmentDirection.INCREASE)
    adjust_down = LedgerEntry("a2", EntryKind.ADJUSTMENT, usd("15"), direction=AdjustmentDirection.DECREASE)
    write_off = LedgerEntry("w1", EntryKind.WRITE_OFF, usd("5"))
    pay = payment("p1", "100")
    refund_entry = refund("r1", "40")
    entries = [PACKAGE, adjust_up, adjust_down, write_off, pay, refund_entry, reversal("x1", pay)]
    by_key = entries_by_key(entries)
    assert [signed(e, by_key).amount for e in entries] == [
        Decimal("3475.00"),
        Decimal("10.00"),
        Decimal("-15.00"),
        Decimal("-5.00"),
        Decimal("-100.00"),
        Decimal("40.00"),
        Decimal("100.00"),
    ]
    assert account_balance(entries, "USD") == usd("3505")


def test_a_payment_larger_than_the_balance_is_refused_with_the_allowed_amount() -> None:
    entries = [charge("c1", "475"), payment("p1", "400")]
    check_payment(entries, usd("75"))
    with pytest.raises(
        ValidationError, match=r"Payment of \$75.01 is larger than the balance due of \$75.00"
    ) as caught:
        check_payment(entries, usd("75.01"))
    assert caught.value.field == "amount"


def test_a_payment_with_nothing_due_is_refused_so_money_follows_a_charge() -> None:
    with pytest.raises(ValidationError, match="nothing is due"):
        check_payment([], usd("3475"))
    with pytest.raises(ValidationError, match="nothing is due"):
        check_payment([charge("c1", "475"), payment("p1", "475")], usd("0.01"))


@pytest.mark.parametrize("check", [check_payment, check_write_off, check_refund])
def test_a_zero_amount_is_refused(check: object) -> None:
    with pytest.raises(ValidationError, match=r"must be more than \$0.00"):
        check([PACKAGE, payment("p1", "100")], usd("0"))  # type: ignore[operator]


def test_a_refund_larger_than_what_was_paid_is_refused() -> None:
    entries = [PACKAGE, payment("p1", "1000"), refund("r1", "300")]
    check_refund(entries, usd("700"))
    assert refundable(entries, "USD") == usd("700")
    with pytest.raises(
        ValidationError,
        match=r"Refund of \$700.01 is larger than what was paid and not yet refunded \(\$700.00\)",
    ):
        check_refund(entries, usd("700.01"))


def test_a_refund_goes_back_the_way_the_money_came() -> None:
    entries = [PACKAGE, payment("p1", "1000", "card"), payment("p2", "500", "cash")]
    check_refund(entries, usd("500"), "cash")
    with pytest.raises(ValidationError, match=r"paid by cash and not yet refunded \(\$500.00\)"):
        check_refund(entries, usd("500.01"), "cash")
    with pytest.raises(ValidationError, match="nothing by hsa has been paid"):
        check_refund(entries, usd("1"), "hsa")


def test_a_refund_with_nothing_paid_is_refused() -> None:
    with pytest.raises(ValidationError, match="nothing has been paid"):
        check_refund([PACKAGE], usd("1"))


def test_a_reversed_payment_counts_as_not_paid() -> None:
    pay = payment("p1", "475")
    entries = [PACKAGE, pay, reversal("x1", pay)]
    assert paid_total(entries, "USD") == usd("0")
    with pytest.raises(ValidationError, match="nothing has been paid"):
        check_refund(entries, usd("1"))


def test_a_write_off_cannot_exceed_the_balance() -> None:
    entries = [PACKAGE, payment("p1", "3000")]
    check_write_off(entries, usd("475"))
    with pytest.raises(
        ValidationError, match=r"Write-off of \$475.01 is larger than the balance due of \$475.00"
    ):
        check_write_off(entries, usd("475.01"))
    with pytest.raises(ValidationError, match="nothing is due"):
        check_write_off([], usd("1"))


def test_a_decrease_cannot_exceed_the_balance_but_an_increase_can_be_any_size() -> None:
    entries = [charge("c1", "475")]
    check_adjustment(entries, usd("475"), AdjustmentDirection.DECREASE)
    check_adjustment(entries, usd("9000"), AdjustmentDirection.INCREASE)
    with pytest.raises(ValidationError, match="record the refund first"):
        check_adjustment(entries, usd("475.01"), AdjustmentDirection.DECREASE)


def test_an_entry_is_reversed_at_most_once_and_a_reversal_never() -> None:
    entries = [PACKAGE, reversal("x1", PACKAGE)]
    assert account_balance(entries, "USD") == usd("0")
    with pytest.raises(ValidationError, match="already reversed \\(by 'x1'\\)"):
        check_reversal(entries, "c1")
    with pytest.raises(ValidationError, match="itself a reversal"):
        check_reversal(entries, "x1")
    with pytest.raises(ValidationError, match="not in this patient's account"):
        check_reversal(entries, "nope")


def test_reversing_a_paid_charge_is_refused_until_the_money_is_refunded() -> None:
    entries = [charge("c1", "475"), payment("p1", "475")]
    with pytest.raises(
        ValidationError,
        match=r"would leave the account in credit \(−\$475.00\): record a refund of \$475.00 first",
    ):
        check_reversal(entries, "c1")
    entries.append(refund("r1", "475"))
    assert check_reversal(entries, "c1").key == "c1"


def test_reversing_a_refunded_payment_is_refused() -> None:
    entries = [charge("c1", "475"), payment("p1", "475"), refund("r1", "475")]
    with pytest.raises(ValidationError, match="more refunded than paid"):
        check_reversal(entries, "p1")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: LedgerEntry("k", EntryKind.CHARGE, usd("0")), "more than"),
        (lambda: LedgerEntry("k", EntryKind.CHARGE, usd("-5")), "more than"),
        (lambda: LedgerEntry("k", EntryKind.REVERSAL, usd("5")), "must name the entry"),
        (lambda: LedgerEntry("k", EntryKind.CHARGE, usd("5"), reverses="c1"), "Only a reversal"),
        (lambda: LedgerEntry("k", EntryKind.ADJUSTMENT, usd("5")), "increases or decreases"),
        (
            lambda: LedgerEntry("k", EntryKind.CHARGE, usd("5"), direction=AdjustmentDirection.INCREASE),
            "Only an adjustment",
        ),
        (lambda: LedgerEntry("k", EntryKind.CHARGE, usd("5"), method="card"), "Only a payment or a refund"),
        (lambda: LedgerEntry(" ", EntryKind.CHARGE, usd("5")), "needs a key"),
        (lambda: LedgerEntry("k", EntryKind.CHARGE, Decimal("5")), "no currency"),  # type: ignore[arg-type]
    ],
)
def test_malformed_entries_are_refused(make: object, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        make()  # type: ignore[operator]


def test_an_account_in_one_currency_refuses_an_entry_in_another() -> None:
    with pytest.raises(ValidationError, match="in CAD, but this account is kept in USD"):
        account_balance([LedgerEntry("c1", EntryKind.CHARGE, Money(Decimal(1), "CAD"))], "USD")


def test_a_key_used_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match="appears twice"):
        account_balance([charge("c1", "1"), charge("c1", "2")], "USD")


def test_check_ledger_finds_the_entry_that_should_not_have_been_accepted() -> None:
    check_ledger([PACKAGE, payment("p1", "3475"), refund("r1", "100")], "USD")
    with pytest.raises(ValidationError, match="larger than the balance"):
        check_ledger([charge("c1", "10"), payment("p1", "11")], "USD")
    with pytest.raises(ValidationError, match="not earlier"):
        check_ledger(
            [LedgerEntry("x1", EntryKind.REVERSAL, usd("10"), reverses="c1"), charge("c1", "10")], "USD"
        )
    with pytest.raises(ValidationError, match="undoes the whole entry"):
        check_ledger(
            [charge("c1", "10"), LedgerEntry("x1", EntryKind.REVERSAL, usd("5"), reverses="c1")], "USD"
        )


def test_check_ledger_finds_a_refund_sent_back_a_way_the_money_did_not_come() -> None:
    """Paid $1,000 in cash and $100 by card: a stored card refund of $200 should never have been accepted
    (money goes back the way it came), though $1,100 was paid in all."""
    entries = [PACKAGE, payment("p1", "1000", "cash"), payment("p2", "100", "card")]
    check_ledger([*entries, refund("r1", "100", "card")], "USD")
    with pytest.raises(ValidationError, match="by card") as caught:
        check_ledger([*entries, refund("r1", "200", "card")], "USD")
    assert caught.value.field == "amount"


# --- properties: random sequences of attempted entries ---------------------------------------------------

METHODS = ("card", "cash", "hsa")
amounts = st.integers(min_value=1, max_value=500_000).map(lambda c: Money.from_cents(c, "USD"))
actions = st.lists(
    st.tuples(
        st.sampled_from(list(EntryKind)),
        amounts,
        st.sampled_from(METHODS),
        st.sampled_from(list(AdjustmentDirection)),
        st.integers(min_value=0, max_value=50),
    ),
    max_size=40,
)


def _attempt(
    entries: list[LedgerEntry], action: tuple[EntryKind, Money, str, AdjustmentDirection, int]
) -> None:
    """Add the entry the action describes when the core accepts it, as the billing app would."""
    kind, amount, method, direction, pick = action
    key = f"e{len(entries)}"
    try:
        if kind is EntryKind.CHARGE:
            entry = LedgerEntry(key, kind, amount)
        elif kind is EntryKind.PAYMENT:
            check_payment(entries, amount)
            entry = LedgerEntry(key, kind, amount, method=method)
        elif kind is EntryKind.REFUND:
            check_refund(entries, amount, method)
            entry = LedgerEntry(key, kind, amount, method=method)
        elif kind is EntryKind.WRITE_OFF:
            check_write_off(entries, amount)
            entry = LedgerEntry(key, kind, amount)
        elif kind is EntryKind.ADJUSTMENT:
            check_adjustment(entries, amount, direction)
            entry = LedgerEntry(key, kind, amount, direction=direction)
        else:
            if not entries:
                return
            target = check_reversal(entries, entries[pick % len(entries)].key)
            entry = LedgerEntry(key, kind, target.amount, reverses=target.key)
    except ValidationError:
        return
    entries.append(entry)


def _accepted(steps: list[tuple[EntryKind, Money, str, AdjustmentDirection, int]]) -> list[LedgerEntry]:
    entries: list[LedgerEntry] = []
    for step in steps:
        _attempt(entries, step)
    return entries


@settings(max_examples=300)
@given(actions)
def test_no_accepted_sequence_puts_the_balance_or_paid_minus_refunded_below_zero(steps: list) -> None:
    entries: list[LedgerEntry] = []
    for step in steps:
        _attempt(entries, step)
        assert not account_balance(entries, "USD").is_negative
        assert not refundable(entries, "USD").is_negative
        for method in METHODS:
            assert not refundable(entries, "USD", method=method).is_negative
    check_ledger(entries, "USD")


@given(actions)
def test_the_balance_is_the_sum_of_the_signed_entries(steps: list) -> None:
    entries = _accepted(steps)
    cents = {EntryKind.CHARGE: 1, EntryKind.PAYMENT: -1, EntryKind.REFUND: 1, EntryKind.WRITE_OFF: -1}
    by_key = {e.key: e for e in entries}

    def effect(entry: LedgerEntry) -> int:
        if entry.kind is EntryKind.REVERSAL:
            return -effect(by_key[entry.reverses or ""])
        if entry.kind is EntryKind.ADJUSTMENT:
            return entry.amount.cents * (1 if entry.direction is AdjustmentDirection.INCREASE else -1)
        return entry.amount.cents * cents[entry.kind]

    assert account_balance(entries, "USD").cents == sum(effect(e) for e in entries)
    assert paid_total(entries, "USD") - refunded_total(entries, "USD") == refundable(entries, "USD")


@given(actions)
def test_reversing_every_entry_gives_zero(steps: list) -> None:
    entries = _accepted(steps)
    undone = {e.reverses for e in entries if e.kind is EntryKind.REVERSAL}
    originals = [e for e in entries if e.kind is not EntryKind.REVERSAL and e.key not in undone]
    everything = entries + [
        LedgerEntry(f"undo-{e.key}", EntryKind.REVERSAL, e.amount, reverses=e.key) for e in originals
    ]
    assert account_balance(everything, "USD") == Money.zero("USD")
    assert paid_total(everything, "USD") == Money.zero("USD")
    assert refunded_total(everything, "USD") == Money.zero("USD")
