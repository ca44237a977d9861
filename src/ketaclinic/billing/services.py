"""Every money write: one function per action billing staff take, each in one transaction that first locks the
patient's account row (``select_for_update`` on that row alone, no join), so two payments on one account at
once are serialised on PostgreSQL and never lose or double an entry; SQLite serialises writers itself.
Every write is audited in the same transaction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.tokens import token_new, token_sha256
from ketaclinic.billing import rules, selectors
from ketaclinic.billing.authorizations import local_day
from ketaclinic.billing.models import (
    Account,
    FinancingPlan,
    LateCancelFee,
    LedgerEntry,
    Package,
    PackageSale,
    StatementLink,
    SubmittedForm,
)
from ketaclinic.billing.processors import processor
from ketaclinic.billing.selectors import price_for
from ketaclinic.core.access import Permission
from ketaclinic.core.billing import financing, ledger
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

Kind, Method = LedgerEntry.Kind, LedgerEntry.Method
NO_PRICE = "The package '{name}' has no price at {location} on {day}; add it to a price list first."
REASON_REQUIRED = "Say why (a few words for the account's history)."
CARD_TOKEN_REQUIRED = "A card payment needs the card read by the payment terminal or form first."
REFUND_OVER_PAYMENT = (
    "A refund of {amount} is more than this payment has left to refund ({left}): refund up to {left}."
)
FEE_CURRENCY = (
    "The late-cancellation fee is in {fee} but this account is in {account}: "
    "give the price list the account's currency."
)
NOT_REFUNDABLE = "Only a payment can be refunded; this entry is a {kind}."
FORM_ALREADY_SENT = (
    "That form was sent twice (a double click or a page sent again): it was recorded once, not twice. "
    "The account below shows what was recorded."
)


class FormAlreadySent(DomainError):
    """The same form's key was already used: what it asked for is recorded once, by the first submission."""


def account_for(patient: Patient) -> Account:
    account, _ = Account.objects.get_or_create(patient=patient)
    return account


def _locked(patient: Patient) -> Account:
    """The account row, locked for this transaction (the row alone: PostgreSQL refuses FOR UPDATE with an
    outer join)."""
    account_for(patient)
    return Account.objects.select_for_update().get(patient_id=patient.pk)


def _ledger(account: Account) -> tuple[list[ledger.LedgerEntry], dict[int, str]]:
    """The locked account's entries as the core's ledger (the rules are the core's)."""
    return rules.core_entries(account.entries.order_by("recorded_at", "id"))


def _money(account: Account, cents: int) -> Money:
    return Money.from_cents(cents, account.currency)


def _post(account: Account, user: User, **fields: Any) -> LedgerEntry:
    entry = LedgerEntry(account=account, currency=account.currency, recorded_by=user, **fields)
    entry.full_clean(exclude=["reverses", "refund_of", "session", "account", "recorded_by"])
    entry.save(force_insert=True)
    patient = account.patient
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"{entry.get_kind_display()} of {rules.money_words(entry.amount_cents, entry.currency)}: "
        f"{entry.description}",
        detail={"entry": str(entry.external_id), "kind": entry.kind, "amount_cents": entry.amount_cents},
        location_code=patient.location.code,
    )
    return entry


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    return reason.strip()[:300]


@transaction.atomic
def charge_add(
    *, user: User, patient: Patient, amount_cents: int, description: str, session: Any = None
) -> LedgerEntry:
    require(user, Permission.BILLING_RECORD)
    patient_for(user, patient, Permission.BILLING_RECORD)
    account = _locked(patient)
    return _post(
        account, user, kind=Kind.CHARGE, amount_cents=amount_cents, description=description, session=session
    )


def form_once(*, user: User, key: UUID) -> None:
    """Claim a money form's one-time key inside the caller's transaction (which then records what the form
    asks). A second submission of the same form waits for the first to commit, then finds the key taken
    and is refused: nothing is recorded, charged or refunded again. A refused first submission rolls its
    claim back with everything else, so the form can be corrected and sent again."""
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives the refusal
            SubmittedForm.objects.create(key=key, submitted_by=user)
    except IntegrityError:
        raise FormAlreadySent(FORM_ALREADY_SENT, field="form", value=str(key)) from None


