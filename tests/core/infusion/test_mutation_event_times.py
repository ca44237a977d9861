"""Backdating behaviours that mutation testing showed were unpinned in the pure core: the bounds are inclusive
to the second (exactly at the future skew, the maximum late, the reason threshold and a dependency is
accepted; one second beyond is not), no reason is assumed when none is given, and every refusal names the
form field ("at" or "backdate_reason") and the value the nurse entered."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.event_times import (
    BACKDATE_REASON_REQUIRED,
    BACKDATE_TOO_FAR,
    BEFORE_DEPENDENCY,
    EVENT_IN_FUTURE,
    FUTURE_SKEW,
    LIMITS_INVALID,
    NAIVE_EVENT_TIME,
    BackdateLimits,
    event_time_check,
    needs_reason,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = BackdateLimits(max_backdate_min=60, reason_after_min=5)
SECOND = timedelta(seconds=1)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_a_time_without_a_time_zone_is_refused_naming_the_event() -> None:
    naive = datetime(2026, 12, 1, 11, 58)
    with pytest.raises(ValidationError) as err:
        event_time_check(what="Pump start", at=naive, now=NOW, limits=LIMITS)
    assert err.value.message == NAIVE_EVENT_TIME.format(what="Pump start")
    assert err.value.message == "Pump start needs a time with a time zone."
    assert err.value.field == "at" and err.value.value == naive


def test_a_time_exactly_at_the_clock_skew_is_accepted_and_one_second_beyond_is_in_the_future() -> None:
    edge = NOW + FUTURE_SKEW
    assert event_time_check(what="Pump start", at=edge, now=NOW, limits=LIMITS) == edge
    beyond = edge + SECOND
    with pytest.raises(ValidationError) as err:
        event_time_check(what="Pump start", at=beyond, now=NOW, limits=LIMITS)
    assert err.value.message == EVENT_IN_FUTURE.format(what="Pump start", value="2026-12-01T12:01+00:00")
    assert err.value.field == "at" and err.value.value == beyond


def test_a_time_exactly_at_the_maximum_late_is_accepted_and_one_second_more_is_refused() -> None:
    assert event_time_check(what="Stop", at=ago(60), now=NOW, limits=LIMITS, reason="charting") == ago(60)
    late = ago(60) - SECOND
    with pytest.raises(ValidationError) as err:
        event_time_check(what="Stop", at=late, now=NOW, limits=LIMITS, reason="charting")
    assert err.value.message == BACKDATE_TOO_FAR.format(
        what="Stop", value="2026-12-01T10:59+00:00", minutes=60 + 1 / 60, high=60
    )
    assert "is 60 min ago; a time can be entered at most 60 min late." in err.value.message
    assert err.value.field == "at" and err.value.value == late


def test_exactly_at_the_reason_threshold_needs_no_reason_and_one_second_more_does() -> None:
    assert event_time_check(what="Reading", at=ago(5), now=NOW, limits=LIMITS) == ago(5)
    assert not needs_reason(ago(5), NOW, LIMITS)
    late = ago(5) - SECOND
    assert needs_reason(late, NOW, LIMITS)
    with pytest.raises(ValidationError) as err:
        event_time_check(what="Reading", at=late, now=NOW, limits=LIMITS)  # no reason given: none assumed
    assert err.value.message == BACKDATE_REASON_REQUIRED.format(
        what="Reading", value="2026-12-01T11:54+00:00", minutes=5 + 1 / 60, low=5
    )
    assert err.value.field == "backdate_reason" and err.value.value == ""
    with pytest.raises(ValidationError) as blank:
        event_time_check(what="Reading", at=late, now=NOW, limits=LIMITS, reason="   ")
    assert blank.value.value == "   "
    assert (
        event_time_check(what="Reading", at=late, now=NOW, limits=LIMITS, reason="was with patient") == late
    )


@pytest.mark.parametrize(
    ("minutes", "needed"), [(0, False), (4.9, False), (5, False), (5.01, True), (30, True), (-0.5, False)]
)
def test_needs_reason_compares_the_minutes_late_with_the_threshold(minutes: float, needed: bool) -> None:
    assert needs_reason(ago(minutes), NOW, LIMITS) is needed


def test_an_event_at_the_same_time_as_its_dependency_is_accepted_one_second_before_is_refused() -> None:
    signed = ago(3)
    assert event_time_check(what="Start", at=signed, now=NOW, limits=LIMITS, after=(("the order", signed),))
    early = signed - SECOND
    with pytest.raises(ValidationError) as err:
        event_time_check(
            what="Start",
            at=early,
            now=NOW,
            limits=LIMITS,
            after=(("the checklist", None), ("the order", signed)),
        )
    assert err.value.message == BEFORE_DEPENDENCY.format(
        what="Start",
        value="2026-12-01T11:56+00:00",
        dependency="the order",
        previous="2026-12-01T11:57+00:00",
    )
    assert err.value.field == "at" and err.value.value == early


@pytest.mark.parametrize(
    ("high", "low"),
    [(-1.0, 0.0), (60.0, -1.0), (math.inf, 5.0), (math.nan, 5.0), (60.0, math.nan), (5.0, 6.0)],
)
def test_backdating_limits_that_are_not_numbers_of_at_least_zero_are_refused(high: float, low: float) -> None:
    with pytest.raises(ValidationError) as err:
        BackdateLimits(max_backdate_min=high, reason_after_min=low)
    assert err.value.message == LIMITS_INVALID
    assert err.value.field == "backdating"
    assert err.value.value is not None and len(err.value.value) == 2
    assert err.value.value[0] == high or math.isnan(high)
    assert err.value.value[1] == low or math.isnan(low)


def test_zero_backdating_limits_are_valid() -> None:
    assert event_time_check(what="Now", at=None, now=NOW, limits=BackdateLimits(0, 0)) == NOW
