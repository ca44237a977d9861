"""The billing app's adapter to the pure core's money rules (``ketaclinic.core.billing``): the app stores
integer cents with a currency; the rules themselves (what a payment, refund, reversal or write-off may be,
prior authorizations, ageing) are the core's, with their exhaustive and property tests there. Nothing here
decides anything: it converts the stored rows into the core's values and back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from ketaclinic.core.billing import ledger
from ketaclinic.core.billing.authorization import Authorization
from ketaclinic.core.billing.money import Money, currency_check, format_money, parse_money
from ketaclinic.core.errors import ValidationError

AMOUNT_NOT_POSITIVE = "The amount must be more than zero; '{text}' is not."


def money_words(cents: int, currency: str = "USD") -> str:
    """'$3,475.00', '−$20.00' (the core's formatting)."""
    return format_money(Money.from_cents(int(cents), currency))


def parse_cents(text: str, currency: str = "USD") -> int:
    """What staff typed ('3475', '3,475.00', '$3,475.00') as exact cents, through the core's parser; zero is
    not an amount anyone takes or gives back."""
    cents = parse_money(text, currency).cents
    if cents <= 0:
        raise ValidationError(AMOUNT_NOT_POSITIVE.format(text=text), field="amount", value=text)
    return cents


def check_currency(value: str) -> str:
    return currency_check(value, label="Price")


def entry_label(row: Any) -> str:
    """How a stored entry is named in a refusal: its kind, amount and day (no internal key)."""
    day = row.recorded_at.date().isoformat() if getattr(row, "recorded_at", None) else "today"
    return f"{row.get_kind_display().lower()} of {money_words(row.amount_cents, row.currency)} on {day}"


def method_words(row: Any) -> str | None:
    """A payment's way as the core names it in refusals ("card", "hsa/fsa card"): its label, not its key."""
    return row.get_method_display().lower() if row.method else None


def core_entries(rows: Iterable[Any]) -> tuple[list[ledger.LedgerEntry], dict[int, str]]:
    """The stored entries (oldest first, ``reverses`` selected) as the core's ledger entries, and each row's
    key by primary key. Keys are the entries' words, numbered when two read alike."""
    listed = list(rows)
    seen: Counter[str] = Counter()
    keys: dict[int, str] = {}
    for row in listed:
        label = entry_label(row)
        seen[label] += 1
        keys[row.pk] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    out = []
    moves = (ledger.EntryKind.PAYMENT, ledger.EntryKind.REFUND)
    up, down = ledger.AdjustmentDirection.INCREASE, ledger.AdjustmentDirection.DECREASE
    for row in listed:
        kind = ledger.EntryKind(row.kind)
        out.append(
            ledger.LedgerEntry(
                key=keys[row.pk],
                kind=kind,
                amount=Money.from_cents(row.amount_cents, row.currency),
                reverses=keys[row.reverses_id] if row.reverses_id else None,
                method=method_words(row) if kind in moves else None,
                direction=(up if row.direction > 0 else down)
                if kind is ledger.EntryKind.ADJUSTMENT
                else None,
            )
        )
    return out, keys


def authorization(a: Any) -> Authorization:
    return Authorization(a.number, a.approved_units, a.first_day, a.last_day, a.status)
