"""Titration limits that mutation testing showed were unpinned in the pure core: every limit is inclusive
(a new rate exactly at a soft or hard bound is within it, one step beyond is not), the refusal and warning
name the quantity, the value, the bound and the allowed range, and a rate, weight or dose that is not a
number is refused with the field and the value a form shows next to it."""

from __future__ import annotations

import math

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.titration import (
    BAD_AMOUNT,
    BAD_WEIGHT,
    GIVEN,
    MIN_TITRATION_OVERRIDE_CHARS,
    NEW_RATE,
    PROJECTED,
    RATE_NOT_POSITIVE,
    TITRATION_NO_WARNINGS,
    TITRATION_OVERRIDE_TOO_SHORT,
    TitrationCheck,
    override_reason_check,
    titration_check,
    titration_override,
)
from ketaclinic.core.pharmacology.dosing import (
    HARD_ABOVE,
    HARD_BELOW,
    LIMIT_RTOL,
    SOFT_ABOVE,
    SOFT_BELOW,
    HardLimitError,
    LimitWarning,
)
from ketaclinic.core.protocols.dosing import DosingSection, Limit, LimitQuantity
from ketaclinic.protocols.files import shipped_protocol

Q = LimitQuantity
BASE = shipped_protocol("depression-standard").dosing
assert BASE is not None
SOURCE = "test protocol"
RATE = Limit(
    quantity=Q.RATE_MG_PER_H, hard_min=10.0, soft_min=20.0, soft_max=100.0, hard_max=200.0, source=SOURCE
)


def section(*limits: Limit, max_rate: float | None = None) -> DosingSection:
    """The shipped section with only these limits and no PK model (so no ceiling is involved)."""
    return BASE.model_copy(update={"limits": list(limits), "max_rate_mg_per_h": max_rate, "pk_model": None})


def check(
    sec: DosingSection,
    rate: float,
    *,
    kg: float = 80.0,
    given_mg: float = 0.0,
    remaining_min: float = 0.0,
) -> TitrationCheck:
    return titration_check(
        sec,
        new_rate_mg_per_h=rate,
        dosing_weight_kg=kg,
        actual_weight_kg=kg,
        given_mg=given_mg,
        remaining_min=remaining_min,
    )


def fmt(what: str, value: float, unit: str, bound: float, low: float, high: float) -> dict[str, object]:
    return {
        "what": what,
        "value": value,
        "unit": unit,
        "bound": bound,
        "source": SOURCE,
        "range": f"{low:g}–{high:g} {unit}",
    }


# --- the new rate in mg/h: inclusive bounds on every side ----------------------------------------------
@pytest.mark.parametrize("rate", [200.0, 200.0 * (1 + LIMIT_RTOL)])
def test_a_rate_exactly_at_the_hard_maximum_is_within_it_and_only_warns(rate: float) -> None:
    c = check(section(RATE), rate)
    assert c.warnings == (
        LimitWarning(
            Q.RATE_MG_PER_H,
            "soft_max",
            100.0,
            rate,
            SOFT_ABOVE.format(**fmt(NEW_RATE, rate, "mg/h", 100, 10, 200)),
        ),
    )


def test_a_rate_just_beyond_the_hard_maximum_is_refused_naming_value_bound_and_range() -> None:
    rate = 200.0 * (1 + 1e-6)
    with pytest.raises(HardLimitError) as err:
        check(section(RATE), rate)
    assert err.value.message == HARD_ABOVE.format(**fmt(NEW_RATE, rate, "mg/h", 200, 10, 200))
    assert (
        "New rate 200 mg/h is above the hard limit of 200 mg/h (test protocol); allowed range 10–200 mg/h"
        in (err.value.message)
    )
    assert err.value.field == "rate_mg_per_h" and err.value.value == rate


@pytest.mark.parametrize("rate", [10.0, 10.0 * (1 - LIMIT_RTOL)])
def test_a_rate_exactly_at_the_hard_minimum_is_within_it_and_only_warns(rate: float) -> None:
    c = check(section(RATE), rate)
    assert c.warnings == (
        LimitWarning(
            Q.RATE_MG_PER_H,
            "soft_min",
            20.0,
            rate,
            SOFT_BELOW.format(**fmt(NEW_RATE, rate, "mg/h", 20, 10, 200)),
        ),
    )
    assert c.requires_override and not c.ready


