"""When an event may be recorded: not in the future, at most the protocol's maximum late, with a reason beyond
a few minutes, never before the events it depends on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.event_times import (
    BACKDATE_REASON_REQUIRED,
    BACKDATE_TOO_FAR,
    BEFORE_DEPENDENCY,
    EVENT_IN_FUTURE,
    LIMITS_INVALID,
    BackdateLimits,
    event_time_check,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = BackdateLimits(max_backdate_min=60, reason_after_min=5)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_now_and_a_few_minutes_late_need_nothing():
    assert event_time_check(what="Start", at=None, now=NOW, limits=LIMITS) == NOW
    assert event_time_check(what="Start", at=ago(4), now=NOW, limits=LIMITS) == ago(4)


def test_in_the_future_is_refused():
    with pytest.raises(ValidationError) as exc:
        event_time_check(what="Stop", at=NOW + timedelta(minutes=5), now=NOW, limits=LIMITS)
    assert exc.value.message == EVENT_IN_FUTURE.format(what="Stop", value="2026-12-01T12:05+00:00")


def test_beyond_the_maximum_is_refused_even_with_a_reason():
    with pytest.raises(ValidationError) as exc:
        event_time_check(what="Start", at=ago(61), now=NOW, limits=LIMITS, reason="forgot to press start")
    assert exc.value.message == BACKDATE_TOO_FAR.format(
        what="Start", value="2026-12-01T10:59+00:00", minutes=61, high=60
    )


def test_beyond_the_reason_threshold_needs_a_reason():
    with pytest.raises(ValidationError) as exc:
        event_time_check(what="Stop", at=ago(6), now=NOW, limits=LIMITS, reason="  ")
    assert exc.value.message == BACKDATE_REASON_REQUIRED.format(
        what="Stop", value="2026-12-01T11:54+00:00", minutes=6, low=5
    )
    assert event_time_check(
        what="Stop", at=ago(6), now=NOW, limits=LIMITS, reason="was with the patient"
    ) == ago(6)


def test_never_before_an_event_it_depends_on():
    with pytest.raises(ValidationError) as exc:
        event_time_check(
            what="Start",
            at=ago(10),
            now=NOW,
            limits=LIMITS,
            reason="late entry",
            after=(("the order was signed", ago(20)), ("the checklist passed", ago(8))),
        )
    assert exc.value.message == BEFORE_DEPENDENCY.format(
        what="Start",
        value="2026-12-01T11:50+00:00",
        dependency="the checklist passed",
        previous="2026-12-01T11:52+00:00",
    )


@pytest.mark.parametrize(("high", "low"), [(-1, 0), (5, 10), (float("nan"), 1)])
def test_limits_must_make_sense(high, low):
    with pytest.raises(ValidationError) as exc:
        BackdateLimits(high, low)
    assert exc.value.message == LIMITS_INVALID


@given(st.floats(-30, 300), st.floats(0, 240), st.floats(0, 240), st.booleans())
def test_an_accepted_time_is_always_within_the_bounds(late, high, low, with_reason):
    low = min(low, high)
    limits = BackdateLimits(high, low)
    try:
        when = event_time_check(
            what="Event", at=ago(late), now=NOW, limits=limits, reason="late entry" if with_reason else ""
        )
    except ValidationError:
        return
    minutes = (NOW - when).total_seconds() / 60
    assert minutes <= high + 1e-9 and when <= NOW + timedelta(minutes=1)
    assert with_reason or minutes <= low + 1e-9
