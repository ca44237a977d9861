"""Every refusal of money and of the patient account, word for word, with the field the page puts it next
to and the value it was given; and the limits at the cent (a balance of $0.50 takes a payment of $0.50).

Written after a full `make mutation` over core/billing (2026-12-05): of the ledger's 598 mutants 212
survived and of money's 437, 135, nearly all a refusal whose words, field or value no test read, and a
stored account's decrease checked as an increase."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.core.billing.ledger import (
    ADJUSTMENT_TOO_LARGE,
    CURRENCY_MISMATCH,
    ENTRY_DIRECTION_NOT_ADJUSTMENT,
    ENTRY_KEY_DUPLICATE,
    ENTRY_KEY_EMPTY,
    ENTRY_METHOD_NOT_ALLOWED,
    ENTRY_NEEDS_DIRECTION,
    ENTRY_NEEDS_REVERSES,
    ENTRY_NOT_POSITIVE,
    ENTRY_REVERSAL_BEFORE,
    ENTRY_REVERSES_NOT_REVERSAL,
    ENTRY_UNKNOWN,
    PAYMENT_NOTHING_DUE,
    PAYMENT_TOO_LARGE,
    REFUND_NOTHING_PAID,
    REFUND_TOO_LARGE,
    REVERSAL_LEAVES_CREDIT,
    REVERSAL_LEAVES_REFUND,
    REVERSAL_OF_REVERSAL,
    REVERSAL_TWICE,
    WRITE_OFF_NOTHING_DUE,
    WRITE_OFF_TOO_LARGE,
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
)
from ketaclinic.core.billing.money import (
    AMOUNT_IS_FLOAT,
    AMOUNT_NOT_A_NUMBER,
    AMOUNT_TOO_LARGE,
    AMOUNT_TOO_PRECISE,
    CURRENCIES_DIFFER,
    CURRENCY_MISSING,
    CURRENCY_NO_CENTS,
    CURRENCY_UNKNOWN,
    MONEY_MAX,
    Money,
    currency_check,
)
from ketaclinic.core.input_rules import shown

from .test_ledger import charge, payment, refund, reversal, usd
from .test_refusals import refused, said

D = Decimal


def adjustment(key: str, amount: str, direction: AdjustmentDirection) -> LedgerEntry:
    return LedgerEntry(key, EntryKind.ADJUSTMENT, usd(amount), direction=direction)


# --- money ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0.1, (AMOUNT_IS_FLOAT.format(label="Amount", value=0.1), "amount", 0.1)),
        (True, (AMOUNT_NOT_A_NUMBER.format(label="Amount", value=shown(True)), "amount", True)),
        ("12", (AMOUNT_NOT_A_NUMBER.format(label="Amount", value=shown("12")), "amount", "12")),
        (D("NaN"), (AMOUNT_NOT_A_NUMBER.format(label="Amount", value="NaN"), "amount", "NaN")),
        (
            D("-Infinity"),
            (AMOUNT_NOT_A_NUMBER.format(label="Amount", value="-Infinity"), "amount", "-Infinity"),
        ),
        (
            D("10000000.01"),
            (
                AMOUNT_TOO_LARGE.format(label="Amount", value="10,000,000.01", limit="10,000,000.00"),
                "amount",
                D("10000000.01"),
            ),
        ),
        (
            -MONEY_MAX - D("0.01"),
            (
                AMOUNT_TOO_LARGE.format(label="Amount", value="-10,000,000.01", limit="10,000,000.00"),
                "amount",
                D("-10000000.01"),
            ),
        ),
        (D("20.005"), (AMOUNT_TOO_PRECISE.format(label="Amount", value="20.005"), "amount", D("20.005"))),
    ],
    ids=["float", "bool", "text", "nan", "infinity", "over", "under", "fraction-of-a-cent"],
)
def test_an_amount_refused_says_what_and_why_in_the_amount_field(amount: Any, expected: tuple) -> None:
    assert said(refused(Money, amount, "USD")) == expected


def test_the_float_refusal_reads_as_a_person_would_read_it() -> None:
    assert refused(Money, 20.05, "USD").message.startswith(
        "Amount 20.05 was given as a floating-point number, which cannot hold cents exactly"
    )


@pytest.mark.parametrize("cents", [True, 12.5, "1200"], ids=["bool", "float", "text"])
def test_cents_that_are_not_a_whole_number_are_refused_by_name(cents: Any) -> None:
    assert said(refused(Money.from_cents, cents, "USD")) == (
        AMOUNT_NOT_A_NUMBER.format(label="Amount in cents", value=shown(cents)),
        "amount",
        cents,
    )


def test_whole_cents_make_money() -> None:
    assert Money.from_cents(1205, "USD") == usd("12.05")
    assert Money.from_cents(-5, "USD") == usd("-0.05")


@pytest.mark.parametrize("how", ["+", "-"])
def test_amounts_in_two_currencies_are_not_combined(how: str) -> None:
    left, right = usd("1"), Money(D("1"), "CAD")
    error = refused(lambda: left + right if how == "+" else left - right)
    assert said(error) == (
        CURRENCIES_DIFFER.format(label="Amounts", left="USD", right="CAD"),
        "currency",
        "USD/CAD",
    )


@pytest.mark.parametrize("code", ["XYZ", 840], ids=["not-iso", "a-number"])
def test_an_unknown_currency_is_named_in_the_field_given(code: Any) -> None:
    error = refused(currency_check, code, field="price_currency", label="Price")
    assert said(error) == (CURRENCY_UNKNOWN.format(label="Price", value=shown(code)), "price_currency", code)


# --- the entries themselves ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: LedgerEntry(" ", EntryKind.CHARGE, usd("1")), (ENTRY_KEY_EMPTY, "key", " ")),
        (
            lambda: LedgerEntry("c1", EntryKind.CHARGE, D("10")),  # type: ignore[arg-type]
            ("Entry 'c1' amount 10 has no currency: give it as money.", "amount", D("10")),
        ),
        (
            lambda: LedgerEntry("w1", EntryKind.WRITE_OFF, usd("0")),
            (ENTRY_NOT_POSITIVE.format(label="Write-off", value="$0.00"), "amount", D("0.00")),
        ),
        (
            lambda: LedgerEntry("r1", EntryKind.REVERSAL, usd("1")),
            (ENTRY_NEEDS_REVERSES, "reverses", None),
        ),
        (
            lambda: LedgerEntry("c1", EntryKind.CHARGE, usd("1"), reverses="c0"),
            (ENTRY_REVERSES_NOT_REVERSAL.format(kind="charge"), "reverses", "c0"),
        ),
        (
            lambda: LedgerEntry("a1", EntryKind.ADJUSTMENT, usd("1")),
            (ENTRY_NEEDS_DIRECTION, "direction", None),
        ),
        (
            lambda: LedgerEntry("c1", EntryKind.CHARGE, usd("1"), direction=AdjustmentDirection.INCREASE),
            (ENTRY_DIRECTION_NOT_ADJUSTMENT.format(kind="charge"), "direction", AdjustmentDirection.INCREASE),
        ),
        (
            lambda: LedgerEntry("w1", EntryKind.WRITE_OFF, usd("1"), method="card"),
            (ENTRY_METHOD_NOT_ALLOWED.format(kind="write_off"), "method", "card"),
        ),
    ],
    ids=[
        "key",
        "no-currency",
        "zero",
        "no-target",
        "target-on-charge",
        "no-direction",
        "direction",
        "method",
    ],
)
def test_an_impossible_entry_is_refused_by_field(make: Any, expected: tuple) -> None:
    assert said(refused(make)) == expected


def test_a_key_used_twice_is_named() -> None:
    assert said(refused(entries_by_key, [charge("c1", "1"), charge("c1", "2")])) == (
        ENTRY_KEY_DUPLICATE.format(value="c1"),
        "key",
        "c1",
    )


def test_an_entry_in_another_currency_is_named_with_its_currency() -> None:
    cad = LedgerEntry("c2", EntryKind.CHARGE, Money(D("5"), "CAD"))
    assert said(refused(paid_total, [charge("c1", "1"), cad], "USD")) == (
        CURRENCY_MISMATCH.format(key="c2", value="CAD", currency="USD"),
        "currency",
        "CAD",
    )


def test_a_balance_with_a_reversal_of_nothing_or_of_a_reversal_is_refused() -> None:
    lost = LedgerEntry("x1", EntryKind.REVERSAL, usd("1"), reverses="c9")
    assert said(refused(account_balance, [charge("c1", "1"), lost], "USD")) == (
        ENTRY_UNKNOWN.format(value="c9"),
        "reverses",
        "c9",
    )
    c1 = charge("c1", "5")
    x1 = reversal("x1", c1)
    assert said(refused(account_balance, [c1, x1, reversal("x2", x1)], "USD")) == (
        REVERSAL_OF_REVERSAL.format(value="x1"),
        "reverses",
        "x1",
    )


# --- payments, refunds, write-offs, adjustments -----------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "label"),
    [(check_payment, "Payment"), (check_refund, "Refund"), (check_write_off, "Write-off")],
)
def test_a_zero_amount_is_refused_with_its_label(check: Any, label: str) -> None:
    assert said(refused(check, [charge("c1", "10"), payment("p1", "5")], usd("0"))) == (
        ENTRY_NOT_POSITIVE.format(label=label, value="$0.00"),
        "amount",
        D("0.00"),
    )


@pytest.mark.parametrize(
    ("check", "label"),
    [(check_payment, "Payment"), (check_refund, "Refund"), (check_write_off, "Write-off")],
)
def test_an_amount_without_a_currency_is_refused_with_its_label(check: Any, label: str) -> None:
    assert said(refused(check, [charge("c1", "10")], D("5"))) == (
        f"{label} 5 has no currency: give it as money.",
        "amount",
        D("5"),
    )


def test_a_zero_adjustment_either_way_is_refused_with_its_label() -> None:
    for direction in AdjustmentDirection:
        assert said(refused(check_adjustment, [charge("c1", "10")], usd("0"), direction)) == (
            ENTRY_NOT_POSITIVE.format(label="Adjustment", value="$0.00"),
            "amount",
            D("0.00"),
        )


def test_the_last_fifty_cents_can_be_paid_written_off_and_refunded() -> None:
    owed = [charge("c1", "10.50"), payment("p1", "10")]
    check_payment(owed, usd("0.50"))
    check_write_off(owed, usd("0.50"))
    check_adjustment(owed, usd("0.50"), AdjustmentDirection.DECREASE)
    check_refund([charge("c1", "10"), payment("p1", "0.50")], usd("0.50"))


@pytest.mark.parametrize(
    ("check", "nothing", "too_large"),
    [
        (check_payment, PAYMENT_NOTHING_DUE, PAYMENT_TOO_LARGE),
        (check_write_off, WRITE_OFF_NOTHING_DUE, WRITE_OFF_TOO_LARGE),
    ],
)
def test_taking_off_more_than_is_due_says_the_balance(check: Any, nothing: str, too_large: str) -> None:
    assert said(refused(check, [charge("c1", "10"), payment("p1", "10")], usd("0.01"))) == (
        nothing.format(amount="$0.01", balance="$0.00"),
        "amount",
        D("0.01"),
    )
    assert said(refused(check, [charge("c1", "10.50"), payment("p1", "10")], usd("0.51"))) == (
        too_large.format(amount="$0.51", balance="$0.50"),
        "amount",
        D("0.51"),
    )


def test_a_refund_says_what_was_paid_by_that_method() -> None:
    entries = [charge("c1", "100"), payment("p1", "60", "card"), payment("p2", "40", "cash")]
    assert said(refused(check_refund, entries, usd("60.01"), "card")) == (
        REFUND_TOO_LARGE.format(amount="$60.01", by=" by card", available="$60.00"),
        "amount",
        D("60.01"),
    )
    assert said(refused(check_refund, entries, usd("100.01"))) == (
        REFUND_TOO_LARGE.format(amount="$100.01", by="", available="$100.00"),
        "amount",
        D("100.01"),
    )
    assert said(refused(check_refund, entries, usd("1"), "hsa")) == (
        REFUND_NOTHING_PAID.format(amount="$1.00", by=" by hsa"),
        "amount",
        D("1.00"),
    )


def test_a_decrease_larger_than_the_balance_is_refused_and_an_increase_is_not() -> None:
    entries = [charge("c1", "10")]
    assert said(refused(check_adjustment, entries, usd("10.01"), AdjustmentDirection.DECREASE)) == (
        ADJUSTMENT_TOO_LARGE.format(amount="$10.01", balance="$10.00"),
        "amount",
        D("10.01"),
    )
    check_adjustment(entries, usd("10.01"), AdjustmentDirection.INCREASE)


# --- reversals -----------------------------------------------------------------------------------------


def test_reversing_an_unknown_entry_a_reversal_or_an_entry_twice_is_refused() -> None:
    c1 = charge("c1", "10")
    x1 = reversal("x1", c1)
    assert said(refused(check_reversal, [c1], "c2")) == (ENTRY_UNKNOWN.format(value="c2"), "reverses", "c2")
    assert said(refused(check_reversal, [c1, x1], "x1")) == (
        REVERSAL_OF_REVERSAL.format(value="x1"),
        "reverses",
        "x1",
    )
    assert said(refused(check_reversal, [c1, x1], "c1")) == (
        REVERSAL_TWICE.format(value="c1", by="x1"),
        "reverses",
        "c1",
    )


def test_reversing_a_charge_already_paid_says_the_credit_it_would_leave() -> None:
    entries = [charge("c1", "100"), payment("p1", "100"), charge("c2", "25")]
    assert said(refused(check_reversal, entries, "c1")) == (
        REVERSAL_LEAVES_CREDIT.format(
            kind="charge", value="c1", amount="$100.00", balance="−$75.00", credit="$75.00"
        ),
        "reverses",
        "c1",
    )


def test_reversing_a_payment_refunded_by_its_own_method_is_refused_naming_the_method() -> None:
    entries = [
        charge("c1", "200"),
        payment("p1", "100", "card"),
        payment("p2", "100", "cash"),
        refund("r1", "100", "card"),
    ]
    assert said(refused(check_reversal, entries, "p1")) == (
        REVERSAL_LEAVES_REFUND.format(value="p1", amount="$100.00", by=" by card", net="−$100.00"),
        "reverses",
        "p1",
    )
    assert check_reversal(entries, "p2").key == "p2"  # the cash was not refunded


def test_reversing_a_refunded_payment_without_a_method_says_so_without_one() -> None:
    entries = [charge("c1", "100"), payment("p1", "100", None), refund("r1", "100", None)]
    assert said(refused(check_reversal, entries, "p1")) == (
        REVERSAL_LEAVES_REFUND.format(value="p1", amount="$100.00", by="", net="−$100.00"),
        "reverses",
        "p1",
    )


# --- an account as stored --------------------------------------------------------------------------------


def test_a_stored_decrease_beyond_the_balance_is_found() -> None:
    entries = [charge("c1", "10"), adjustment("a1", "20", AdjustmentDirection.DECREASE)]
    assert said(refused(check_ledger, entries, "USD")) == (
        ADJUSTMENT_TOO_LARGE.format(amount="$20.00", balance="$10.00"),
        "amount",
        D("20.00"),
    )
    check_ledger([charge("c1", "10"), adjustment("a1", "20", AdjustmentDirection.INCREASE)], "USD")


def test_a_stored_reversal_before_its_entry_or_for_another_amount_is_found() -> None:
    c1 = charge("c1", "10")
    early = [LedgerEntry("x1", EntryKind.REVERSAL, usd("10"), reverses="c1"), c1]
    assert said(refused(check_ledger, early, "USD")) == (
        ENTRY_REVERSAL_BEFORE.format(key="x1", value="c1"),
        "reverses",
        "c1",
    )
    partial = [c1, LedgerEntry("x1", EntryKind.REVERSAL, usd("4"), reverses="c1")]
    assert said(refused(check_ledger, partial, "USD")) == (
        "Reversal 'x1' is for $4.00, but entry 'c1' was for $10.00: a reversal undoes the whole entry.",
        "amount",
        D("4.00"),
    )


@pytest.mark.parametrize("code", [None, "  "], ids=["none", "blank"])
def test_a_missing_currency_is_refused_in_the_field_given(code: Any) -> None:
    error = refused(currency_check, code, field="price_currency", label="Price")
    assert said(error) == (CURRENCY_MISSING.format(label="Price"), "price_currency", "")


def test_a_currency_without_cents_is_refused_with_its_decimal_places() -> None:
    error = refused(currency_check, "jpy", field="price_currency", label="Price")
    assert said(error) == (
        CURRENCY_NO_CENTS.format(label="Price", value="JPY", places=0),
        "price_currency",
        "JPY",
    )


@pytest.mark.parametrize(("how", "verb"), [("+", "add"), ("-", "subtract")])
def test_money_and_a_bare_number_are_not_combined(how: str, verb: str) -> None:
    with pytest.raises(TypeError, match=f"^cannot {verb} Money and int$"):
        _ = usd("1") + 1 if how == "+" else usd("1") - 1  # type: ignore[operator]


def test_money_in_an_unknown_currency_is_refused_as_the_amount_s_currency() -> None:
    assert said(refused(Money, D("1"), "XYZ")) == (
        CURRENCY_UNKNOWN.format(label="Amount", value=shown("XYZ")),
        "currency",
        "XYZ",
    )
