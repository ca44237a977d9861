"""The patient account's ledger rules: append-only entries, balances derived from them, corrections by
reversal (ARCHITECTURE.md rule 5; issue 14).

Every charge, payment, adjustment, refund and write-off is one entry with a positive amount; its sign on
the balance comes from its kind:

==========  ===========================  =====================================================
kind        effect on the balance due    example
==========  ===========================  =====================================================
CHARGE      + amount                     a package sold, a maintenance infusion
PAYMENT     − amount                     card, cash, HSA/FSA, insurer payment
REFUND      + amount                     money given back (the patient again owes it, or the
                                         credit it covered is gone)
WRITE_OFF   − amount                     a balance the clinic will not collect
ADJUSTMENT  + or − (its ``direction``)   a contractual discount (−), a missed fee (+)
REVERSAL    − (the reversed entry's)     undoes a mistaken entry; the entry stays on record
==========  ===========================  =====================================================

Invariants every accepted entry keeps (the checks below refuse an entry that would break one, and the
property tests in tests/core/billing/ try random sequences against them):

* the balance due is never below zero — money the patient is owed leaves as a refund *first*, then the
  charge is reduced or reversed (a package returned: refund the unused part, then adjust the charge);
* paid minus refunded is never below zero, overall and per payment method (no refund to a card that was
  never charged);
* an entry is reversed at most once, and a reversal is never itself reversed (enter the entry again).

The who and why of each entry are stored by the billing app with the entry; the core decides amounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.core.billing.money import Money, format_money
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import shown

__all__ = [
    "AdjustmentDirection",
    "EntryKind",
    "LedgerEntry",
    "account_balance",
    "check_adjustment",
    "check_ledger",
    "check_payment",
    "check_refund",
    "check_reversal",
    "check_write_off",
    "entries_by_key",
    "paid_total",
    "refundable",
    "refunded_total",
    "reversed_keys",
    "signed",
]


class EntryKind(StrEnum):
    CHARGE = "charge"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"
    WRITE_OFF = "write_off"
    REVERSAL = "reversal"


class AdjustmentDirection(StrEnum):
    INCREASE = "increase"  # the patient owes more (a fee missed earlier)
    DECREASE = "decrease"  # the patient owes less (a discount, a contractual allowance, a package returned)


ENTRY_NOT_POSITIVE = "{label} of {value} is not allowed: an entry's amount must be more than $0.00."
ENTRY_NEEDS_REVERSES = "A reversal must name the entry it reverses."
ENTRY_REVERSES_NOT_REVERSAL = "Only a reversal names an entry it reverses (this entry is a {kind})."
ENTRY_NEEDS_DIRECTION = "An adjustment must say whether it increases or decreases what the patient owes."
ENTRY_DIRECTION_NOT_ADJUSTMENT = "Only an adjustment has a direction (this entry is a {kind})."
ENTRY_METHOD_NOT_ALLOWED = "Only a payment or a refund has a payment method (this entry is a {kind})."
ENTRY_KEY_EMPTY = "An entry needs a key."
ENTRY_KEY_DUPLICATE = "Entry {value!r} appears twice in the account: each entry has its own key."
ENTRY_UNKNOWN = "Entry {value!r} is not in this patient's account."
ENTRY_REVERSAL_BEFORE = (
    "Reversal {key!r} names entry {value!r}, which is not earlier in this patient's account."
)
CURRENCY_MISMATCH = "Entry {key!r} is in {value}, but this account is kept in {currency}."

PAYMENT_NOTHING_DUE = (
    "Payment of {amount} is not allowed: nothing is due on this account (balance {balance}). "
    "Record the charge (e.g. the package sold) first, then take the payment."
)
PAYMENT_TOO_LARGE = (
    "Payment of {amount} is larger than the balance due of {balance}: "
    "a payment of up to {balance} is allowed."
)
REFUND_NOTHING_PAID = (
    "Refund of {amount} is not allowed: nothing{by} has been paid on this account "
    "that was not already refunded."
)
REFUND_TOO_LARGE = (
    "Refund of {amount} is larger than what was paid{by} and not yet refunded ({available}): "
    "a refund of up to {available} is allowed."
)
WRITE_OFF_NOTHING_DUE = (
    "Write-off of {amount} is not allowed: nothing is due on this account (balance {balance})."
)
WRITE_OFF_TOO_LARGE = (
    "Write-off of {amount} is larger than the balance due of {balance}: "
    "a write-off of up to {balance} is allowed."
)
ADJUSTMENT_TOO_LARGE = (
    "A decrease of {amount} is larger than the balance due of {balance}: a decrease of up to {balance} is "
    "allowed. To give money back, record the refund first, then the decrease."
)
REVERSAL_OF_REVERSAL = (
    "Entry {value!r} is itself a reversal and cannot be reversed: enter the original entry again instead."
)
REVERSAL_TWICE = "Entry {value!r} was already reversed (by {by!r}): an entry is reversed at most once."
REVERSAL_LEAVES_CREDIT = (
    "Reversing {kind} {value!r} of {amount} would leave the account in credit ({balance}): "
    "record a refund of {credit} first, then reverse it."
)
REVERSAL_LEAVES_REFUND = (
    "Reversing payment {value!r} of {amount} would leave more refunded than paid{by} ({net}): "
    "reverse the refund first."
)

_BALANCE_SIGN = {
    EntryKind.CHARGE: 1,
    EntryKind.PAYMENT: -1,
    EntryKind.REFUND: 1,
    EntryKind.WRITE_OFF: -1,
}


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One line of a patient's account. ``amount`` is always more than zero; ``signed`` gives its effect."""

    key: str
    kind: EntryKind
    amount: Money
    reverses: str | None = None
    method: str | None = None
    direction: AdjustmentDirection | None = None

    def __post_init__(self) -> None:
        kind = EntryKind(self.kind)
        object.__setattr__(self, "kind", kind)
        if not str(self.key).strip():
            raise ValidationError(ENTRY_KEY_EMPTY, field="key", value=self.key)
        if not isinstance(self.amount, Money):
            raise ValidationError(
                f"Entry {self.key!r} amount {shown(self.amount)} has no currency: give it as money.",
                field="amount",
                value=self.amount,
            )
        if self.amount.amount <= 0:
            raise ValidationError(
                ENTRY_NOT_POSITIVE.format(
                    label=kind.value.replace("_", "-").capitalize(), value=format_money(self.amount)
                ),
                field="amount",
                value=self.amount.amount,
            )
        if kind is EntryKind.REVERSAL and not self.reverses:
            raise ValidationError(ENTRY_NEEDS_REVERSES, field="reverses", value=self.reverses)
        if kind is not EntryKind.REVERSAL and self.reverses:
            raise ValidationError(
                ENTRY_REVERSES_NOT_REVERSAL.format(kind=kind.value), field="reverses", value=self.reverses
            )
        if kind is EntryKind.ADJUSTMENT:
            if self.direction is None:
                raise ValidationError(ENTRY_NEEDS_DIRECTION, field="direction", value=None)
            object.__setattr__(self, "direction", AdjustmentDirection(self.direction))
        elif self.direction is not None:
            raise ValidationError(
                ENTRY_DIRECTION_NOT_ADJUSTMENT.format(kind=kind.value),
                field="direction",
                value=self.direction,
            )
        if self.method is not None and kind not in (EntryKind.PAYMENT, EntryKind.REFUND):
            raise ValidationError(
                ENTRY_METHOD_NOT_ALLOWED.format(kind=kind.value), field="method", value=self.method
            )


