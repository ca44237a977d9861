"""Money: exact cents with a currency; a float, a fraction of a cent or a missing currency is refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.billing.money import MONEY_MAX, Money, format_money, parse_money
from ketaclinic.core.errors import ValidationError

cents = st.integers(min_value=-int(MONEY_MAX.scaleb(2)), max_value=int(MONEY_MAX.scaleb(2)))


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def test_the_seed_package_prices_add_up_in_cents() -> None:
    assert usd("3475") + usd("991") == usd("4466.00")
    assert usd("4466.00").cents == 446_600
    assert Money.from_cents(47_500, "USD") == usd("475")
    assert Money.zero("EUR").cents == 0


@pytest.mark.parametrize("currency", ["USD", "CAD", "EUR", "GBP", "usd"])
def test_common_currencies_are_accepted(currency: str) -> None:
    assert Money(Decimal("1.00"), currency).currency == currency.upper()


@pytest.mark.parametrize(
    ("currency", "words"),
    [
        (None, "no currency"),
        ("", "no currency"),
        ("   ", "no currency"),
        ("XXY", "not an ISO 4217"),
        ("US", "not an ISO 4217"),
        ("DOLLARS", "not an ISO 4217"),
        ("JPY", "does not have 2 decimal places"),
        ("KWD", "does not have 2 decimal places"),
    ],
)
def test_a_price_without_a_real_currency_is_refused(currency: str | None, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as caught:
        Money(Decimal("3475"), currency)
    assert caught.value.field == "currency"


def test_a_float_is_refused_because_it_cannot_hold_cents() -> None:
    with pytest.raises(ValidationError, match="floating-point") as caught:
        Money(0.1, "USD")  # type: ignore[arg-type]
    assert caught.value.field == "amount"


@pytest.mark.parametrize("amount", [Decimal("0.001"), Decimal("20.005"), Decimal("-1.999")])
def test_a_fraction_of_a_cent_is_refused(amount: Decimal) -> None:
    with pytest.raises(ValidationError, match="more than 2 decimal places"):
        Money(amount, "USD")


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), "12", True])
def test_something_that_is_not_an_amount_is_refused(amount: object) -> None:
    with pytest.raises(ValidationError):
        Money(amount, "USD")  # type: ignore[arg-type]


def test_amounts_above_the_typo_guard_are_refused_at_the_boundary() -> None:
    assert Money(MONEY_MAX, "USD").amount == MONEY_MAX
    with pytest.raises(ValidationError, match="larger than the allowed 10,000,000.00"):
        Money(MONEY_MAX + Decimal("0.01"), "USD")


def test_different_currencies_are_never_combined_and_the_refusal_names_both() -> None:
    with pytest.raises(ValidationError, match="USD and CAD"):
        usd("1") + Money(Decimal("1"), "CAD")
    with pytest.raises(ValidationError, match="USD and EUR"):
        _ = usd("1") < Money(Decimal("2"), "EUR")
    with pytest.raises(ValidationError, match="GBP and USD"):
        Money(Decimal("1"), "GBP") - usd("1")


def test_comparison_and_sign() -> None:
    assert usd("20") > usd("19.99")
    assert usd("20") >= usd("20.00")
    assert usd("-0.01").is_negative
    assert not usd("0").is_negative
    assert usd("5") - usd("20") == usd("-15")
    assert abs(usd("-15")) == usd("15")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (usd("3475"), "$3,475.00"),
        (usd("-20"), "−$20.00"),
        (usd("0"), "$0.00"),
        (usd("1234567.5"), "$1,234,567.50"),
        (Money(Decimal("12"), "GBP"), "£12.00"),
        (Money(Decimal("12"), "CHF"), "CHF 12.00"),
    ],
)
def test_amounts_are_shown_as_staff_read_them(money: Money, text: str) -> None:
    assert format_money(money) == text


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("3475", 347_500),
        ("3,475.00", 347_500),
        ("$3,475.00", 347_500),
        (" $ 673.5 ", 67_350),
        ("0.05", 5),
        ("USD 12", 1200),
    ],
)
def test_typed_amounts_are_read_exactly(text: str, cents: int) -> None:
    assert parse_money(text, "USD").cents == cents


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("3.475", "more than 2 decimal places"),
        ("abc", "not an amount of money"),
        ("", "not an amount of money"),
        ("34,75", "not an amount of money"),
        ("3,4750", "not an amount of money"),
        ("1e3", "not an amount of money"),
        ("€20", "not an amount of money"),
        ("١٢", "not an amount of money"),
        ("-20", "negative"),
        ("−$20.00", "negative"),
        ("10000000.01", "larger than the allowed"),
    ],
)
def test_typed_amounts_that_are_not_money_are_refused(text: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as caught:
        parse_money(text, "USD")
    assert caught.value.field == "amount"


def test_a_negative_amount_is_read_only_when_allowed() -> None:
    assert parse_money("-$20.00", "USD", allow_negative=True) == usd("-20")
    assert parse_money("−20", "USD", allow_negative=True) == usd("-20")


def test_a_typed_amount_without_a_currency_is_refused() -> None:
    with pytest.raises(ValidationError, match="no currency"):
        parse_money("3475", None)


@given(cents)
def test_cents_round_trip_through_text_and_back(value: int) -> None:
    money = Money.from_cents(value, "USD")
    assert money.cents == value
    assert parse_money(format_money(money), "USD", allow_negative=True) == money


@given(cents, cents)
def test_addition_is_exact(a: int, b: int) -> None:
    total = a + b
    if abs(total) <= MONEY_MAX.scaleb(2):
        assert (Money.from_cents(a, "USD") + Money.from_cents(b, "USD")).cents == total


@given(st.text(max_size=20))
def test_any_typed_text_is_read_exactly_or_refused_in_words(text: str) -> None:
    refusal: ValidationError | None = None
    try:
        money = parse_money(text, "USD", allow_negative=True)
    except ValidationError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.field == "amount" and refusal.message.startswith("Amount")
    else:
        number = re.sub(r"\s|,|\$|-|−|USD", "", text)
        assert number.isascii() and Decimal(number) == abs(money.amount)
        assert ("-" in text or "−" in text) == money.is_negative or money.is_zero


@given(cents, cents)
def test_order_follows_the_cents(a: int, b: int) -> None:
    left, right = Money.from_cents(a, "USD"), Money.from_cents(b, "USD")
    assert (left < right) == (a < b) and (left <= right) == (a <= b) and (left == right) == (a == b)
