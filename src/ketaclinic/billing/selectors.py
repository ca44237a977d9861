"""Reads for the billing pages and the API, each in a fixed number of queries whatever the data: balances are
summed by the database from the entries' signed amounts (:func:`signed_amount`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.billing import rules
from ketaclinic.billing.authorizations import booked_rows, given_rows, local_day, units_in
from ketaclinic.billing.models import (
    Account,
    FinancingPlan,
    InsurancePolicy,
    LedgerEntry,
    Package,
    Price,
    PriceList,
    PriorAuthorization,
)
from ketaclinic.core.access import Permission
from ketaclinic.core.billing import fees, financing
from ketaclinic.core.billing.authorization import authorization_expiring
from ketaclinic.core.billing.ledger import account_balance, signed
from ketaclinic.core.billing.money import Money
from ketaclinic.core.billing.reports import AGEING_BUCKETS, ageing_bucket
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions.models import InfusionSession

ADDS, TAKES = ("charge", "refund"), ("payment", "write_off")


def signed_amount(prefix: str = "") -> Case:
    """An entry's effect on what the patient owes, in cents, as a database expression (a reversal undoes the
    entry it points at)."""
    amount, direction = F(f"{prefix}amount_cents"), F(f"{prefix}direction")
    r_amount, r_direction = F(f"{prefix}reverses__amount_cents"), F(f"{prefix}reverses__direction")
    return Case(
        When(**{f"{prefix}kind__in": ADDS}, then=amount),
        When(**{f"{prefix}kind__in": TAKES}, then=-amount),
        When(**{f"{prefix}kind": "adjustment"}, then=amount * direction),
        When(**{f"{prefix}kind": "reversal", f"{prefix}reverses__kind__in": ADDS}, then=-r_amount),
        When(**{f"{prefix}kind": "reversal", f"{prefix}reverses__kind__in": TAKES}, then=r_amount),
        When(**{f"{prefix}kind": "reversal"}, then=-r_amount * r_direction),
        default=Value(0),
        output_field=IntegerField(),
    )


def accounts_with_balance(user: User) -> QuerySet[Account]:
    return (
        Account.objects.filter(patient__location_id__in=user_location_ids(user))
        .select_related("patient", "patient__location")
        .annotate(
            balance=Coalesce(Sum(signed_amount("entries__")), 0),
            first_charge=Min("entries__recorded_at", filter=Q(entries__kind="charge")),
        )
    )


@dataclass(frozen=True)
class AuthRow:
    authorization: PriorAuthorization
    used: int
    reason: str


@dataclass(frozen=True)
class Worklist:
    to_bill: list[InfusionSession]
    balances: list[Any]
    authorizations: list[AuthRow]


def worklist(user: User, *, today: date | None = None, limit: int = 100) -> Worklist:
    """Sessions given but neither on a package nor charged; balances due, oldest first; approved
    authorizations running out (dates or units). Six queries."""
    require(user, Permission.BILLING_VIEW)
    today = today or timezone.localdate()
    locations = user_location_ids(user)
    to_bill = list(
        InfusionSession.objects.filter(location_id__in=locations, state=SessionState.DISCHARGED.value)
        .exclude(package_uses__kind="use")
        .exclude(ledger_entries__kind="charge")
        .select_related("patient", "location")
        .order_by("scheduled_start")[:limit]
    )
    balances = list(
        accounts_with_balance(user).filter(**{"balance__gt": 0}).order_by(F("first_charge").asc())[:limit]
    )
    auths = list(
        PriorAuthorization.objects.filter(
            policy__patient__location_id__in=locations,
            policy__active=True,
            status="approved",
            last_day__gte=today - timedelta(days=30),
        )
        .select_related("policy__patient", "policy__payer")
        .order_by("last_day")[:limit]
    )
    used = _units_given(auths)
    rows = []
    for a in auths:
        reason = authorization_expiring(rules.authorization(a), today, units_used=used[a.pk])
        if reason:
            rows.append(AuthRow(a, used[a.pk], reason))
    return Worklist(to_bill, balances, rows)


def _units_given(auths: list[PriorAuthorization]) -> dict[int, int]:
    """Sessions checked in (not cancelled) on each authorization's days, a session's day being the local day
    of its location's time zone (one query for all the authorizations, the check-in's own count)."""
    if not auths:
        return {}
    rows = given_rows(
        {a.policy.patient_id for a in auths},
        min(a.first_day for a in auths),
        max(a.last_day for a in auths),
    )
    return {a.pk: units_in(rows, a, a.policy.patient_id) for a in auths}


@dataclass(frozen=True)
class EntryRow:
    entry: LedgerEntry
    signed: int
    running: int
    refundable: bool


def account_entries(account: Account) -> list[EntryRow]:
    """The ledger with a running balance, oldest first (one query)."""
    entries = account.entries.select_related("reverses", "recorded_by").annotate(
        reversed_by_id=F("reversed_by__id"),
        refunded=Coalesce(Sum("refunds__amount_cents"), 0),
    )
    listed = list(entries)
    core, keys = rules.core_entries(listed)
    by_key = {c.key: c for c in core}
    rows, running = [], 0
    for e in listed:
        signed_cents = signed(by_key[keys[e.pk]], by_key).cents
        running += signed_cents
        refundable = e.kind == "payment" and e.reversed_by_id is None and e.refunded < e.amount_cents
        rows.append(EntryRow(e, signed_cents, running, refundable))
    return rows


def ageing(user: User, today: date | None = None) -> dict[str, int]:
    """Accounts receivable by age of the oldest charge still owed on: '0–30' … '90+' (cents)."""
    require(user, Permission.BILLING_VIEW)
    today = today or timezone.localdate()
    buckets = {b: 0 for b in AGEING_BUCKETS}
    for a in accounts_with_balance(user).filter(**{"balance__gt": 0}):
        days = (today - timezone.localtime(a.first_charge).date()).days if a.first_charge else 0  # type: ignore[attr-defined]
        buckets[ageing_bucket(days)] += a.balance  # type: ignore[attr-defined]
    return buckets


def balance_cents(account: Account) -> int:
    """What the patient owes (negative: a credit), derived from the entries in one query."""
    entries, _ = rules.core_entries(account.entries.order_by("recorded_at", "id"))
    return account_balance(entries, account.currency).cents


def price_for(package: Package, location: Location, on_day: date) -> Price | None:
    """The location's own price list in effect that day, else the clinic-wide one."""
    lists = PriceList.objects.filter(effective_from__lte=on_day, prices__package=package)
    chosen = lists.filter(location=location).first() or lists.filter(location__isnull=True).first()
    return None if chosen is None else chosen.prices.select_related("price_list").get(package=package)