def entries_by_key(entries: Iterable[LedgerEntry]) -> dict[str, LedgerEntry]:
    """The entries by key; refuses a key used twice."""
    out: dict[str, LedgerEntry] = {}
    for entry in entries:
        if entry.key in out:
            raise ValidationError(ENTRY_KEY_DUPLICATE.format(value=entry.key), field="key", value=entry.key)
        out[entry.key] = entry
    return out


def signed(entry: LedgerEntry, entries_by_key: Mapping[str, LedgerEntry]) -> Money:
    """The entry's effect on the balance due: charge +, payment −, refund +, write-off −, adjustment by its
    direction, reversal the negative of the entry it reverses."""
    if entry.kind is EntryKind.REVERSAL:
        target = entries_by_key.get(entry.reverses or "")
        if target is None:
            raise ValidationError(
                ENTRY_UNKNOWN.format(value=entry.reverses), field="reverses", value=entry.reverses
            )
        if target.kind is EntryKind.REVERSAL:
            raise ValidationError(
                REVERSAL_OF_REVERSAL.format(value=target.key), field="reverses", value=target.key
            )
        return -signed(target, entries_by_key)
    if entry.kind is EntryKind.ADJUSTMENT:
        return entry.amount if entry.direction is AdjustmentDirection.INCREASE else -entry.amount
    return entry.amount if _BALANCE_SIGN[entry.kind] > 0 else -entry.amount