def test_a_rate_just_below_the_hard_minimum_is_refused_naming_value_bound_and_range() -> None:
    rate = 10.0 * (1 - 1e-6)
    with pytest.raises(HardLimitError) as err:
        check(section(RATE), rate)
    assert err.value.message == HARD_BELOW.format(**fmt(NEW_RATE, rate, "mg/h", 10, 10, 200))
    assert "is below the hard limit of 10 mg/h (test protocol); allowed range 10–200 mg/h. Refused." in (
        err.value.message
    )
    assert err.value.field == "rate_mg_per_h" and err.value.value == rate


@pytest.mark.parametrize("rate", [20.0, 20.0 * (1 - LIMIT_RTOL), 100.0, 100.0 * (1 + LIMIT_RTOL), 60.0])
def test_a_rate_exactly_at_a_soft_bound_needs_no_override(rate: float) -> None:
    c = check(section(RATE), rate)
    assert c.warnings == () and c.ready and not c.requires_override


def test_a_rate_just_beyond_the_soft_maximum_warns_with_the_soft_bound() -> None:
    rate = 100.0 * (1 + 1e-6)
    (w,) = check(section(RATE), rate).warnings
    assert w == LimitWarning(
        Q.RATE_MG_PER_H,
        "soft_max",
        100.0,
        rate,
        SOFT_ABOVE.format(**fmt(NEW_RATE, rate, "mg/h", 100, 10, 200)),
    )
    assert w.message.startswith("New rate 100 mg/h is above the soft limit of 100 mg/h (test protocol)")


def test_a_rate_just_below_the_soft_minimum_warns_with_the_soft_bound() -> None:
    rate = 20.0 * (1 - 1e-6)
    (w,) = check(section(RATE), rate).warnings
    assert w == LimitWarning(
        Q.RATE_MG_PER_H, "soft_min", 20.0, rate, SOFT_BELOW.format(**fmt(NEW_RATE, rate, "mg/h", 20, 10, 200))
    )
    assert w.message.startswith("New rate 20 mg/h is below the soft limit of 20 mg/h (test protocol)")


def test_without_hard_bounds_the_range_says_there_is_no_upper_hard_limit() -> None:
    soft_only = Limit(quantity=Q.RATE_MG_PER_H, soft_max=100.0, source=SOURCE)
    (w,) = check(section(soft_only), 150.0).warnings
    expected = fmt(NEW_RATE, 150.0, "mg/h", 100, 0, 0) | {"range": "0 mg/h or more (no upper hard limit)"}
    assert w.message == SOFT_ABOVE.format(**expected)
    assert "inf" not in w.message.replace("infusion", "")


# --- the new rate per kg: the message names the mg/h the nurse typed and the weight ----------------------
def test_a_rate_per_kg_beyond_its_hard_maximum_is_refused_naming_rate_and_weight() -> None:
    per_kg = Limit(quantity=Q.RATE_MG_PER_KG_PER_H, hard_min=0.1, hard_max=2.0, source=SOURCE)
    assert check(section(per_kg), 160.0, kg=80.0).warnings == ()  # exactly 2 mg/kg/h
    with pytest.raises(HardLimitError) as err:
        check(section(per_kg), 161.0, kg=80.0)
    what = "New rate 161 mg/h on a dosing weight of 80 kg:"
    assert err.value.message == HARD_ABOVE.format(**fmt(what, 161.0 / 80.0, "mg/kg/h", 2, 0.1, 2))
    assert err.value.field == "rate_mg_per_kg_per_h" and err.value.value == 161.0 / 80.0
    with pytest.raises(HardLimitError) as low:
        check(section(per_kg), 7.9, kg=80.0)
    assert low.value.message == HARD_BELOW.format(
        **fmt(what.replace("161", "7.9"), 7.9 / 80.0, "mg/kg/h", 0.1, 0.1, 2)
    )


# --- doses given so far and projected: maxima only, range from 0 -----------------------------------------
DOSE = Limit(quantity=Q.DOSE_MG, hard_min=30.0, soft_min=35.0, soft_max=50.0, hard_max=60.0, source=SOURCE)


def test_a_dose_below_a_dose_minimum_is_never_a_hazard() -> None:
    assert check(section(DOSE), 60.0, given_mg=1.0).warnings == ()


def test_a_given_dose_beyond_the_hard_maximum_is_refused_with_a_range_from_zero() -> None:
    assert check(section(DOSE), 60.0, given_mg=60.0).warnings[0].limit == 50.0  # at the bound: a warning
    with pytest.raises(HardLimitError) as err:
        check(section(DOSE), 60.0, given_mg=61.0)
    assert err.value.message == HARD_ABOVE.format(**fmt(GIVEN, 61.0, "mg", 60, 0, 60))
    assert "allowed range 0–60 mg. Refused." in err.value.message
    assert err.value.field == "dose_mg" and err.value.value == 61.0


