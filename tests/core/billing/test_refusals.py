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
    AUTH_AFTER_LAST_DAY,
    AUTH_BEFORE_FIRST_DAY,
    AUTH_COUNT_INVALID,
    AUTH_DATES_BACKWARDS,
    AUTH_NOT_APPROVED,
    AUTH_NUMBER_MISSING,
    AUTH_UNITS_EXCEEDED,
    AUTH_UNITS_OUT_OF_RANGE,
    AUTHORIZATION_UNITS_MAX,
    Authorization,
    AuthorizationStatus,
    authorization_expiring,
    check_authorization,
)
from ketaclinic.core.billing.codes import (
    CPT_DESCRIPTIONS,
    DOSE_IS_FLOAT,
    DOSE_NOT_DEVICES,
    DOSE_NOT_POSITIVE,
    DOSE_TOO_LARGE,
    INFUSION_MAX_MINUTES,
    NDC_INVALID,
    SOURCE_96365,
    SOURCE_96366,
    SOURCE_G2082,
    SOURCE_J0013,
    SOURCE_J3490,
    SOURCE_PUSH,
    TIME_BACKWARDS,
    TIME_NAIVE,
    TIME_TOO_LONG,
    CodeSystem,
    Drug,
    diagnosis_description,
    drug_lines,
    infusion_cpt_lines,
    infusion_minutes,
    ndc_check,
)
from ketaclinic.core.billing.fees import NAIVE_TIME, CancelledBy, LateCancelPolicy, late_cancel_fee
from ketaclinic.core.billing.financing import (
    AMOUNT_NOT_POSITIVE,
    AMOUNT_OVER_BALANCE,
    COUNT_OUT_OF_RANGE,
    FIRST_DUE_PAST,
    INTERVAL_MONTHS_MAX,
    INTERVAL_OUT_OF_RANGE,
    InstalmentStatus,
    check_plan,
    instalment_schedule,
    instalment_states,
)
from ketaclinic.core.billing.money import (
    AMOUNT_NEGATIVE,
    AMOUNT_NOT_A_NUMBER,
    AMOUNT_TOO_LARGE,
    AMOUNT_TOO_PRECISE,
    Money,
    parse_money,
)
from ketaclinic.core.billing.packages import (
    PACKAGE_COUNT_INVALID,
    PACKAGE_EMPTY,
    PACKAGE_PRICE_NOT_POSITIVE,
    PACKAGE_RETURN_NOTHING_USED,
    PACKAGE_UNITS_MAX,
    PACKAGE_UNITS_OUT_OF_RANGE,
    PACKAGE_USE_EXHAUSTED,
    PACKAGE_USE_NONE_INCLUDED,
    PackageTerms,
    UnitKind,
    check_package_return,
    check_package_use,
    package_units_left,
)
from ketaclinic.core.billing.reports import AGE_NEGATIVE, ageing_bucket
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import shown

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


# --- the drug lines and the instalments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        (35.0, (DOSE_IS_FLOAT.format(value=35.0), "dose_mg", 35.0)),
        (True, (DOSE_NOT_POSITIVE.format(value="True"), "dose_mg", True)),
        ("36", (DOSE_NOT_POSITIVE.format(value="36"), "dose_mg", "36")),
        (Decimal(0), (DOSE_NOT_POSITIVE.format(value=Decimal(0)), "dose_mg", Decimal(0))),
        (Decimal("NaN"), (DOSE_NOT_POSITIVE.format(value="NaN"), "dose_mg", None)),
        (
            Decimal("1000.5"),
            (
                DOSE_TOO_LARGE.format(value="1000.5", limit=1000, drug="ketamine"),
                "dose_mg",
                Decimal("1000.5"),
            ),
        ),
    ],
)
def test_a_ketamine_dose_that_cannot_be_billed_names_the_dose(dose: Any, expected: tuple) -> None:
    error = refused(drug_lines, Drug.KETAMINE, dose, date(2026, 12, 4))
    message, field, value = expected
    assert (error.message, error.field) == (message, field)
    if value is not None:  # NaN is never equal to itself
        assert error.value == value


def test_the_smallest_ketamine_dose_is_billed_and_an_esketamine_dose_not_in_devices_names_it() -> None:
    (line,) = drug_lines(Drug.KETAMINE, Decimal("0.5"), date(2026, 12, 4))
    assert (line.system, line.code, line.units, line.description, line.source, line.note) == (
        CodeSystem.HCPCS,
        "J3490",
        1,
        "Unclassified drugs (ketamine)",
        SOURCE_J3490,
        "ketamine hydrochloride 0.5 mg IV",
    )
    error = refused(drug_lines, Drug.ESKETAMINE, 50, date(2026, 12, 4))
    assert said(error) == (DOSE_NOT_DEVICES.format(value=50, device=28), "dose_mg", Decimal(50))
    error = refused(drug_lines, Drug.ESKETAMINE, 140, date(2026, 12, 4))
    assert said(error) == (
        DOSE_TOO_LARGE.format(value=140, limit=112, drug="esketamine"),
        "dose_mg",
        Decimal(140),
    )