def _currency_of(entries: Sequence[LedgerEntry], currency: str) -> None:
    for entry in entries:
        if entry.amount.currency != Money.zero(currency).currency:
            raise ValidationError(
                CURRENCY_MISMATCH.format(key=entry.key, value=entry.amount.currency, currency=currency),
                field="currency",
                value=entry.amount.currency,
            )


def account_balance(entries: Iterable[LedgerEntry], currency: str) -> Money:
    """The balance due: the sum of the entries' signed amounts (positive = the patient owes the clinic)."""
    listed = list(entries)
    _currency_of(listed, currency)
    by_key = entries_by_key(listed)
    total = Money.zero(currency)
    for entry in listed:
        total = total + signed(entry, by_key)
    return total


def reversed_keys(entries: Iterable[LedgerEntry]) -> dict[str, str]:
    """Key of each reversed entry → key of the reversal that reversed it."""
    return {e.reverses: e.key for e in entries if e.kind is EntryKind.REVERSAL and e.reverses}


def _kind_total(entries: Sequence[LedgerEntry], kind: EntryKind, currency: str, method: str | None) -> Money:
    undone = reversed_keys(entries)
    total = Money.zero(currency)
    for entry in entries:
        if entry.kind is kind and entry.key not in undone and (method is None or entry.method == method):
            total = total + entry.amount
    return total


def paid_total(entries: Iterable[LedgerEntry], currency: str, *, method: str | None = None) -> Money:
    """Payments not reversed (by ``method`` when given)."""
    listed = list(entries)
    _currency_of(listed, currency)
    return _kind_total(listed, EntryKind.PAYMENT, currency, method)


def refunded_total(entries: Iterable[LedgerEntry], currency: str, *, method: str | None = None) -> Money:
    """Refunds not reversed (by ``method`` when given)."""
    listed = list(entries)
    _currency_of(listed, currency)
    return _kind_total(listed, EntryKind.REFUND, currency, method)


def refundable(entries: Iterable[LedgerEntry], currency: str, *, method: str | None = None) -> Money:
    """What may still be refunded: paid minus refunded (by ``method`` when given)."""
    listed = list(entries)
    return paid_total(listed, currency, method=method) - refunded_total(listed, currency, method=method)


def _positive(amount: Money, label: str, field: str = "amount") -> None:
    if not isinstance(amount, Money):
        raise ValidationError(
            f"{label} {shown(amount)} has no currency: give it as money.", field=field, value=amount
        )
    if amount.amount <= 0:
        raise ValidationError(
            ENTRY_NOT_POSITIVE.format(label=label, value=format_money(amount)),
            field=field,
            value=amount.amount,
        )


def _within_balance(entries: Iterable[LedgerEntry], amount: Money, nothing_due: str, too_large: str) -> None:
    """What takes money off the balance (a payment, a write-off) needs a balance due and never exceeds it."""
    balance = account_balance(entries, amount.currency)
    words = {"amount": format_money(amount), "balance": format_money(balance)}
    if balance.amount <= 0 or amount > balance:
        raise ValidationError(
            (nothing_due if balance.amount <= 0 else too_large).format(**words),
            field="amount",
            value=amount.amount,
        )


def check_payment(entries: Iterable[LedgerEntry], amount: Money) -> None:
    """Refuses a payment of zero, or larger than the balance due. A package sale is a CHARGE, so its payment
    follows the charge; there is no prepayment into credit (the balance never goes below zero)."""
    _positive(amount, "Payment")
    _within_balance(entries, amount, PAYMENT_NOTHING_DUE, PAYMENT_TOO_LARGE)


def check_refund(entries: Iterable[LedgerEntry], amount: Money, method: str | None = None) -> None:
    """Refuses a refund larger than paid minus already refunded — per payment method when ``method`` is given
    (money goes back the way it came)."""
    _positive(amount, "Refund")
    listed = list(entries)
    available = refundable(listed, amount.currency, method=method)
    by = f" by {method}" if method else ""
    if available.amount <= 0:
        raise ValidationError(
            REFUND_NOTHING_PAID.format(amount=format_money(amount), by=by),
            field="amount",
            value=amount.amount,
        )
    if amount > available:
        raise ValidationError(
            REFUND_TOO_LARGE.format(amount=format_money(amount), by=by, available=format_money(available)),
            field="amount",
            value=amount.amount,
        )