# --- financing plans --------------------------------------------------------------------------------------
PAYMENT_KINDS = ("payment", "refund")


@dataclass(frozen=True)
class PlanRow:
    plan: FinancingPlan
    states: list[financing.InstalmentState]

    @property
    def is_open(self) -> bool:
        return any(s.status is not financing.InstalmentStatus.PAID for s in self.states)

    @property
    def overdue(self) -> list[financing.InstalmentState]:
        return [s for s in self.states if s.status is financing.InstalmentStatus.OVERDUE]


def _plans_with_paid(plans: QuerySet[FinancingPlan]) -> QuerySet[FinancingPlan]:
    """Plans annotated with what was paid (net of refunds and reversals) on their account since each was set
    up, in cents owed less (negative), in the same query."""
    paid = (
        LedgerEntry.objects.filter(account=OuterRef("account"), recorded_at__gte=OuterRef("created_at"))
        .filter(Q(kind__in=PAYMENT_KINDS) | Q(kind="reversal", reverses__kind__in=PAYMENT_KINDS))
        .values("account")
        .annotate(t=Sum(signed_amount()))
        .values("t")
    )
    return plans.annotate(paid_signed=Coalesce(Subquery(paid, output_field=IntegerField()), 0))


def plan_row(plan: FinancingPlan, paid_signed: int, on: date) -> PlanRow:
    schedule = financing.instalment_schedule(
        Money.from_cents(plan.amount_cents, plan.currency),
        plan.instalments,
        plan.first_due,
        interval_months=plan.interval_months,
    )
    paid = Money.from_cents(max(0, -paid_signed), plan.currency)
    return PlanRow(plan, financing.instalment_states(schedule, [paid], on))


