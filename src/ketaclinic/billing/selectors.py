"""Reads for the billing pages and the API, each in a fixed number of queries whatever the data: balances are
summed by the database from the entries' signed amounts (:func:`signed_amount`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, F, IntegerField, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.billing import rules
from ketaclinic.billing.authorizations import count_in_local_days, utc_window
from ketaclinic.billing.models import Account, LedgerEntry, Package, Price, PriceList, PriorAuthorization
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
    of its location's time zone (one query for all the authorizations)."""
    used = dict.fromkeys((a.pk for a in auths), 0)
    if not auths:
        return used
    start, end = utc_window(min(a.first_day for a in auths), max(a.last_day for a in auths))
    by_patient: dict[int, list[tuple[datetime, str]]] = {}
    for patient_id, at, tz_name in (
        InfusionSession.objects.filter(
            patient_id__in={a.policy.patient_id for a in auths},
            scheduled_start__gte=start,
            scheduled_start__lt=end,
            checked_in_at__isnull=False,
        )
        .exclude(state=SessionState.CANCELLED.value)
        .values_list("patient_id", "scheduled_start", "location__timezone")
    ):
        by_patient.setdefault(patient_id, []).append((at, tz_name))
    for a in auths:
        used[a.pk] = count_in_local_days(by_patient.get(a.policy.patient_id, []), a.first_day, a.last_day)
    return used


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