@transaction.atomic
def payment_record(
    *,
    user: User,
    patient: Patient,
    amount_cents: int,
    method: str,
    card_token: str = "",
    check_number: str = "",
    note: str = "",
) -> LedgerEntry:
    """Take a payment: never more than the balance due (a package is sold as a charge first, so paying for
    it follows the charge). A card or HSA/FSA card goes through the processor; only its reference and the
    last four digits are kept. Refused before the card is charged when the amount is too large."""
    require(user, Permission.BILLING_RECORD)
    patient_for(user, patient, Permission.BILLING_RECORD)
    account = _locked(patient)
    ledger.check_payment(_ledger(account)[0], _money(account, amount_cents))
    reference, last4 = "", ""
    if method in (Method.CARD, Method.HSA_FSA):
        if not card_token:
            raise ValidationError(CARD_TOKEN_REQUIRED, field="card", value="")
        result = processor().charge(
            amount_cents=amount_cents,
            currency=account.currency,
            token=card_token,
            description=f"Account {account.external_id}",
        )
        reference, last4 = result.reference, result.last4
    return _post(
        account,
        user,
        kind=Kind.PAYMENT,
        amount_cents=amount_cents,
        method=method,
        processor_reference=reference,
        card_last4=last4,
        check_number=check_number.strip()[:20],
        description=f"Payment by {Method(method).label}" + (f" ending {last4}" if last4 else ""),
        reason=note.strip()[:300],
    )


@transaction.atomic
def refund_record(*, user: User, payment: LedgerEntry, amount_cents: int, reason: str) -> LedgerEntry:
    """Refund part or all of a payment, by the way it was paid; never more than paid by that way and not yet
    refunded."""
    require(user, Permission.BILLING_RECORD)
    patient_for(user, payment.account.patient, Permission.BILLING_RECORD)
    why = _reason(reason)
    account = _locked(payment.account.patient)
    if payment.kind != Kind.PAYMENT:
        raise ValidationError(
            NOT_REFUNDABLE.format(kind=payment.get_kind_display().lower()), field="entry", value=payment.kind
        )
    left_on_payment = payment.amount_cents - int(
        payment.refunds.filter(reversed_by__isnull=True).aggregate(t=Sum("amount_cents"))["t"] or 0
    )
    entries = _ledger(account)[0]
    ledger.check_refund(entries, _money(account, amount_cents), method=rules.method_words(payment))
    if amount_cents > left_on_payment:  # the account's rule holds; this payment itself has less left on it
        raise ValidationError(
            REFUND_OVER_PAYMENT.format(
                amount=rules.money_words(amount_cents, account.currency),
                left=rules.money_words(left_on_payment, account.currency),
            ),
            field="amount",
            value=amount_cents,
        )
    reference = ""
    if payment.processor_reference:
        reference = processor().refund(reference=payment.processor_reference, amount_cents=amount_cents)
    return _post(
        account,
        user,
        kind=Kind.REFUND,
        amount_cents=amount_cents,
        method=payment.method,
        processor_reference=reference,
        card_last4=payment.card_last4,
        refund_of=payment,
        description=f"Refund by {Method(payment.method).label}",
        reason=why,
    )


