"""Billing API: the worklist, a patient's account, package sale, payments, refunds, write-offs, reversals, the
statement link, and a session's claim (its computed codes as JSON, or the X12 837P file).

Amounts are strings of decimal currency units (``"3475.00"``) with their ISO 4217 currency code (``"USD"``),
never JSON numbers: a float is refused (422). Every write goes through the billing services the pages use,
with the same permissions (billing staff record; clinical staff read what the pages show them), the same
refusals (field, value and allowed range) and the same audit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse as url_for
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.services import audit_read
from ketaclinic.base.pdf import pdf_filename
from ketaclinic.billing import claims, rules, selectors, services
from ketaclinic.billing.models import Account, LedgerEntry, Package
from ketaclinic.billing.packages import sales_with_units_left
from ketaclinic.billing.views import superbill_for
from ketaclinic.core.access import Permission
from ketaclinic.core.billing.claims import cms1500_fields
from ketaclinic.core.billing.money import Money, currency_check
from ketaclinic.core.errors import ValidationError
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

router = Router(tags=["billing"])

AMOUNT_DOC = 'Decimal currency units as a string, e.g. "3475.00" (never a JSON number).'
CURRENCY_DOC = "ISO 4217 code of the amount, e.g. USD; it must be the account's currency."
WRONG_CURRENCY = "This account is kept in {kept}; an amount in {given} is not taken (allowed: {kept})."


class AmountOut(Schema):
    amount: str = Field(description=AMOUNT_DOC)
    currency: str = Field(description="ISO 4217 code, e.g. USD.")


def _amount(cents: int, currency: str) -> AmountOut:
    return AmountOut(amount=str(Money.from_cents(int(cents), currency).amount), currency=currency)


class EntryOut(Schema):
    id: UUID
    kind: str
    recorded_at: datetime
    description: str
    method: str
    amount: AmountOut
    balance_after: AmountOut
    reverses: UUID | None = None
    reversed: bool
    refundable: bool


class PackageOut(Schema):
    id: UUID
    package: str
    sold_at: datetime
    infusions_left: int


class AccountOut(Schema):
    patient: UUID
    balance: AmountOut
    entries: list[EntryOut]
    packages: list[PackageOut]


class ToBillOut(Schema):
    session: UUID
    patient: UUID
    patient_name: str
    location: str
    scheduled_start: datetime


class BalanceOut(Schema):
    patient: UUID
    patient_name: str
    balance: AmountOut


class AuthorizationOut(Schema):
    patient: UUID
    number: str
    payer: str
    first_day: date
    last_day: date
    approved_units: int
    used_units: int
    reason: str


class WorklistOut(Schema):
    sessions_to_bill: list[ToBillOut]
    claims_to_send: list[ToBillOut] = Field(
        description="Given sessions of patients with an active insurance policy, not yet billed."
    )
    balances_due: list[BalanceOut]
    authorizations_running_out: list[AuthorizationOut]


class PaymentIn(Schema):
    amount: str = Field(min_length=1, max_length=20, description=AMOUNT_DOC)
    currency: str = Field(min_length=1, max_length=3, description=CURRENCY_DOC)
    method: LedgerEntry.Method
    card_token: str = Field(
        "", max_length=80, description="For card or HSA/FSA: the processor's token (never a card number)."
    )
    check_number: str = Field("", max_length=20)
    note: str = Field("", max_length=300)


class RefundIn(Schema):
    payment: UUID
    amount: str = Field(min_length=1, max_length=20, description=AMOUNT_DOC)
    currency: str = Field(min_length=1, max_length=3, description=CURRENCY_DOC)
    reason: str = Field(min_length=1, max_length=300)


class WriteOffIn(Schema):
    amount: str = Field(min_length=1, max_length=20, description=AMOUNT_DOC)
    currency: str = Field(min_length=1, max_length=3, description=CURRENCY_DOC)
    reason: str = Field(min_length=1, max_length=300)


class ReverseIn(Schema):
    entry: UUID
    reason: str = Field(min_length=1, max_length=300)


class SaleIn(Schema):
    package: str = Field(min_length=1, max_length=40, description="Package code, e.g. series-6.")


class StatementOut(Schema):
    url: str = Field(description="One-time link for the patient (opens once, valid 7 days).")


class CodeOut(Schema):
    code: str
    units: int
    modifiers: list[str]
    charge: AmountOut
    description: str


class ClaimOut(Schema):
    claim_id: str
    service_day: date
    payer: str
    diagnosis_codes: list[str]
    prior_authorization: str
    lines: list[CodeOut]


def _patient(user: Any, external_id: UUID, permission: Permission) -> Patient:
    patient = get_object_or_404(Patient.objects.select_related("location"), external_id=external_id)
    return patient_for(user, patient, permission)


def _cents(account: Account, amount: str, currency: str) -> int:
    """The typed amount in the account's currency as exact cents, refused as the pages refuse it."""
    given = currency_check(currency.upper())
    if given != account.currency:
        raise ValidationError(
            WRONG_CURRENCY.format(kept=account.currency, given=given), field="currency", value=currency
        )
    return rules.parse_cents(amount, account.currency)


