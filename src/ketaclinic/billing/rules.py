"""The money and package rules the billing services apply, over plain integers (cents).

Temporary home: the agreed pure core ``ketaclinic.core.billing`` (ledger, packages, authorization) is written
in parallel on another branch; these functions follow its interface in cents and move to it when it lands.
They import no Django so they can move unchanged. Every refusal names the field, the value and what is
allowed, in words for the front desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from ketaclinic.core.errors import ValidationError

KNOWN_CURRENCIES = ("USD", "CAD", "EUR", "GBP")
PAYMENT_OVER_BALANCE = (
    "A payment of {amount} is more than the balance due of {balance}; take at most {balance}."
)
REFUND_OVER_PAID = "A refund of {amount} is more than what was paid{how} and not yet refunded ({left})."
ALREADY_REVERSED = "This entry was already reversed; an entry is reversed at most once."
REVERSAL_NOT_REVERSED = "A reversal cannot itself be reversed; record a new entry instead."
NO_CURRENCY = "A price needs a currency (one of {known}); '{value}' is not one."
NOT_AN_AMOUNT = "'{text}' is not an amount of money; write it like 3475 or 3,475.00."
AMOUNT_NOT_POSITIVE = "The amount must be more than zero; '{text}' is not."
PACKAGE_USED_UP = "The package '{name}' has no infusions left ({used} of {total} used)."
AUTH_NOT_APPROVED = "Prior authorization {number} is {status}, not approved: the session is not covered."
AUTH_OUTSIDE_DATES = (
    "Prior authorization {number} covers {first} to {last}; a session on {day} is outside those dates."
)
AUTH_UNITS_EXCEEDED = (
    "Prior authorization {number} approves {approved} sessions and {used} are already booked or given; "
    "one more is beyond it."
)


def money_words(cents: int, currency: str = "USD") -> str:
    """'$3,475.00', '−$20.00' (a true minus sign) — dollars for USD/CAD, the code for the others."""
    sign = "−" if cents < 0 else ""
    symbol = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£"}.get(currency, currency + " ")
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def parse_cents(text: str) -> int:
    """'3475', '3,475.00', '$3,475.00' → 347500 cents. Refuses '3.475', words, zero and negatives."""
    cleaned = text.strip().replace("$", "").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(NOT_AN_AMOUNT.format(text=text), field="amount", value=text) from None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError(NOT_AN_AMOUNT.format(text=text), field="amount", value=text)
    if value <= 0:
        raise ValidationError(AMOUNT_NOT_POSITIVE.format(text=text), field="amount", value=text)
    return int(value * 100)


def check_currency(value: str) -> str:
    if value not in KNOWN_CURRENCIES:
        raise ValidationError(
            NO_CURRENCY.format(known=", ".join(KNOWN_CURRENCIES), value=value), field="currency", value=value
        )
    return value


def check_payment(balance_cents: int, amount_cents: int, currency: str) -> None:
    if amount_cents > max(balance_cents, 0):
        raise ValidationError(
            PAYMENT_OVER_BALANCE.format(
                amount=money_words(amount_cents, currency),
                balance=money_words(max(balance_cents, 0), currency),
            ),
            field="amount",
            value=amount_cents,
        )


def check_refund(refundable_cents: int, amount_cents: int, currency: str, method_words: str = "") -> None:
    if amount_cents > refundable_cents:
        raise ValidationError(
            REFUND_OVER_PAID.format(
                amount=money_words(amount_cents, currency),
                how=f" by {method_words}" if method_words else "",
                left=money_words(refundable_cents, currency),
            ),
            field="amount",
            value=amount_cents,
        )


@dataclass(frozen=True)
class Authorization:
    number: str
    approved_units: int
    first_day: date
    last_day: date
    status: str


def check_authorization(auth: Authorization, on_day: date, units_used: int, units_wanted: int = 1) -> None:
    if auth.status != "approved":
        raise ValidationError(
            AUTH_NOT_APPROVED.format(number=auth.number, status=auth.status),
            field="status",
            value=auth.status,
        )
    if not auth.first_day <= on_day <= auth.last_day:
        raise ValidationError(
            AUTH_OUTSIDE_DATES.format(
                number=auth.number, first=auth.first_day, last=auth.last_day, day=on_day
            ),
            field="day",
            value=on_day,
        )
    if units_used + units_wanted > auth.approved_units:
        raise ValidationError(
            AUTH_UNITS_EXCEEDED.format(number=auth.number, approved=auth.approved_units, used=units_used),
            field="units",
            value=units_used + units_wanted,
        )


def authorization_expiring(
    auth: Authorization, today: date, units_used: int, within_days: int = 14
) -> str | None:
    """Why the authorization needs attention on the worklist, or None."""
    if auth.status != "approved":
        return None
    if auth.last_day < today:
        return f"ended on {auth.last_day}"
    left = auth.approved_units - units_used
    if (auth.last_day - today).days <= within_days:
        return f"ends on {auth.last_day} ({left} of {auth.approved_units} sessions left)"
    if left <= 1:
        return f"{left} of {auth.approved_units} sessions left"
    return None


def ageing_bucket(days: int) -> str:
    if days <= 30:
        return "0–30"
    if days <= 60:
        return "31–60"
    if days <= 90:
        return "61–90"
    return "90+"