@pytest.mark.parametrize(("mg", "words"), [(56, "up to"), (84, "more than")])
def test_the_medicare_esketamine_visit_line_says_what_it_includes(mg: int, words: str) -> None:
    (line,) = drug_lines(Drug.ESKETAMINE, mg, date(2026, 12, 4), medicare=True, ndc="50458-0028-02")
    assert (line.system, line.units, line.source, line.note, line.ndc) == (
        CodeSystem.HCPCS,
        1,
        SOURCE_G2082,
        f"esketamine nasal spray {mg} mg",
        "50458002802",
    )
    assert line.description == f"Esketamine visit, {words} 56 mg, drug and 2 hours of observation included"


def test_the_esketamine_drug_line_for_other_payers_is_per_mg_with_its_source() -> None:
    (line,) = drug_lines(Drug.ESKETAMINE, 84, date(2026, 12, 4), ndc="50458-0028-02")
    assert (line.system, line.code, line.units, line.description, line.source, line.note, line.ndc) == (
        CodeSystem.HCPCS,
        "J0013",
        84,
        "Esketamine, nasal spray, 1 mg",
        SOURCE_J0013,
        "esketamine nasal spray 84 mg",
        "50458002802",
    )


def test_a_diagnosis_description_is_the_tabulars() -> None:
    assert diagnosis_description("f339") == "Major depressive disorder, recurrent, unspecified"


def usd(cents: int) -> Money:
    return Money.from_cents(cents, USD)


@pytest.mark.parametrize(
    ("count", "interval", "expected"),
    [
        (True, 1, (COUNT_OUT_OF_RANGE.format(value=True, low=2, high=24), "instalments", True)),
        (
            3,
            True,
            (INTERVAL_OUT_OF_RANGE.format(value=True, high=INTERVAL_MONTHS_MAX), "interval_months", True),
        ),
        (3, 0, (INTERVAL_OUT_OF_RANGE.format(value=0, high=INTERVAL_MONTHS_MAX), "interval_months", 0)),
        (
            3,
            INTERVAL_MONTHS_MAX + 1,
            (
                INTERVAL_OUT_OF_RANGE.format(value=INTERVAL_MONTHS_MAX + 1, high=INTERVAL_MONTHS_MAX),
                "interval_months",
                INTERVAL_MONTHS_MAX + 1,
            ),
        ),
    ],
)
def test_a_plan_shape_refused_names_the_field_and_the_value(
    count: Any, interval: Any, expected: tuple
) -> None:
    error = refused(instalment_schedule, usd(10_000), count, date(2027, 1, 1), interval_months=interval)
    assert said(error) == expected


def test_a_schedule_for_nothing_is_refused_and_one_cent_per_instalment_is_not() -> None:
    assert said(refused(instalment_schedule, usd(0), 2, date(2027, 1, 1))) == (
        AMOUNT_NOT_POSITIVE.format(value="$0.00"),
        "amount",
        usd(0),
    )
    assert [i.amount for i in instalment_schedule(usd(2), 2, date(2027, 1, 1))] == [usd(1), usd(1)]


def test_a_first_due_date_in_the_past_names_today() -> None:
    error = refused(
        check_plan,
        amount=usd(100),
        balance=usd(100),
        count=2,
        interval_months=1,
        first_due=date(2026, 12, 3),
        today=date(2026, 12, 4),
    )
    assert said(error) == (
        FIRST_DUE_PAST.format(value="2026-12-03", today="2026-12-04"),
        "first_due",
        date(2026, 12, 3),
    )


def test_one_cent_paid_makes_an_instalment_part_paid_and_payments_in_another_currency_do_not_count() -> None:
    plan = instalment_schedule(usd(30_000), 3, date(2027, 1, 15))
    on = date(2027, 1, 10)
    assert [s.status for s in instalment_states(plan, [usd(1)], on=on)][:2] == [
        InstalmentStatus.PART_PAID,
        InstalmentStatus.DUE,
    ]
    euros = Money.from_cents(30_000, "EUR")
    states = instalment_states(plan, [euros, usd(10_000)], on=on)
    assert [s.paid for s in states] == [usd(10_000), usd(0), usd(0)]
    assert [s.left for s in states] == [usd(0), usd(10_000), usd(10_000)]


# --- money as typed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "constant"),
    [
        ("12.345", AMOUNT_TOO_PRECISE),
        ("twelve", AMOUNT_NOT_A_NUMBER),
        ("-20.00", AMOUNT_NEGATIVE),
    ],
)
def test_a_typed_amount_refused_names_the_field_the_label_and_what_was_typed(
    typed: str, constant: str
) -> None:
    error = refused(parse_money, f" {typed} ", "USD", field="refund", label="Refund")
    assert said(error) == (constant.format(label="Refund", value=shown(typed)), "refund", typed)
    assert error.message.startswith("Refund ")


