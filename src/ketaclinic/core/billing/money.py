"""Money: an exact amount with its currency, never a float.

An amount is a ``Decimal`` with at most 2 decimal places (cents) and an ISO 4217 currency code. The list of
currencies and their number of decimal places comes from the ``iso4217`` package (the ISO 4217 list as
published by SIX, kept up to date on PyPI) rather than a hand-typed table; ketaclinic keeps accounts in
cents, so a currency whose minor unit is not 2 decimal places (JPY 0, KWD 3) is refused with that reason.
Amounts of different currencies are never added, subtracted or compared: the refusal names both.

>>> Money(Decimal("3475"), "USD") + Money.from_cents(99100, "USD")
Money(amount=Decimal('4466.00'), currency='USD')
>>> format_money(Money(Decimal("-20"), "USD"))
'−$20.00'
>>> parse_money("$3,475.00", "USD").cents
347500
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import cache
from typing import Any

import iso4217

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import shown

__all__ = [
    "CURRENCY_SYMBOLS",
    "MONEY_MAX",
    "Money",
    "currency_check",
    "format_money",
    "parse_money",
]

#: The largest amount the ledger accepts in one entry or balance (a typo guard: $10,000,000.00).
MONEY_MAX = Decimal("10000000.00")

#: Symbols shown before an amount; other currencies are shown with their code ("CHF 20.00").
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£", "AUD": "A$"}

_CENT = Decimal("0.01")

CURRENCY_MISSING = "{label} has no currency: give the currency with the amount (for example USD)."
CURRENCY_UNKNOWN = (
    "{label} currency {value!r} is not an ISO 4217 currency code: use a 3-letter code such as USD, CAD, "
    "EUR or GBP."
)
CURRENCY_NO_CENTS = (
    "{label} currency {value} does not have 2 decimal places (it has {places}): ketaclinic keeps accounts "
    "in currencies with cents, such as USD, CAD, EUR or GBP."
)
AMOUNT_IS_FLOAT = (
    "{label} {value} was given as a floating-point number, which cannot hold cents exactly: give it as "
    "text or a Decimal (for example '20.00')."
)
AMOUNT_NOT_A_NUMBER = "{label} {value!r} is not an amount of money: give digits such as 3475 or 3,475.00."
AMOUNT_TOO_PRECISE = (
    "{label} {value} has more than 2 decimal places: amounts are in whole cents (e.g. 20.05)."
)
AMOUNT_TOO_LARGE = "{label} {value} is larger than the allowed {limit}: amounts up to {limit} are allowed."
AMOUNT_NEGATIVE = "{label} {value} is negative: give an amount of 0.00 or more."
CURRENCIES_DIFFER = (
    "{label}: amounts in {left} and {right} cannot be combined or compared: both amounts must be in the "
    "same currency."
)


@cache
def _minor_units(code: str) -> int | None:
    """Decimal places of an ISO 4217 currency, or None for a code that is not one."""
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        return None
    try:
        currency = iso4217.Currency(code)
    except ValueError:
        return None
    return currency.exponent


def currency_check(code: object, *, field: str = "currency", label: str = "Amount") -> str:
    """The currency code as stored (upper case); refuses a missing, unknown or cent-less currency."""
    if code is None or (isinstance(code, str) and not code.strip()):
        raise ValidationError(CURRENCY_MISSING.format(label=label), field=field, value="")
    if not isinstance(code, str):
        raise ValidationError(
            CURRENCY_UNKNOWN.format(label=label, value=shown(code)), field=field, value=code
        )
    text = code.strip().upper()
    places = _minor_units(text)
    if places is None:
        raise ValidationError(
            CURRENCY_UNKNOWN.format(label=label, value=shown(code)), field=field, value=code
        )
    if places != 2:
        raise ValidationError(
            CURRENCY_NO_CENTS.format(label=label, value=text, places=places), field=field, value=text
        )
    return text


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency, with at most 2 decimal places. Negative amounts exist (a balance
    in credit); ledger entries themselves are always positive (``ledger.LedgerEntry``)."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        currency = currency_check(self.currency)
        amount: Any = self.amount
        if isinstance(amount, float):
            raise ValidationError(
                AMOUNT_IS_FLOAT.format(label="Amount", value=amount), field="amount", value=amount
            )
        if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
            raise ValidationError(
                AMOUNT_NOT_A_NUMBER.format(label="Amount", value=shown(amount)), field="amount", value=amount
            )
        value = Decimal(amount)
        if not value.is_finite():
            raise ValidationError(
                AMOUNT_NOT_A_NUMBER.format(label="Amount", value=str(value)), field="amount", value=str(value)
            )
        if abs(value) > MONEY_MAX:
            raise ValidationError(
                AMOUNT_TOO_LARGE.format(label="Amount", value=f"{value:,}", limit=f"{MONEY_MAX:,}"),
                field="amount",
                value=value,
            )
        if value != value.quantize(_CENT, rounding=ROUND_DOWN):
            raise ValidationError(
                AMOUNT_TOO_PRECISE.format(label="Amount", value=value), field="amount", value=value
            )
        object.__setattr__(self, "amount", value.quantize(_CENT))
        object.__setattr__(self, "currency", currency)

    # --- construction -------------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0.00"), currency)

    @classmethod
    def from_cents(cls, cents: int, currency: str) -> Money:
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise ValidationError(
                AMOUNT_NOT_A_NUMBER.format(label="Amount in cents", value=shown(cents)),
                field="amount",
                value=cents,
            )
        return cls(Decimal(cents).scaleb(-2), currency)

    # --- reading -------------------------------------------------------------------------------------
    @property
    def cents(self) -> int:
        return int(self.amount.scaleb(2))

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    # --- arithmetic, same currency only ---------------------------------------------------------------
    def _same(self, other: object, what: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {what} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise ValidationError(
                CURRENCIES_DIFFER.format(label="Amounts", left=self.currency, right=other.currency),
                field="currency",
                value=f"{self.currency}/{other.currency}",
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other, "add").amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other, "subtract").amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, "compare").amount

    def __str__(self) -> str:
        return format_money(self)


def format_money(money: Money) -> str:
    """The amount as staff read it: ``$3,475.00``; negative with a true minus sign, ``−$20.00``; a currency
    without a symbol here shows its code (``CHF 20.00``)."""
    symbol = CURRENCY_SYMBOLS.get(money.currency)
    digits = f"{abs(money.amount):,.2f}"
    body = f"{symbol}{digits}" if symbol else f"{money.currency} {digits}"
    return f"−{body}" if money.is_negative else body


_MONEY_TEXT = re.compile(
    r"^(?P<sign>[-−]?)(?P<digits>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<cents>[0-9]{1,2}))?$"
)


def parse_money(
    text: str,
    currency: str | None,
    *,
    allow_negative: bool = False,
    field: str = "amount",
    label: str = "Amount",
) -> Money:
    """Money from what a person typed: ``3475``, ``3,475.00``, ``$3,475.00`` (the currency's own symbol or
    code may lead). Refuses ``3.475`` (3 decimals, or a European thousands dot), letters, misplaced commas,
    a missing currency, and a negative amount unless ``allow_negative``."""
    code = currency_check(currency, label=label)
    raw = (text or "").strip()
    cleaned = raw.replace(" ", "").replace("\u00a0", "")
    symbol = CURRENCY_SYMBOLS.get(code, "")
    for prefix in sorted({code, symbol} - {""}, key=len, reverse=True):
        for sign in ("", "-", "−"):
            if cleaned.startswith(sign + prefix):
                cleaned = sign + cleaned[len(sign + prefix) :]
                break
    match = _MONEY_TEXT.match(cleaned)
    if not match:
        if re.match(r"^[-−]?[0-9]+\.[0-9]{3,}$", cleaned):
            raise ValidationError(
                AMOUNT_TOO_PRECISE.format(label=label, value=shown(raw)), field=field, value=raw
            )
        raise ValidationError(
            AMOUNT_NOT_A_NUMBER.format(label=label, value=shown(raw)), field=field, value=raw
        )
    try:
        amount = Decimal(match["digits"].replace(",", "") + "." + (match["cents"] or "0"))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise ValidationError(
            AMOUNT_NOT_A_NUMBER.format(label=label, value=shown(raw)), field=field, value=raw
        ) from exc
    if match["sign"]:
        if not allow_negative:
            raise ValidationError(
                AMOUNT_NEGATIVE.format(label=label, value=shown(raw)), field=field, value=raw
            )
        amount = -amount
    if abs(amount) > MONEY_MAX:
        raise ValidationError(
            AMOUNT_TOO_LARGE.format(label=label, value=shown(raw), limit=f"{MONEY_MAX:,}"),
            field=field,
            value=raw,
        )
    return Money(amount, code)
