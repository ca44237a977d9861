"""The late-cancellation fee at its boundary: exactly N hours before is not late, a minute less is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.billing.fees import CancelledBy, LateCancelPolicy, late_cancel_fee
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError

START = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)
FEE = Money.from_cents(7500, "USD")
POLICY = LateCancelPolicy(hours=24, fee=FEE)


def fee(before: timedelta, policy: LateCancelPolicy | None = POLICY, by: CancelledBy = CancelledBy.PATIENT):
    return late_cancel_fee(policy, start=START, cancelled_at=START - before, by=by)


def test_exactly_the_policy_hours_before_is_not_late() -> None:
    assert fee(timedelta(hours=24)) is None
    assert fee(timedelta(hours=48)) is None


def test_one_minute_less_is_late_and_owes_the_fee() -> None:
    assert fee(timedelta(hours=23, minutes=59)) == FEE
    assert fee(timedelta(0)) == FEE
    assert fee(-timedelta(hours=1)) == FEE  # cancelled after the start (a no-show marked as cancelled)


def test_no_policy_or_a_zero_fee_or_zero_hours_charges_nothing() -> None:
    assert fee(timedelta(hours=1), policy=None) is None
    assert fee(timedelta(hours=1), policy=LateCancelPolicy(24, Money.from_cents(0, "USD"))) is None
    assert fee(timedelta(hours=1), policy=LateCancelPolicy(0, FEE)) is None


def test_the_clinic_cancelling_is_never_charged() -> None:
    assert fee(timedelta(minutes=5), by=CancelledBy.CLINIC) is None


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValidationError):
        late_cancel_fee(POLICY, start=START.replace(tzinfo=None), cancelled_at=START, by=CancelledBy.PATIENT)


@given(st.integers(min_value=1, max_value=168), st.integers(min_value=-10_000, max_value=20_000))
def test_late_exactly_when_less_than_the_hours_before(hours: int, minutes_before: int) -> None:
    policy = LateCancelPolicy(hours, FEE)
    charged = fee(timedelta(minutes=minutes_before), policy=policy)
    assert (charged is not None) == (minutes_before < hours * 60)