@transaction.atomic
def entry_reverse(*, user: User, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Correct a mistaken entry by a reversal that points at it (at most once; a reversal is not reversed)."""
    require(user, Permission.BILLING_RECORD)
    patient_for(user, entry.account.patient, Permission.BILLING_RECORD)
    why = _reason(reason)
    account = _locked(entry.account.patient)
    entries, keys = _ledger(account)
    ledger.check_reversal(entries, keys[entry.pk])
    return _post(
        account,
        user,
        kind=Kind.REVERSAL,
        amount_cents=entry.amount_cents,
        reverses=entry,
        description=f"Reversal of: {entry.description}",
        reason=why,
    )


@transaction.atomic
def write_off_record(*, user: User, patient: Patient, amount_cents: int, reason: str) -> LedgerEntry:
    require(user, Permission.BILLING_RECORD)
    patient_for(user, patient, Permission.BILLING_RECORD)
    why = _reason(reason)
    account = _locked(patient)
    ledger.check_write_off(_ledger(account)[0], _money(account, amount_cents))
    return _post(
        account, user, kind=Kind.WRITE_OFF, amount_cents=amount_cents, description="Write-off", reason=why
    )


@transaction.atomic
def package_sell(*, user: User, patient: Patient, package: Package) -> PackageSale:
    """Sell a package at the patient's location's price today: a charge on the account and the package's
    infusions to use."""
    require(user, Permission.BILLING_RECORD)
    patient_for(user, patient, Permission.BILLING_RECORD)
    today = timezone.localdate(timezone=None)
    price = price_for(package, patient.location, today)
    if price is None:
        raise ValidationError(
            NO_PRICE.format(name=package.name, location=patient.location.name, day=today),
            field="package",
            value=package.code,
        )
    account = _locked(patient)
    rules.check_currency(price.price_list.currency)
    charge = _post(account, user, kind=Kind.CHARGE, amount_cents=price.amount_cents, description=package.name)
    return PackageSale.objects.create(
        account=account,
        package=package,
        infusions=package.infusions,
        integration_sessions=package.integration_sessions,
        charge=charge,
        sold_by=user,
    )


SESSION_NOT_GIVEN = "Only a session that was given (the patient discharged) can be billed."
SESSION_ALREADY_BILLED = "This session is already billed (on a package or charged)."


@transaction.atomic
def session_charge(*, user: User, session: Any) -> LedgerEntry:
    """Bill a given session that no package covers, at the single-infusion price of the patient's location."""
    require(user, Permission.BILLING_RECORD)
    patient = session.patient
    patient_for(user, patient, Permission.BILLING_RECORD)
    account = _locked(patient)
    if session.state != "discharged":
        raise ValidationError(SESSION_NOT_GIVEN, field="session", value=session.state)
    if (
        session.package_uses.filter(kind="use").exists()
        or session.ledger_entries.filter(kind=Kind.CHARGE).exists()
    ):
        raise ValidationError(SESSION_ALREADY_BILLED, field="session", value=str(session.external_id))
    single = Package.objects.get(code="maintenance-1")
    day = timezone.localtime(session.scheduled_start).date()
    price = price_for(single, session.location, day)
    if price is None:
        raise ValidationError(
            NO_PRICE.format(name=single.name, location=session.location.name, day=day),
            field="package",
            value=single.code,
        )
    return _post(
        account,
        user,
        kind=Kind.CHARGE,
        amount_cents=price.amount_cents,
        session=session,
        description=f"Infusion of {day:%Y-%m-%d}",
    )


STATEMENT_LINK_DAYS = 7


@transaction.atomic
def statement_link_create(*, user: User, patient: Patient) -> str:
    """A one-time link by which the patient reads their statement; returns the token (only its SHA-256 is
    kept), valid for a week and for one opening."""
    require(user, Permission.BILLING_RECORD)
    patient_for(user, patient, Permission.BILLING_RECORD)
    token = token_new()
    StatementLink.objects.create(
        account=account_for(patient),
        token_hash=token_sha256(token),
        created_by=user,
        expires_at=timezone.now() + timedelta(days=STATEMENT_LINK_DAYS),
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary="Made a one-time statement link",
        location_code=patient.location.code,
    )
    return token


@transaction.atomic
def statement_link_open(*, token: str) -> Account | None:
    """The account a valid, unused, unexpired link opens (the link is then used up), else None."""
    link = (
        StatementLink.objects.select_for_update()
        .filter(token_hash=token_sha256(token), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if link is None:
        return None
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    account = Account.objects.select_related("patient", "patient__location").get(pk=link.account_id)
    audit_record(
        action=AuditEntry.Action.VIEW,
        patient=account.patient,
        summary="The patient opened their statement link",
        location_code=account.patient.location.code,
    )
    return account


# --- financing plans and the late-cancellation fee -------------------------------------------------------
PLAN_STILL_OPEN = (
    "This account already has a financing plan with instalments still to pay ({amount} from {day}): "
    "finish or waive it before setting up another."
)


@transaction.atomic
def financing_plan_create(
    *,
    user: User,
    patient: Patient,
    amount_cents: int,
    instalments: int,
    first_due: date,
    interval_months: int = 1,
    note: str = "",
) -> FinancingPlan:
    """Finance part or all of the balance due in 2 to 24 instalments, the first due today or later (the
    clinic's day at the patient's location); one open plan per account, so each payment counts once."""
    require(user, Permission.BILLING_RECORD)
    patient_for(user, patient, Permission.BILLING_RECORD)
    account = _locked(patient)
    today = local_day(timezone.now(), patient.location.timezone)
    for row in selectors.financing_plans(account, today):
        if row.is_open:
            raise ValidationError(
                PLAN_STILL_OPEN.format(
                    amount=rules.money_words(row.plan.amount_cents, row.plan.currency),
                    day=f"{row.plan.first_due:%d %b %Y}",
                ),
                field="amount",
                value=amount_cents,
            )
    financing.check_plan(
        amount=_money(account, amount_cents),
        balance=ledger.account_balance(_ledger(account)[0], account.currency),
        count=instalments,
        interval_months=interval_months,
        first_due=first_due,
        today=today,
    )
    plan = FinancingPlan(
        account=account,
        amount_cents=amount_cents,
        currency=account.currency,
        instalments=instalments,
        interval_months=interval_months,
        first_due=first_due,
        note=note.strip()[:300],
        created_by=user,
    )
    plan.full_clean(exclude=["account", "created_by"])
    plan.save(force_insert=True)
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Financing plan of {rules.money_words(amount_cents, account.currency)} in {instalments} "
        f"instalments from {first_due:%Y-%m-%d}",
        detail={
            "plan": str(plan.external_id),
            "amount_cents": amount_cents,
            "instalments": instalments,
            "interval_months": interval_months,
            "first_due": first_due.isoformat(),
        },
        location_code=patient.location.code,
    )
    return plan


def late_cancel_fee_charge(*, user: User, appointment: Any, by: str) -> LedgerEntry | None:
    """Inside the cancellation's transaction: charge the late-cancellation fee once for this appointment (a
    second call finds the first charge and posts nothing). Audited like every entry; a clerk waives it by
    reversing the charge with a reason."""
    existing = LateCancelFee.objects.filter(appointment=appointment).select_related("charge").first()
    if existing is not None:
        return None
    fee = selectors.late_cancel_fee_due(appointment, at=timezone.now(), by=by)
    if fee is None:
        return None
    account = _locked(appointment.patient)
    if fee.currency != account.currency:
        raise ValidationError(
            FEE_CURRENCY.format(fee=fee.currency, account=account.currency),
            field="currency",
            value=fee.currency,
        )
    tz = ZoneInfo(appointment.location.timezone)
    hours = selectors.late_cancel_policy(
        appointment.location, local_day(appointment.start, appointment.location.timezone)
    )
    entry = _post(
        account,
        user,
        kind=Kind.CHARGE,
        amount_cents=fee.cents,
        description=f"Late-cancellation fee: {appointment.type.name.lower()} of "
        f"{appointment.start.astimezone(tz):%d %b %Y %H:%M}",
        reason=f"Cancelled less than {hours.hours if hours else 0} hours before the start: "
        f"{appointment.cancel_reason}"[:300],
    )
    LateCancelFee.objects.create(appointment=appointment, charge=entry)
    return entry