def test_a_projected_dose_beyond_the_soft_maximum_warns_once_for_the_projection() -> None:
    # 20 mg given, then 60 mg/h for 35 min more: 55 mg projected (soft 50, hard 60)
    c = check(section(DOSE), 60.0, given_mg=20.0, remaining_min=35.0)
    assert c.projected_mg == pytest.approx(55.0)
    assert c.warnings == (
        LimitWarning(
            Q.DOSE_MG,
            "soft_max",
            50.0,
            c.projected_mg,
            SOFT_ABOVE.format(**fmt(PROJECTED, c.projected_mg, "mg", 50, 0, 60)),
        ),
    )
    assert c.warnings[0].message.startswith("Dose projected to the ordered end 55 mg is above the soft limit")


# --- the protocol's maximum rate ------------------------------------------------------------------------
def test_the_protocol_maximum_rate_is_inclusive_and_refuses_beyond_it() -> None:
    assert check(section(max_rate=120.0), 120.0).warnings == ()
    with pytest.raises(HardLimitError) as err:
        check(section(max_rate=120.0), 121.0)
    assert err.value.message == (
        "New rate 121 mg/h is above the hard limit of 120 mg/h (protocol maximum rate); "
        "allowed range 0–120 mg/h. Refused."
    )
    assert err.value.field == "rate_mg_per_h" and err.value.value == 121.0


# --- what is not a rate, weight or dose -----------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.0, -5.0, math.nan, math.inf])
def test_a_new_rate_that_is_not_above_zero_is_refused(rate: float) -> None:
    with pytest.raises(ValidationError) as err:
        check(section(RATE), rate)
    assert err.value.message == RATE_NOT_POSITIVE.format(value=rate)
    assert err.value.field == "rate_mg_per_h"
    assert err.value.value == rate or (math.isnan(rate) and math.isnan(err.value.value))


def test_the_rate_refusal_tells_the_nurse_to_pause_or_stop() -> None:
    with pytest.raises(ValidationError) as err:
        check(section(RATE), 0.0)
    assert err.value.message == (
        "A new rate must be above 0 mg/h; to stop the pump use pause or stop (got 0.0 mg/h)."
    )


@pytest.mark.parametrize("kg", [0.0, -70.0, math.inf])
def test_a_dosing_weight_that_is_not_above_zero_is_refused(kg: float) -> None:
    with pytest.raises(ValidationError) as err:
        check(section(RATE), 60.0, kg=kg)
    assert err.value.message == BAD_WEIGHT.format(value=kg)
    assert err.value.field == "weight" and err.value.value == kg


def test_a_small_dosing_weight_is_still_a_weight() -> None:
    c = check(section(), 1.0, kg=0.5)
    assert c.rate_mg_per_kg_per_h == 2.0


@pytest.mark.parametrize("value", [-1.0, math.inf, -math.inf])
def test_a_given_dose_that_is_not_a_finite_amount_is_refused(value: float) -> None:
    with pytest.raises(ValidationError) as err:
        check(section(RATE), 60.0, given_mg=value)
    assert err.value.message == BAD_AMOUNT.format(what=GIVEN, value=value, unit="mg")
    assert err.value.message.startswith("Dose given so far ")
    assert err.value.field == GIVEN and err.value.value == value


def test_a_remaining_time_that_is_negative_is_refused_in_minutes() -> None:
    with pytest.raises(ValidationError) as err:
        check(section(RATE), 60.0, remaining_min=-1.0)
    assert err.value.message == "Remaining infusion time -1.0 must be a finite number of at least 0 min."
    assert err.value.field == "Remaining infusion time" and err.value.value == -1.0


# --- the override reason --------------------------------------------------------------------------------
def test_an_override_reason_one_character_short_is_refused_naming_the_minimum() -> None:
    short = "x" * (MIN_TITRATION_OVERRIDE_CHARS - 1)
    with pytest.raises(ValidationError) as err:
        override_reason_check(short)
    assert err.value.message == TITRATION_OVERRIDE_TOO_SHORT.format(low=15, value=short)
    assert err.value.field == "override_reason" and err.value.value == short
    assert override_reason_check("  " + "x" * MIN_TITRATION_OVERRIDE_CHARS + "  ") == "x" * 15


def test_an_override_without_any_soft_breach_is_refused() -> None:
    c = check(section(RATE), 60.0)
    reason = "patient tolerating well, per Dr A"
    with pytest.raises(ValidationError) as err:
        titration_override(c, reason)
    assert err.value.message == TITRATION_NO_WARNINGS
    assert err.value.field == "override_reason" and err.value.value == reason