def financing_plans(account: Account, on: date) -> list[PlanRow]:
    """The account's plans, oldest first, each instalment's status as of ``on`` (the clinic's day at the
    patient's location). One query."""
    return [plan_row(p, p.paid_signed, on) for p in _plans_with_paid(account.financing_plans.all())]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OverdueRow:
    plan: FinancingPlan
    state: financing.InstalmentState


def overdue_instalments(user: User, *, limit: int = 100) -> list[OverdueRow]:
    """Instalments past their due date and not fully paid, at the user's locations, oldest due first; each
    judged on its location's own day. One query."""
    require(user, Permission.BILLING_VIEW)
    plans = _plans_with_paid(
        FinancingPlan.objects.filter(
            account__patient__location_id__in=user_location_ids(user),
            first_due__lt=timezone.localdate() + timedelta(days=1),
        ).select_related("account__patient__location")
    )
    rows = []
    now = timezone.now()
    for p in plans:
        on = local_day(now, p.account.patient.location.timezone)
        rows += [OverdueRow(p, s) for s in plan_row(p, p.paid_signed, on).overdue]  # type: ignore[attr-defined]
    rows.sort(key=lambda r: r.state.instalment.due)
    return rows[:limit]


# --- the late-cancellation fee ------------------------------------------------------------------------
def late_cancel_policy(location: Location, on_day: date) -> fees.LateCancelPolicy | None:
    """The location's own price list in effect that day, else the clinic-wide one (as prices are found)."""
    lists = PriceList.objects.filter(effective_from__lte=on_day)
    chosen = lists.filter(location=location).first() or lists.filter(location__isnull=True).first()
    if chosen is None:
        return None
    return fees.LateCancelPolicy(
        hours=chosen.late_cancel_hours, fee=Money.from_cents(chosen.late_cancel_fee_cents, chosen.currency)
    )


def late_cancel_fee_due(appointment: Any, *, at: datetime, by: str) -> Money | None:
    """The fee a cancellation at ``at`` by ``by`` (patient or clinic) would owe, or None (the core
    decides)."""
    tz = appointment.location.timezone
    policy = late_cancel_policy(appointment.location, local_day(appointment.start, tz))
    return fees.late_cancel_fee(policy, start=appointment.start, cancelled_at=at, by=fees.CancelledBy(by))


@dataclass(frozen=True)
class AuthLine:
    authorization: PriorAuthorization
    used: int  # sessions checked in on its days (what a check-in counts)
    units_left: int
    days_left: int
    booked: int = 0  # infusions booked or done on its days (what a booking counts)

    @property
    def bookable(self) -> int:
        """How many more infusions a booking would accept under it."""
        return max(0, self.authorization.approved_units - self.booked)


@dataclass(frozen=True)
class PolicyLine:
    policy: Any
    authorizations: list[AuthLine]


def patient_policies(patient: Any, *, today: date) -> list[PolicyLine]:
    """The patient's policies (active first, by priority) and each one's authorizations with the sessions
    used so far (checked in, not cancelled, on a local day inside its dates), the infusions booked on its
    days, and the days left counted from ``today`` (the location's day). Four queries, however many policies
    and authorizations."""
    auths = PriorAuthorization.objects.order_by("-last_day")
    policies = (
        InsurancePolicy.objects.filter(patient=patient)
        .select_related("payer")
        .prefetch_related(Prefetch("authorizations", queryset=auths, to_attr="annotated"))
        .order_by("-active", "priority", "-created_at")
    )
    listed = list(policies)
    every = [a for p in listed for a in p.annotated]
    # the sessions given and the infusions booked inside any of them (one query each, also with none), each
    # on its location's day: the very counts the check-in and the booking hold against them
    first = min((a.first_day for a in every), default=today)
    last = max((a.last_day for a in every), default=today)
    given = given_rows([patient.pk], first, last)
    booked = booked_rows([patient.pk], first, last)
    lines = []
    for p in listed:
        rows = []
        for a in p.annotated:
            used = units_in(given, a, patient.pk)
            days_left = max(0, (a.last_day - max(today, a.first_day)).days + 1)
            rows.append(
                AuthLine(a, used, max(0, a.approved_units - used), days_left, units_in(booked, a, patient.pk))
            )
        lines.append(PolicyLine(p, rows))
    return lines
