"""Reads for the billing pages and the API, each in a fixed number of queries whatever the data: balances are
summed by the database from the entries' signed amounts (:func:`signed_amount`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Min, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.billing import rules
from ketaclinic.billing.models import (
    Account,
    InsurancePolicy,
    LedgerEntry,
    Package,
    Price,
    PriceList,
    PriorAuthorization,
)
from ketaclinic.core.access import Permission
from ketaclinic.core.billing.authorization import authorization_expiring
from ketaclinic.core.billing.ledger import account_balance, signed
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
    authorizations running out (dates or units). Five queries."""
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
    sessions = "policy__patient__infusion_sessions"
    auths = (
        PriorAuthorization.objects.filter(
            policy__patient__location_id__in=locations,
            policy__active=True,
            status="approved",
            last_day__gte=today - timedelta(days=30),
        )
        .select_related("policy__patient", "policy__payer")
        .annotate(
            used=Count(
                sessions,
                filter=Q(
                    **{
                        f"{sessions}__scheduled_start__date__gte": F("first_day"),
                        f"{sessions}__scheduled_start__date__lte": F("last_day"),
                        f"{sessions}__checked_in_at__isnull": False,
                    }
                )
                & ~Q(**{f"{sessions}__state": SessionState.CANCELLED.value}),
            )
        )
        .order_by("last_day")
    )
    rows = []
    for a in auths[:limit]:
        reason = authorization_expiring(rules.authorization(a), today, units_used=a.used)
        if reason:
            rows.append(AuthRow(a, a.used, reason))
    return Worklist(to_bill, balances, rows)


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


@dataclass(frozen=True)
class AuthLine:
    authorization: PriorAuthorization
    used: int
    units_left: int
    days_left: int


@dataclass(frozen=True)
class PolicyLine:
    policy: Any
    authorizations: list[AuthLine]


def patient_policies(patient: Any, *, today: date) -> list[PolicyLine]:
    """The patient's policies (active first, by priority) and each one's authorizations with the sessions
    used so far (checked in, not cancelled, inside its dates) and the days left counted from ``today`` (the
    location's day). Two queries, however many policies and authorizations."""
    sessions = "policy__patient__infusion_sessions"
    auths = PriorAuthorization.objects.annotate(
        used=Count(
            sessions,
            filter=Q(
                **{
                    f"{sessions}__scheduled_start__date__gte": F("first_day"),
                    f"{sessions}__scheduled_start__date__lte": F("last_day"),
                    f"{sessions}__checked_in_at__isnull": False,
                }
            )
            & ~Q(**{f"{sessions}__state": SessionState.CANCELLED.value}),
        )
    ).order_by("-last_day")
    policies = (
        InsurancePolicy.objects.filter(patient=patient)
        .select_related("payer")
        .prefetch_related(Prefetch("authorizations", queryset=auths, to_attr="annotated"))
        .order_by("-active", "priority", "-created_at")
    )
    lines = []
    for p in policies:
        rows = []
        for a in p.annotated:
            days_left = max(0, (a.last_day - max(today, a.first_day)).days + 1)
            rows.append(AuthLine(a, a.used, max(0, a.approved_units - a.used), days_left))
        lines.append(PolicyLine(p, rows))
    return lines
