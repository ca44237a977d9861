"""Every refusal of the billing core names the field it refused, the value it was given and, in its words,
what is allowed (the pages show the message and put it next to the field); and each limit sits exactly
where its rule says (a one-day authorization, a package of only integration sessions, a one-dollar
package, a one-cent financing plan, a one-cent fee, a policy of 0 hours).

Written after `make mutation` over core/billing: mutants that dropped or renamed a refusal's field, value or
words, or moved a limit by one, survived the earlier tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.core.billing.authorization import (
    AUTH_COUNT_INVALID,
    AUTH_DATES_BACKWARDS,
    AUTH_NUMBER_MISSING,
    AUTH_UNITS_OUT_OF_RANGE,
    AUTHORIZATION_UNITS_MAX,
    Authorization,
    authorization_expiring,
    check_authorization,
)
from ketaclinic.core.billing.codes import (
    CPT_DESCRIPTIONS,
    INFUSION_MAX_MINUTES,
    SOURCE_96365,
    SOURCE_96366,
    SOURCE_PUSH,
    TIME_BACKWARDS,
    TIME_NAIVE,
    TIME_TOO_LONG,
    CodeSystem,
    infusion_cpt_lines,
    infusion_minutes,
)
from ketaclinic.core.billing.fees import NAIVE_TIME, CancelledBy, LateCancelPolicy, late_cancel_fee
from ketaclinic.core.billing.financing import AMOUNT_NOT_POSITIVE, AMOUNT_OVER_BALANCE, check_plan
from ketaclinic.core.billing.money import Money
from ketaclinic.core.billing.packages import (
    PACKAGE_EMPTY,
    PACKAGE_PRICE_NOT_POSITIVE,
    PACKAGE_UNITS_MAX,
    PACKAGE_UNITS_OUT_OF_RANGE,
    PACKAGE_USE_NONE_INCLUDED,
    PackageTerms,
    UnitKind,
    check_package_use,
)
from ketaclinic.core.billing.reports import AGE_NEGATIVE, ageing_bucket
from ketaclinic.core.errors import ValidationError

USD = "USD"
T0 = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def refused(call: Any, *args: Any, **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value


def said(error: ValidationError) -> tuple[str, str | None, object]:
    return (error.message, error.field, error.value)


# --- prior authorizations -------------------------------------------------------------------------------


def auth(**kwargs: Any) -> Authorization:
    values: dict[str, Any] = {
        "number": "WC-1",
        "approved_units": 6,
        "first_day": date(2026, 12, 1),
        "last_day": date(2026, 12, 31),
    }
    values.update(kwargs)
    return Authorization(**values)


def test_an_authorization_of_one_day_and_one_unit_and_of_the_most_units_is_accepted() -> None:
    one = auth(approved_units=1, first_day=date(2026, 12, 4), last_day=date(2026, 12, 4))
    assert check_authorization(one, date(2026, 12, 4), 0) == 0
    assert auth(approved_units=AUTHORIZATION_UNITS_MAX).approved_units == AUTHORIZATION_UNITS_MAX
    assert auth(number="  WC-9 ").number == "WC-9"  # the number as the payer gave it, without stray spaces


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"number": "  "}, (AUTH_NUMBER_MISSING, "number", "")),
        ({"number": None}, (AUTH_NUMBER_MISSING, "number", "")),
        (
            {"approved_units": 0},
            (AUTH_UNITS_OUT_OF_RANGE.format(value=0, high=AUTHORIZATION_UNITS_MAX), "approved_units", 0),
        ),
        (
            {"approved_units": AUTHORIZATION_UNITS_MAX + 1},
            (
                f"Approved units {AUTHORIZATION_UNITS_MAX + 1} is outside the allowed range 1 to "
                f"{AUTHORIZATION_UNITS_MAX}.",
                "approved_units",
                AUTHORIZATION_UNITS_MAX + 1,
            ),
        ),
        (
            {"last_day": date(2026, 11, 30)},
            (
                AUTH_DATES_BACKWARDS.format(first=date(2026, 12, 1), last=date(2026, 11, 30)),
                "last_day",
                date(2026, 11, 30),
            ),
        ),
    ],
)
def test_an_authorization_refused_names_the_field_and_the_value(
    kwargs: dict[str, Any], expected: tuple
) -> None:
    assert said(refused(auth, **kwargs)) == expected


def test_an_authorization_of_true_units_is_refused() -> None:
    error = refused(auth, approved_units=True)
    assert (error.field, error.value) == ("approved_units", True)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda: check_authorization(auth(), date(2026, 12, 2), -1),
            (AUTH_COUNT_INVALID.format(label="Units used", value=-1, low=0), "units_used", -1),
        ),
        (
            lambda: check_authorization(auth(), date(2026, 12, 2), 0, units_wanted=0),
            (AUTH_COUNT_INVALID.format(label="Units wanted", value=0, low=1), "units_wanted", 0),
        ),
        (
            lambda: authorization_expiring(auth(), date(2026, 12, 2), units_used=-1),
            (AUTH_COUNT_INVALID.format(label="Units used", value=-1, low=0), "units_used", -1),
        ),
        (
            lambda: authorization_expiring(auth(), date(2026, 12, 2), within_days=-1),
            (AUTH_COUNT_INVALID.format(label="Days", value=-1, low=0), "within_days", -1),
        ),
    ],
)
def test_a_count_that_cannot_happen_is_refused_naming_it(call: Any, expected: tuple) -> None:
    assert said(refused(call)) == expected
    assert expected[0].startswith(("Units used -1 is", "Units wanted 0 is", "Days -1 is"))


def test_the_renewal_warning_counts_no_session_used_unless_told() -> None:
    two = auth(approved_units=2)
    assert authorization_expiring(two, date(2026, 12, 2)) is None  # 2 left, 29 days left
    assert authorization_expiring(two, date(2026, 12, 2), units_used=1) == (
        "Prior authorization WC-1 has 1 session left of 2."
    )
    # a warning window of 0 days warns on the last day only
    assert authorization_expiring(two, date(2026, 12, 30), within_days=0) is None
    assert authorization_expiring(two, date(2026, 12, 31), within_days=0) == (
        "Prior authorization WC-1 ends today (2026-12-31)."
    )


# --- packages -------------------------------------------------------------------------------------------


def test_a_package_of_integration_sessions_only_a_dollar_package_and_the_largest_package_are_accepted() -> (
    None
):
    assert PackageTerms(0, 4, Money(Decimal("900.00"), USD)).integration_sessions == 4
    assert PackageTerms(3, 3, Money(Decimal("1.00"), USD)).price == Money(Decimal("1.00"), USD)
    assert PackageTerms(PACKAGE_UNITS_MAX, 0, Money(Decimal("9.99"), USD)).infusions == PACKAGE_UNITS_MAX


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            (PACKAGE_UNITS_MAX + 1, 0, Money(Decimal("1"), USD)),
            (
                PACKAGE_UNITS_OUT_OF_RANGE.format(label="Infusions", value=101, high=PACKAGE_UNITS_MAX),
                "infusions",
                101,
            ),
        ),
        (
            (6, -1, Money(Decimal("1"), USD)),
            (
                "Integration sessions -1 is outside the allowed range 0 to 100.",
                "integration_sessions",
                -1,
            ),
        ),
        ((0, 0, Money(Decimal("1"), USD)), (PACKAGE_EMPTY, "infusions", 0)),
        (
            (6, 0, Decimal("3475.00")),
            (
                "Package price Decimal('3475.00') has no currency: give the price with its currency "
                "(for example USD).",
                "price",
                Decimal("3475.00"),
            ),
        ),
        (
            (6, 0, Money(Decimal("0.00"), USD)),
            (
                PACKAGE_PRICE_NOT_POSITIVE.format(value=Money(Decimal("0.00"), USD)),
                "price",
                Decimal("0.00"),
            ),
        ),
    ],
)
def test_a_package_refused_names_the_field_and_the_value(args: tuple, expected: tuple) -> None:
    assert said(refused(PackageTerms, *args)) == expected


def test_a_package_of_true_infusions_is_refused() -> None:
    error = refused(PackageTerms, True, 0, Money(Decimal("1"), USD))
    assert (error.field, error.value) == ("infusions", True)


def test_booking_from_a_package_refuses_naming_what_was_wanted_and_what_the_package_lacks() -> None:
    series = PackageTerms(6, 0, Money(Decimal("3475.00"), USD))
    for wanted in (0, True):
        error = refused(check_package_use, series, 0, 0, UnitKind.INFUSION, wanted)
        assert said(error) == (f"Sessions wanted {wanted} is not allowed: book 1 or more.", "wanted", wanted)
    error = refused(check_package_use, series, 0, 0, UnitKind.INTEGRATION)
    assert said(error) == (
        PACKAGE_USE_NONE_INCLUDED.format(singular="integration session", plural="integration sessions"),
        "kind",
        "integration",
    )
    assert error.message == (
        "This package includes no integration sessions: book the integration session outside the package."
    )


# --- CPT times --------------------------------------------------------------------------------------------


def test_the_cpt_lines_carry_the_description_the_minutes_and_their_source() -> None:
    (push,) = infusion_cpt_lines(T0, T0 + timedelta(minutes=15))
    assert (push.system, push.code, push.units, push.description, push.note) == (
        CodeSystem.CPT,
        "96374",
        1,
        CPT_DESCRIPTIONS["96374"],
        "15 min",
    )
    initial, extra = infusion_cpt_lines(T0, T0 + timedelta(minutes=91))
    assert (initial.system, initial.code, initial.units, initial.description, initial.note) == (
        CodeSystem.CPT,
        "96365",
        1,
        CPT_DESCRIPTIONS["96365"],
        "91 min",
    )
    assert (extra.system, extra.code, extra.units, extra.description) == (
        CodeSystem.CPT,
        "96366",
        1,
        CPT_DESCRIPTIONS["96366"],
    )
    assert (push.source, initial.source, extra.source) == (SOURCE_PUSH, SOURCE_96365, SOURCE_96366)


def test_a_time_refused_names_which_time_and_the_value() -> None:
    naive = datetime(2026, 12, 4, 10, 0)  # noqa: DTZ001 - the naive time the rule refuses
    assert said(refused(infusion_minutes, naive, T0)) == (
        TIME_NAIVE.format(label="start", value=naive),
        "start",
        naive,
    )
    assert said(refused(infusion_minutes, T0, naive)) == (
        TIME_NAIVE.format(label="stop", value=naive),
        "stop",
        naive,
    )
    before = T0 - timedelta(minutes=1)
    assert said(refused(infusion_minutes, T0, before)) == (
        TIME_BACKWARDS.format(start=T0, stop=before),
        "stop",
        before,
    )
    late = T0 + timedelta(days=2)
    assert said(refused(infusion_minutes, T0, late)) == (
        TIME_TOO_LONG.format(minutes=2880, limit=INFUSION_MAX_MINUTES),
        "stop",
        late,
    )
    assert infusion_minutes(T0, T0 + timedelta(minutes=INFUSION_MAX_MINUTES)) == INFUSION_MAX_MINUTES


# --- the late-cancellation fee ------------------------------------------------------------------------------


def test_a_naive_time_is_refused_naming_which_time() -> None:
    policy = LateCancelPolicy(hours=24, fee=Money.from_cents(7500, USD))
    naive = datetime(2027, 3, 1, 9, 0)  # noqa: DTZ001 - the naive time the rule refuses
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    error = refused(late_cancel_fee, policy, start=naive, cancelled_at=start, by=CancelledBy.PATIENT)
    assert said(error) == (NAIVE_TIME.format(label="Start", value=naive), "start", naive)
    error = refused(late_cancel_fee, policy, start=start, cancelled_at=naive, by=CancelledBy.PATIENT)
    assert said(error) == (NAIVE_TIME.format(label="Cancelled at", value=naive), "cancelled_at", naive)


def test_a_one_cent_fee_is_charged_and_a_policy_of_zero_hours_charges_nothing() -> None:
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    cent = LateCancelPolicy(hours=24, fee=Money.from_cents(1, USD))
    assert late_cancel_fee(cent, start=start, cancelled_at=start, by=CancelledBy.PATIENT) == cent.fee
    none = LateCancelPolicy(hours=0, fee=Money.from_cents(7500, USD))
    after_start = start + timedelta(minutes=5)  # late under any policy that has hours
    assert late_cancel_fee(none, start=start, cancelled_at=after_start, by=CancelledBy.PATIENT) is None


# --- financing, ageing, money ---------------------------------------------------------------------------


def test_a_one_cent_plan_is_accepted_and_a_plan_over_the_balance_says_the_range() -> None:
    balance = Money.from_cents(10_000, USD)
    plan = {"count": 2, "interval_months": 1, "first_due": date(2026, 12, 10), "today": date(2026, 12, 4)}
    check_plan(amount=Money.from_cents(1, USD), balance=balance, **plan)  # type: ignore[arg-type]
    error = refused(check_plan, amount=Money.from_cents(0, USD), balance=balance, **plan)
    assert said(error) == (AMOUNT_NOT_POSITIVE.format(value="$0.00"), "amount", Money.from_cents(0, USD))
    error = refused(check_plan, amount=Money.from_cents(10_001, USD), balance=balance, **plan)
    assert said(error) == (
        AMOUNT_OVER_BALANCE.format(value="$100.01", balance="$100.00", low="$0.01"),
        "amount",
        Money.from_cents(10_001, USD),
    )
    assert error.message == (
        "Amount financed $100.01 is more than the balance due ($100.00): finance from $0.01 up to $100.00."
    )


@pytest.mark.parametrize("days", [-1, True])
def test_an_age_that_cannot_happen_is_refused_naming_it(days: int) -> None:
    assert said(refused(ageing_bucket, days)) == (AGE_NEGATIVE.format(value=days), "days", days)


def test_money_compared_with_a_bare_number_is_a_type_error_that_says_so() -> None:
    price = Money(Decimal("475.00"), USD)
    for compare in (
        lambda: price < 5,  # type: ignore[operator]
        lambda: price <= 5,  # type: ignore[operator]
        lambda: price > 5,  # type: ignore[operator]
        lambda: price >= 5,  # type: ignore[operator]
    ):
        with pytest.raises(TypeError, match="^cannot compare Money and int$"):
            compare()
