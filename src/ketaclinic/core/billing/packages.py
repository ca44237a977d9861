"""Treatment packages as clinic data: how many infusions and integration-therapy sessions a package holds,
its price, and how many units are left (issue 14; DOMAIN.md §1 "Money", seeds 001 and 004).

A session booked from a package uses one unit of its kind; a cancelled session gives its unit back
(``returned``), so ``left = included − used + returned`` and never below zero or above what was included.

The seed prices are *examples a clinic edits* (``SEED_PACKAGES``): "$3,475 for 6 infusions" and "$4,466 with
integration therapy" (seeds 001, 004); maintenance ("booster") infusions "around $475–$673" each. The seeds
do not say how many integration sessions the $4,466 package holds: the seed package has 6, one after each
infusion, labelled a clinic default to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError

__all__ = [
    "PACKAGE_UNITS_MAX",
    "SEED_PACKAGES",
    "PackageTerms",
    "UnitKind",
    "check_package_return",
    "check_package_use",
    "package_units_left",
    "package_unused_value",
]

#: A typo guard on the number of sessions in one package.
PACKAGE_UNITS_MAX = 100


class UnitKind(StrEnum):
    INFUSION = "infusion"
    INTEGRATION = "integration"


_KIND_WORDS = {
    UnitKind.INFUSION: ("infusion", "infusions"),
    UnitKind.INTEGRATION: ("integration session", "integration sessions"),
}

PACKAGE_UNITS_OUT_OF_RANGE = "{label} {value} is outside the allowed range 0 to {high}."
PACKAGE_EMPTY = "A package must include at least 1 infusion or integration session."
PACKAGE_PRICE_NOT_POSITIVE = "Package price {value} is not allowed: a package costs more than $0.00."
PACKAGE_USE_NONE_INCLUDED = "This package includes no {plural}: book the {singular} outside the package."
PACKAGE_USE_EXHAUSTED = (
    "This package has {left} {plural_left} left of {included}, so {wanted} more cannot be booked from it: "
    "up to {left} more are allowed. Sell a new package or book the {singular} outside the package."
)
PACKAGE_RETURN_NOTHING_USED = (
    "No {singular} of this package is in use ({used} used, {returned} given back), so none can be given back."
)
PACKAGE_COUNT_INVALID = "{label} {value} is not allowed: it must be a whole number of 0 or more."


def _count(value: object, label: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            PACKAGE_COUNT_INVALID.format(label=label, value=value), field=field, value=value
        )
    return value


@dataclass(frozen=True, slots=True)
class PackageTerms:
    infusions: int
    integration_sessions: int
    price: Money
    name: str = ""

    def __post_init__(self) -> None:
        for field, label in (("infusions", "Infusions"), ("integration_sessions", "Integration sessions")):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= PACKAGE_UNITS_MAX:
                raise ValidationError(
                    PACKAGE_UNITS_OUT_OF_RANGE.format(label=label, value=value, high=PACKAGE_UNITS_MAX),
                    field=field,
                    value=value,
                )
        if self.infusions + self.integration_sessions == 0:
            raise ValidationError(PACKAGE_EMPTY, field="infusions", value=0)
        if not isinstance(self.price, Money):
            raise ValidationError(
                f"Package price {self.price!r} has no currency: "
                "give the price with its currency (for example USD).",
                field="price",
                value=self.price,
            )
        if self.price.amount <= 0:
            raise ValidationError(
                PACKAGE_PRICE_NOT_POSITIVE.format(value=self.price), field="price", value=self.price.amount
            )

    def included(self, kind: UnitKind) -> int:
        return self.infusions if UnitKind(kind) is UnitKind.INFUSION else self.integration_sessions


def package_units_left(terms: PackageTerms, used: int, returned: int, kind: UnitKind) -> int:
    """Units of ``kind`` still to book: included − used + returned. Refuses counts that cannot happen (more
    given back than used; more in use than the package holds)."""
    kind = UnitKind(kind)
    used = _count(used, "Sessions used", "used")
    returned = _count(returned, "Sessions given back", "returned")
    singular, plural = _KIND_WORDS[kind]
    if returned > used:
        raise ValidationError(
            f"{returned} {plural} given back is more than the {used} used: at most {used} can be given back.",
            field="returned",
            value=returned,
        )
    included = terms.included(kind)
    if used - returned > included:
        raise ValidationError(
            f"{used - returned} {plural} are in use but the package includes {included}: "
            f"at most {included} can be in use.",
            field="used",
            value=used,
        )
    return included - used + returned


def check_package_use(terms: PackageTerms, used: int, returned: int, kind: UnitKind, wanted: int = 1) -> int:
    """Refuses booking ``wanted`` more units of ``kind`` beyond what the package has left; returns what will
    be left after the booking."""
    kind = UnitKind(kind)
    singular, plural = _KIND_WORDS[kind]
    if isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 1:
        raise ValidationError(
            f"Sessions wanted {wanted} is not allowed: book 1 or more.", field="wanted", value=wanted
        )
    left = package_units_left(terms, used, returned, kind)
    if terms.included(kind) == 0:
        raise ValidationError(
            PACKAGE_USE_NONE_INCLUDED.format(singular=singular, plural=plural), field="kind", value=kind.value
        )
    if wanted > left:
        raise ValidationError(
            PACKAGE_USE_EXHAUSTED.format(
                left=left,
                plural_left=singular if left == 1 else plural,
                included=terms.included(kind),
                wanted=wanted,
                singular=singular,
            ),
            field="wanted",
            value=wanted,
        )
    return left - wanted


def check_package_return(terms: PackageTerms, used: int, returned: int, kind: UnitKind) -> int:
    """A cancelled session gives its unit back: refuses when no unit is in use; returns the units left
    after."""
    kind = UnitKind(kind)
    singular, _plural = _KIND_WORDS[kind]
    left = package_units_left(terms, used, returned, kind)
    if used - returned <= 0:
        raise ValidationError(
            PACKAGE_RETURN_NOTHING_USED.format(singular=singular, used=used, returned=returned),
            field="returned",
            value=returned,
        )
    return left + 1


#: Seed packages a new clinic starts with (seeds 001 and 004): clinic data, edited on the price list.
SEED_PACKAGES: tuple[PackageTerms, ...] = (
    PackageTerms(6, 0, Money(Decimal("3475.00"), "USD"), "Initial series: 6 infusions"),
    PackageTerms(
        6, 6, Money(Decimal("4466.00"), "USD"), "Initial series: 6 infusions with integration therapy"
    ),
    PackageTerms(1, 0, Money(Decimal("475.00"), "USD"), "Maintenance infusion"),
)


def package_unused_value(
    terms: PackageTerms,
    used_infusions: int,
    used_integration: int,
    returned_infusions: int = 0,
    returned_integration: int = 0,
) -> Money:
    """What the sessions not used are worth when a patient returns a package: the price shared equally over
    every session it includes, times the sessions not used, rounded down to the cent (the clinic never pays
    back a fraction of a cent more than it received). A **clinic default** — no standard says how a package is
    prorated; a clinic with another policy records its own amount. The billing app records the refund first,
    then decreases the charge by the same amount (``ledger`` keeps the balance from going below zero)."""
    left = package_units_left(
        terms, used_infusions, returned_infusions, UnitKind.INFUSION
    ) + package_units_left(terms, used_integration, returned_integration, UnitKind.INTEGRATION)
    total = terms.infusions + terms.integration_sessions
    cents = terms.price.cents * left // total
    return Money.from_cents(cents, terms.price.currency)
