"""The back office's reports, each a fixed number of queries: payments by method over a period, receivables by
age (``selectors.ageing``) and package liabilities (infusions paid for and not yet given), with CSV export
by the standard library's ``csv`` writer."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.billing import rules
from ketaclinic.billing.models import LedgerEntry, PackageSale
from ketaclinic.billing.selectors import ageing
from ketaclinic.core.access import Permission


def payments_by_method(user: User, first: date, last: date, tz: str) -> list[tuple[str, int, int]]:
    """(method, payments, net cents) for payments less refunds recorded from ``first`` to ``last``."""
    require(user, Permission.BILLING_VIEW)
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    rows = (
        LedgerEntry.objects.filter(
            account__patient__location_id__in=user_location_ids(user),
            recorded_at__gte=start,
            recorded_at__lt=end,
            kind__in=["payment", "refund"],
            reversed_by__isnull=True,
        )
        .values("method")
        .annotate(
            n=Count("id", filter=Q(kind="payment")),
            paid=Sum("amount_cents", filter=Q(kind="payment"), default=0),
            refunded=Sum("amount_cents", filter=Q(kind="refund"), default=0),
        )
        .order_by("method")
    )
    labels = dict(LedgerEntry.Method.choices)
    return [
        (str(labels.get(r["method"], r["method"])), int(r["n"]), int(r["paid"]) - int(r["refunded"]))
        for r in rows
    ]


def package_liabilities(user: User) -> list[tuple[PackageSale, int, int]]:
    """(sale, infusions not yet given, their share of the price in cents) for every package with some left."""
    require(user, Permission.BILLING_VIEW)
    sales = (
        PackageSale.objects.filter(
            account__patient__location_id__in=user_location_ids(user), charge__reversed_by__isnull=True
        )
        .select_related("package", "account__patient", "charge")
        .annotate(
            used=Count("uses", filter=Q(uses__kind="use")), back=Count("uses", filter=Q(uses__kind="return"))
        )
    )
    out: list[tuple[PackageSale, int, int]] = []
    for s in sales:
        left = s.infusions - s.used + s.back
        if left > 0:
            out.append((s, left, s.charge.amount_cents * left // s.infusions))
    return out


def report_csv(user: User, first: date, last: date, tz: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Payments by method", f"{first} to {last}"])
    w.writerow(["Method", "Payments", "Net received"])
    for method, n, cents in payments_by_method(user, first, last, tz):
        w.writerow([method, n, rules.money_words(cents)])
    w.writerow([])
    w.writerow(["Accounts receivable by age (days)", "Owed"])
    for bucket, cents in ageing(user).items():
        w.writerow([bucket, rules.money_words(cents)])
    w.writerow([])
    w.writerow(["Package liabilities", "Patient", "Infusions not yet given", "Their share of the price"])
    for sale, left, cents in package_liabilities(user):
        w.writerow([sale.package.name, sale.account.patient.display_name, left, rules.money_words(cents)])
    return buf.getvalue()
