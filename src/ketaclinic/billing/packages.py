"""A package's infusions as sessions use them: a unit is taken when the patient is checked in (or, for a
session that reached discharge without one, when it completes) and given back when the session is cancelled.
Uses are append-only rows; the units left are derived from them."""

from __future__ import annotations

from django.db.models import Count, Q

from ketaclinic.accounts.models import User
from ketaclinic.billing.models import Account, PackageSale, PackageUse
from ketaclinic.core.billing.money import Money
from ketaclinic.core.billing.packages import PackageTerms, UnitKind, package_units_left
from ketaclinic.infusions.models import InfusionSession

USE, RETURN = PackageUse.Kind.USE, PackageUse.Kind.RETURN


def sales_with_units_left(account: Account) -> list[tuple[PackageSale, int]]:
    """The account's packages, oldest first, with the infusions each has left (one query)."""
    sales = (
        PackageSale.objects.filter(account=account, charge__reversed_by__isnull=True)
        .select_related("package", "charge")
        .annotate(
            used=Count("uses", filter=Q(uses__kind=USE)), returned=Count("uses", filter=Q(uses__kind=RETURN))
        )
        .order_by("sold_at", "id")
    )
    return [(s, package_units_left(terms(s), s.used, s.returned, UnitKind.INFUSION)) for s in sales]


def terms(sale: PackageSale) -> PackageTerms:
    """The sale as the core's package terms (what it includes, at the price charged)."""
    price = Money.from_cents(sale.charge.amount_cents, sale.charge.currency)
    return PackageTerms(sale.infusions, sale.integration_sessions, price, sale.package.name)


def package_use(*, session: InfusionSession, user: User) -> PackageUse | None:
    """Take one infusion from the oldest package with one left (inside the caller's transaction, with the
    account locked). None when the session already has one or the patient has no package left: the session
    is then billed on its own (the worklist shows it)."""
    if PackageUse.objects.filter(session=session, kind=USE).exists():
        return None
    account = Account.objects.filter(patient_id=session.patient_id).first()
    if account is None:
        return None
    Account.objects.select_for_update().filter(pk=account.pk).first()
    for sale, left in sales_with_units_left(account):
        if left > 0:
            return PackageUse.objects.create(sale=sale, session=session, kind=USE, by=user)
    return None


def package_return(*, session: InfusionSession, user: User) -> PackageUse | None:
    """A cancelled session gives its unit back (once)."""
    use = PackageUse.objects.filter(session=session, kind=USE).first()
    if use is None or PackageUse.objects.filter(session=session, kind=RETURN).exists():
        return None
    return PackageUse.objects.create(sale=use.sale, session=session, kind=RETURN, by=user)