def _account(patient: Patient) -> AccountOut:
    account = services.account_for(patient)
    audit_read(patient, "billing account")
    rows = selectors.account_entries(account)
    cur = account.currency
    return AccountOut(
        patient=patient.external_id,
        balance=_amount(rows[-1].running if rows else 0, cur),
        entries=[
            EntryOut(
                id=r.entry.external_id,
                kind=r.entry.kind,
                recorded_at=r.entry.recorded_at,
                description=r.entry.description,
                method=r.entry.method,
                amount=_amount(r.entry.amount_cents, r.entry.currency),
                balance_after=_amount(r.running, cur),
                reverses=r.entry.reverses.external_id if r.entry.reverses else None,
                reversed=getattr(r.entry, "reversed_by_id", None) is not None,
                refundable=r.refundable,
            )
            for r in rows
        ],
        packages=[
            PackageOut(id=s.external_id, package=s.package.name, sold_at=s.sold_at, infusions_left=left)
            for s, left in sales_with_units_left(account)
        ],
    )


@router.get("/worklist", response=WorklistOut, summary="Sessions to bill, claims to send, balances due")
def worklist(request: AuthedRequest) -> WorklistOut:
    work = selectors.worklist(request.user)
    insured = set(
        Patient.objects.filter(
            pk__in={s.patient_id for s in work.to_bill}, insurance_policies__active=True
        ).values_list("pk", flat=True)
    )

    def to_bill(s: Any) -> ToBillOut:
        return ToBillOut(
            session=s.external_id,
            patient=s.patient.external_id,
            patient_name=str(s.patient),
            location=s.location.code,
            scheduled_start=s.scheduled_start,
        )

    return WorklistOut(
        sessions_to_bill=[to_bill(s) for s in work.to_bill],
        claims_to_send=[to_bill(s) for s in work.to_bill if s.patient_id in insured],
        balances_due=[
            BalanceOut(
                patient=a.patient.external_id,
                patient_name=str(a.patient),
                balance=_amount(a.balance, a.currency),
            )
            for a in work.balances
        ],
        authorizations_running_out=[
            AuthorizationOut(
                patient=r.authorization.policy.patient.external_id,
                number=r.authorization.number,
                payer=r.authorization.policy.payer.name,
                first_day=r.authorization.first_day,
                last_day=r.authorization.last_day,
                approved_units=r.authorization.approved_units,
                used_units=r.used,
                reason=str(r.reason),
            )
            for r in work.authorizations
        ],
    )


@router.get("/accounts/{external_id}", response=AccountOut, summary="A patient's account")
def account(request: AuthedRequest, external_id: UUID) -> AccountOut:
    return _account(_patient(request.user, external_id, Permission.BILLING_VIEW))


def _entry(patient: Any, external_id: UUID, field: str) -> LedgerEntry:
    """An entry of this patient's account, or a refusal naming the field (never another patient's entry)."""
    entry = (
        LedgerEntry.objects.select_related("account__patient")
        .filter(external_id=external_id, account__patient=patient)
        .first()
    )
    if entry is None:
        raise ValidationError(
            f"{field.title()}: no entry {external_id} on this patient's account.",
            field=field,
            value=str(external_id),
        )
    return entry


@router.post("/accounts/{external_id}/packages", response={201: AccountOut}, summary="Sell a package")
def package_sell(request: AuthedRequest, external_id: UUID, payload: SaleIn) -> Status[AccountOut]:
    require(request.user, Permission.BILLING_RECORD)
    who = _patient(request.user, external_id, Permission.BILLING_RECORD)
    package = Package.objects.filter(code=payload.package, active=True).first()
    if package is None:
        codes = ", ".join(Package.objects.filter(active=True).order_by("code").values_list("code", flat=True))
        raise ValidationError(
            f"Package: no package on sale has the code {payload.package!r}; one of: {codes}.",
            field="package",
            value=payload.package,
        )
    services.package_sell(user=request.user, patient=who, package=package)
    return Status(201, _account(who))


