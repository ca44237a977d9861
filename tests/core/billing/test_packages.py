"""Packages: sessions used from a package and given back when cancelled; never beyond what was sold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.billing.ledger import (
    AdjustmentDirection,
    EntryKind,
    LedgerEntry,
    account_balance,
    check_adjustment,
    check_refund,
    refundable,
)
from ketaclinic.core.billing.money import Money
from ketaclinic.core.billing.packages import (
    PACKAGE_UNITS_MAX,
    SEED_PACKAGES,
    PackageTerms,
    UnitKind,
    check_package_return,
    check_package_use,
    package_units_left,
    package_unused_value,
)
from ketaclinic.core.errors import ValidationError

SERIES, SERIES_WITH_INTEGRATION, MAINTENANCE = SEED_PACKAGES


def test_the_seed_packages_carry_the_seed_prices() -> None:
    assert [(p.infusions, p.integration_sessions, p.price.cents) for p in SEED_PACKAGES] == [
        (6, 0, 347_500),
        (6, 6, 446_600),
        (1, 0, 47_500),
    ]


def test_six_infusions_are_booked_then_the_seventh_is_refused() -> None:
    for used in range(6):
        assert check_package_use(SERIES, used, 0, UnitKind.INFUSION) == 5 - used
    with pytest.raises(ValidationError, match="0 infusions left of 6, so 1 more cannot be booked") as caught:
        check_package_use(SERIES, 6, 0, UnitKind.INFUSION)
    assert caught.value.field == "wanted"


def test_a_cancelled_session_gives_its_unit_back() -> None:
    assert package_units_left(SERIES, 6, 0, UnitKind.INFUSION) == 0
    assert check_package_return(SERIES, 6, 0, UnitKind.INFUSION) == 1
    assert check_package_use(SERIES, 6, 1, UnitKind.INFUSION) == 0


def test_booking_several_at_once_names_what_is_left() -> None:
    with pytest.raises(
        ValidationError, match="4 infusions left of 6, so 5 more cannot be booked.*up to 4 more"
    ):
        check_package_use(SERIES, 2, 0, UnitKind.INFUSION, wanted=5)
    with pytest.raises(ValidationError, match="1 infusion left"):
        check_package_use(SERIES, 5, 0, UnitKind.INFUSION, wanted=2)


def test_integration_sessions_are_counted_apart_from_infusions() -> None:
    assert check_package_use(SERIES_WITH_INTEGRATION, 5, 0, UnitKind.INTEGRATION) == 0
    with pytest.raises(ValidationError, match="includes no integration sessions"):
        check_package_use(SERIES, 0, 0, UnitKind.INTEGRATION)


def test_nothing_in_use_cannot_be_given_back() -> None:
    with pytest.raises(ValidationError, match="No infusion of this package is in use"):
        check_package_return(SERIES, 2, 2, UnitKind.INFUSION)


@pytest.mark.parametrize(
    ("used", "returned", "words"),
    [
        (1, 2, "given back is more than"),
        (7, 0, "at most 6 can be in use"),
        (-1, 0, "whole number"),
        (0, -1, "whole number"),
    ],
)
def test_impossible_counts_are_refused(used: int, returned: int, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        package_units_left(SERIES, used, returned, UnitKind.INFUSION)


@pytest.mark.parametrize(
    ("infusions", "integration", "price", "words"),
    [
        (0, 0, "100", "at least 1"),
        (-1, 0, "100", "outside the allowed range 0 to 100"),
        (PACKAGE_UNITS_MAX + 1, 0, "100", "outside the allowed range"),
        (6, 0, "0", "costs more than"),
    ],
)
def test_package_terms_that_make_no_sense_are_refused(
    infusions: int, integration: int, price: str, words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        PackageTerms(infusions, integration, Money(Decimal(price), "USD"))


def test_a_package_price_without_a_currency_is_refused() -> None:
    with pytest.raises(ValidationError, match="no currency"):
        PackageTerms(6, 0, Decimal("3475"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="no currency"):
        PackageTerms(6, 0, Money(Decimal("3475"), ""))


@given(st.lists(st.booleans(), max_size=40))
def test_units_left_stay_between_zero_and_what_was_sold(bookings: list[bool]) -> None:
    used = returned = 0
    for book in bookings:
        try:
            if book:
                check_package_use(SERIES, used, returned, UnitKind.INFUSION)
                used += 1
            else:
                check_package_return(SERIES, used, returned, UnitKind.INFUSION)
                returned += 1
        except ValidationError:
            pass
        left = package_units_left(SERIES, used, returned, UnitKind.INFUSION)
        assert 0 <= left <= 6
        assert left == 6 - (used - returned)


def test_a_returned_package_is_refunded_then_the_charge_reduced_and_nothing_is_left_owing() -> None:
    """Worked example: 6 infusions sold for $3,475 and paid by card; 2 given, the patient stops. The 4 unused
    are worth 4/6 of $3,475 = $2,316.666… → $2,316.66 (rounded down). Refund first, then decrease the
    charge."""
    unused = package_unused_value(SERIES, used_infusions=2, used_integration=0)
    assert unused == Money(Decimal("2316.66"), "USD")
    entries = [
        LedgerEntry("sale", EntryKind.CHARGE, SERIES.price),
        LedgerEntry("paid", EntryKind.PAYMENT, SERIES.price, method="card"),
    ]
    with pytest.raises(ValidationError, match="record the refund first"):
        check_adjustment(entries, unused, AdjustmentDirection.DECREASE)
    check_refund(entries, unused, "card")
    entries.append(LedgerEntry("refund", EntryKind.REFUND, unused, method="card"))
    check_adjustment(entries, unused, AdjustmentDirection.DECREASE)
    entries.append(
        LedgerEntry("return", EntryKind.ADJUSTMENT, unused, direction=AdjustmentDirection.DECREASE)
    )
    assert account_balance(entries, "USD") == Money.zero("USD")
    assert refundable(entries, "USD") == Money(Decimal("1158.34"), "USD")


@pytest.mark.parametrize(
    ("used_infusions", "used_integration", "returned", "cents"),
    [(0, 0, 0, 446_600), (6, 6, 0, 0), (3, 3, 0, 223_300), (6, 6, 6, 223_300), (1, 0, 0, 409_383)],
)
def test_unused_value_shares_the_price_over_every_session(
    used_infusions: int, used_integration: int, returned: int, cents: int
) -> None:
    value = package_unused_value(SERIES_WITH_INTEGRATION, used_infusions, used_integration, returned, 0)
    assert value.cents == cents