def test_an_amount_over_the_limit_says_the_limit() -> None:
    error = refused(parse_money, "10,000,000.01", "USD")
    assert said(error) == (
        AMOUNT_TOO_LARGE.format(label="Amount", value="10,000,000.01", limit="10,000,000.00"),
        "amount",
        "10,000,000.01",
    )


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("USD 1\u00a0475.00", 147_500),  # the code typed before, a non-breaking space in the thousands
        ("$3,475", 347_500),
        ("-$20.00", -2_000),
        ("−USD20", -2_000),
    ],
)
def test_the_currencys_code_or_symbol_may_lead_and_spaces_are_ignored(typed: str, cents: int) -> None:
    assert parse_money(typed, "USD", allow_negative=True) == Money.from_cents(cents, "USD")


def test_a_missing_currency_is_refused_naming_the_label() -> None:
    error = refused(parse_money, "10.00", None, label="Refund")
    assert error.field == "currency" and error.message.startswith("Refund")


# --- booking on an authorization or a package, counts, NDCs ------------------------------------------


def test_a_session_an_authorization_does_not_cover_is_refused_naming_the_day_or_the_status() -> None:
    words = {"number": "WC-1", "first": date(2026, 12, 1), "last": date(2026, 12, 31)}
    early, late = date(2026, 11, 30), date(2027, 1, 1)
    assert said(refused(check_authorization, auth(), early, 0)) == (
        AUTH_BEFORE_FIRST_DAY.format(day=early, **words),
        "date",
        early,
    )
    assert said(refused(check_authorization, auth(), late, 0)) == (
        AUTH_AFTER_LAST_DAY.format(day=late, **words),
        "date",
        late,
    )
    pending = auth(status=AuthorizationStatus.PENDING)
    assert said(refused(check_authorization, pending, date(2026, 12, 2), 0)) == (
        AUTH_NOT_APPROVED.format(number="WC-1", status="pending"),
        "status",
        AuthorizationStatus.PENDING,
    )
    assert said(
        refused(check_authorization, auth(approved_units=2), date(2026, 12, 2), 1, units_wanted=2)
    ) == (
        AUTH_UNITS_EXCEEDED.format(number="WC-1", approved=2, used=1, wanted=2, left=1),
        "units",
        3,
    )
    assert refused(check_authorization, auth(), date(2026, 12, 2), True).field == "units_used"


def test_the_last_unit_in_use_can_be_given_back_and_impossible_counts_are_named() -> None:
    series = PackageTerms(6, 0, Money(Decimal("3475.00"), USD))
    assert check_package_return(series, 1, 0, UnitKind.INFUSION) == 6
    error = refused(check_package_return, series, 2, 2, UnitKind.INFUSION)
    assert said(error) == (
        PACKAGE_RETURN_NOTHING_USED.format(singular="infusion", used=2, returned=2),
        "returned",
        2,
    )
    assert said(refused(package_units_left, series, -1, 0, UnitKind.INFUSION)) == (
        PACKAGE_COUNT_INVALID.format(label="Sessions used", value=-1),
        "used",
        -1,
    )
    assert said(refused(package_units_left, series, 0, True, UnitKind.INFUSION)) == (
        PACKAGE_COUNT_INVALID.format(label="Sessions given back", value=True),
        "returned",
        True,
    )
    assert said(refused(package_units_left, series, 1, 2, UnitKind.INFUSION)) == (
        "2 infusions given back is more than the 1 used: at most 1 can be given back.",
        "returned",
        2,
    )
    assert said(refused(package_units_left, series, 9, 2, UnitKind.INFUSION)) == (
        "7 infusions are in use but the package includes 6: at most 6 can be in use.",
        "used",
        9,
    )
    assert said(refused(check_package_use, series, 6, 0, UnitKind.INFUSION)) == (
        PACKAGE_USE_EXHAUSTED.format(
            left=0, plural_left="infusions", included=6, wanted=1, singular="infusion"
        ),
        "wanted",
        1,
    )


def test_a_malformed_ndc_is_refused_naming_it() -> None:
    assert said(refused(ndc_check, "0409-2051")) == (
        NDC_INVALID.format(value="0409-2051"),
        "ndc",
        "0409-2051",
    )
    undashed = "0409205105"  # ten digits without dashes: which part lacks its leading zero is unknown
    assert said(refused(ndc_check, undashed)) == (NDC_INVALID.format(value=undashed), "ndc", undashed)
    assert NDC_INVALID.format(value=undashed).startswith("NDC '0409205105' is not valid")


def test_nothing_typed_is_not_an_amount() -> None:
    error = refused(parse_money, None, "USD")  # a form field left empty arrives as None
    assert said(error) == (AMOUNT_NOT_A_NUMBER.format(label="Amount", value=shown("")), "amount", "")


def test_an_amount_in_a_currency_without_a_symbol_may_start_with_its_code() -> None:
    assert parse_money("CHF 20.50", "CHF") == Money(Decimal("20.50"), "CHF")