@router.post("/accounts/{external_id}/payments", response={201: AccountOut}, summary="Take a payment")
def payment(request: AuthedRequest, external_id: UUID, payload: PaymentIn) -> Status[AccountOut]:
    require(request.user, Permission.BILLING_RECORD)
    who = _patient(request.user, external_id, Permission.BILLING_RECORD)
    if payload.method == LedgerEntry.Method.INSURANCE:
        raise ValidationError(
            "Insurance payments come from the payer's remittance, not the desk (allowed: cash, check, card, "
            "HSA/FSA card, financing plan).",
            field="method",
            value=payload.method.value,
        )
    cents = _cents(services.account_for(who), payload.amount, payload.currency)
    services.payment_record(
        user=request.user,
        patient=who,
        amount_cents=cents,
        method=payload.method.value,
        card_token=payload.card_token,
        check_number=payload.check_number,
        note=payload.note,
    )
    return Status(201, _account(who))


@router.post("/accounts/{external_id}/refunds", response={201: AccountOut}, summary="Refund a payment")
def refund(request: AuthedRequest, external_id: UUID, payload: RefundIn) -> Status[AccountOut]:
    require(request.user, Permission.BILLING_RECORD)
    who = _patient(request.user, external_id, Permission.BILLING_RECORD)
    paid = _entry(who, payload.payment, "payment")
    cents = _cents(paid.account, payload.amount, payload.currency)
    services.refund_record(user=request.user, payment=paid, amount_cents=cents, reason=payload.reason)
    return Status(201, _account(who))


@router.post("/accounts/{external_id}/write-offs", response={201: AccountOut}, summary="Write off a balance")
def write_off(request: AuthedRequest, external_id: UUID, payload: WriteOffIn) -> Status[AccountOut]:
    require(request.user, Permission.BILLING_RECORD)
    who = _patient(request.user, external_id, Permission.BILLING_RECORD)
    cents = _cents(services.account_for(who), payload.amount, payload.currency)
    services.write_off_record(user=request.user, patient=who, amount_cents=cents, reason=payload.reason)
    return Status(201, _account(who))


@router.post(
    "/accounts/{external_id}/reversals", response={201: AccountOut}, summary="Reverse a mistaken entry"
)
def entry_reversal(request: AuthedRequest, external_id: UUID, payload: ReverseIn) -> Status[AccountOut]:
    require(request.user, Permission.BILLING_RECORD)
    who = _patient(request.user, external_id, Permission.BILLING_RECORD)
    entry = _entry(who, payload.entry, "entry")
    services.entry_reverse(user=request.user, entry=entry, reason=payload.reason)
    return Status(201, _account(who))


@router.post(
    "/accounts/{external_id}/statement-link",
    response={201: StatementOut},
    summary="A one-time statement link",
)
def statement_link(request: AuthedRequest, external_id: UUID) -> Status[StatementOut]:
    who = _patient(request.user, external_id, Permission.BILLING_RECORD)
    token = services.statement_link_create(user=request.user, patient=who)
    return Status(201, StatementOut(url=request.build_absolute_uri(url_for("statement", args=[token]))))


@router.get(
    "/sessions/{external_id}/claim", response=ClaimOut, summary="A session's claim: its computed codes"
)
def claim(request: AuthedRequest, external_id: UUID) -> ClaimOut:
    bill, patient = superbill_for(request.user, external_id)
    plain = claims.claim_for(bill)
    cms1500_fields(plain)  # the claim's checks, as on the claim page: a missing field is refused naming it
    audit_read(patient, "insurance claim")
    return ClaimOut(
        claim_id=plain.claim_id,
        service_day=bill.day,
        payer=plain.payer.name,
        diagnosis_codes=list(plain.diagnosis_codes),
        prior_authorization=plain.prior_authorization,
        lines=[
            CodeOut(
                code=line.code,
                units=line.units,
                modifiers=list(line.modifiers),
                charge=_amount(line.charge.cents, line.charge.currency),
                description=line.description,
            )
            for line in plain.lines
        ],
    )


@router.get(
    "/sessions/{external_id}/claim.837",
    response={200: str},
    summary="A session's claim as the X12 837P file",
    openapi_extra={"responses": {200: {"content": {"application/edi-x12": {"schema": {"type": "string"}}}}}},
)
def claim_837(request: AuthedRequest, external_id: UUID) -> HttpResponse:
    bill, patient = superbill_for(request.user, external_id)
    text = claims.claim_file(claims.claim_for(bill), timezone.now())
    audit_read(patient, "insurance claim")
    response = HttpResponse(text, content_type="application/edi-x12")
    name = pdf_filename("claim", patient.mrn, f"{bill.day:%Y-%m-%d}").removesuffix(".pdf") + ".837"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store, private"
    return response