def check_write_off(entries: Iterable[LedgerEntry], amount: Money) -> None:
    """Refuses a write-off of zero or larger than the balance due."""
    _positive(amount, "Write-off")
    _within_balance(entries, amount, WRITE_OFF_NOTHING_DUE, WRITE_OFF_TOO_LARGE)


def check_adjustment(entries: Iterable[LedgerEntry], amount: Money, direction: AdjustmentDirection) -> None:
    """Refuses an adjustment of zero, or a decrease larger than the balance due."""
    _positive(amount, "Adjustment")
    if AdjustmentDirection(direction) is AdjustmentDirection.DECREASE:
        balance = account_balance(entries, amount.currency)
        if amount > balance:
            raise ValidationError(
                ADJUSTMENT_TOO_LARGE.format(amount=format_money(amount), balance=format_money(balance)),
                field="amount",
                value=amount.amount,
            )


def check_reversal(entries: Iterable[LedgerEntry], key: str) -> LedgerEntry:
    """The entry to reverse; refuses an unknown entry, a reversal, an entry already reversed, and a reversal
    that would put the account in credit or leave more refunded than paid. The billing app then records
    ``LedgerEntry(new_key, EntryKind.REVERSAL, target.amount, reverses=key)``."""
    listed = list(entries)
    by_key = entries_by_key(listed)
    target = by_key.get(key)
    if target is None:
        raise ValidationError(ENTRY_UNKNOWN.format(value=key), field="reverses", value=key)
    if target.kind is EntryKind.REVERSAL:
        raise ValidationError(REVERSAL_OF_REVERSAL.format(value=key), field="reverses", value=key)
    undone = reversed_keys(listed)
    if key in undone:
        raise ValidationError(REVERSAL_TWICE.format(value=key, by=undone[key]), field="reverses", value=key)
    currency = target.amount.currency
    effect = -signed(target, by_key)
    balance_after = account_balance(listed, currency) + effect
    if balance_after.is_negative:
        raise ValidationError(
            REVERSAL_LEAVES_CREDIT.format(
                kind=target.kind.value.replace("_", "-"),
                value=key,
                amount=format_money(target.amount),
                balance=format_money(balance_after),
                credit=format_money(-balance_after),
            ),
            field="reverses",
            value=key,
        )
    if target.kind is EntryKind.PAYMENT:
        for method in (None, target.method) if target.method else (None,):
            net_after = refundable(listed, currency, method=method) - target.amount
            if net_after.is_negative:
                by = f" by {method}" if method else ""
                raise ValidationError(
                    REVERSAL_LEAVES_REFUND.format(
                        value=key, amount=format_money(target.amount), by=by, net=format_money(net_after)
                    ),
                    field="reverses",
                    value=key,
                )
    return target


def check_ledger(entries: Sequence[LedgerEntry], currency: str) -> None:
    """Checks a whole account as stored, entry by entry in order, against the rules above (the billing app's
    tests and a repair report use it): every entry must have been acceptable when it was added."""
    for index, entry in enumerate(entries):
        before = entries[:index]
        if entry.kind is EntryKind.PAYMENT:
            check_payment(before, entry.amount)
        elif entry.kind is EntryKind.REFUND:
            check_refund(before, entry.amount, entry.method)
        elif entry.kind is EntryKind.WRITE_OFF:
            check_write_off(before, entry.amount)
        elif entry.kind is EntryKind.ADJUSTMENT:
            check_adjustment(before, entry.amount, entry.direction or AdjustmentDirection.INCREASE)
        elif entry.kind is EntryKind.REVERSAL:
            target = entries_by_key(before).get(entry.reverses or "")
            if target is None:
                raise ValidationError(
                    ENTRY_REVERSAL_BEFORE.format(key=entry.key, value=entry.reverses),
                    field="reverses",
                    value=entry.reverses,
                )
            check_reversal(before, target.key)
            if entry.amount != target.amount:
                raise ValidationError(
                    f"Reversal {entry.key!r} is for {format_money(entry.amount)}, but entry {target.key!r} "
                    f"was for {format_money(target.amount)}: a reversal undoes the whole entry.",
                    field="amount",
                    value=entry.amount.amount,
                )
        _currency_of([entry], currency)
    entries_by_key(entries)
