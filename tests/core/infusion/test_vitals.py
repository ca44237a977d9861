"""Vital signs: plausibility refusals naming the range, hold-threshold alerts, baseline limits, overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.vitals import (
    BASELINE_MISSING,
    DIASTOLIC_ABOVE_SYSTOLIC,
    IMPLAUSIBLE,
    READING_EMPTY,
    SEDATION_UNKNOWN,
    Sedation,
    VitalReading,
    alerts_for,
    baseline_problems,
    reading_check,
    vitals_due,
)
from ketaclinic.core.protocols.monitoring import SuggestedAction
from ketaclinic.protocols.files import shipped_protocols

M = shipped_protocols()["depression-standard"].monitoring
NORMAL = VitalReading(124, 78, 72, 98, 14, Sedation.NONE)
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_normal_reading_passes_without_alerts() -> None:
    assert reading_check(NORMAL, M) is NORMAL
    assert alerts_for(NORMAL, M) == ()
    assert baseline_problems(NORMAL, M) == ()


@pytest.mark.parametrize(("field", "value", "label", "low", "high", "unit"), [
    ("systolic_mmhg", 310, "Systolic blood pressure", 50, 300, "mmHg"),
    ("systolic_mmhg", 49, "Systolic blood pressure", 50, 300, "mmHg"),
    ("diastolic_mmhg", 19, "Diastolic blood pressure", 20, 200, "mmHg"),
    ("heart_rate_bpm", 251, "Heart rate", 20, 250, "/min"),
    ("spo2_percent", 101, "SpO2", 50, 100, "%"),
    ("spo2_percent", 49, "SpO2", 50, 100, "%"),
    ("respiratory_rate_per_min", 3, "Respiratory rate", 4, 60, "/min"),
    ("respiratory_rate_per_min", 61, "Respiratory rate", 4, 60, "/min"),
])
def test_impossible_readings_are_refused_with_the_range_named(field, value, label, low, high, unit) -> None:  # type: ignore[no-untyped-def]
    reading = VitalReading(**{field: value})
    with pytest.raises(ValidationError) as exc:
        reading_check(reading, M)
    assert exc.value.message == IMPLAUSIBLE.format(label=label, value=value, unit=unit, low=low, high=high)
    assert f"{low}–{high}" in exc.value.message
    assert exc.value.field == field


def test_range_ends_are_plausible() -> None:
    reading_check(VitalReading(300, 200 - 1, 250, 100, 60), M)
    reading_check(VitalReading(51, 20, 20, 50, 4), M)


def test_diastolic_not_below_systolic_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        reading_check(VitalReading(100, 100), M)
    assert exc.value.message == DIASTOLIC_ABOVE_SYSTOLIC.format(dia=100, sys=100)


def test_an_empty_reading_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        reading_check(VitalReading(), M)
    assert exc.value.message == READING_EMPTY


def test_nan_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be a number"):
        reading_check(VitalReading(heart_rate_bpm=float("nan")), M)


@pytest.mark.parametrize(("reading", "rules"), [
    (VitalReading(181, 80), {"systolic_high"}),
    (VitalReading(180, 110), set()),  # at the threshold is not above it
    (VitalReading(190, 115), {"systolic_high", "diastolic_high"}),
    (VitalReading(heart_rate_bpm=131), {"heart_rate_high"}),
    (VitalReading(spo2_percent=91), {"spo2_low"}),
    (VitalReading(spo2_percent=92), set()),
    (VitalReading(respiratory_rate_per_min=7), {"respiratory_rate_low"}),
    (VitalReading(sedation=Sedation.SEVERE), {"sedation_severe"}),
    (VitalReading(sedation=Sedation.MODERATE), set()),
])
def test_hold_thresholds(reading: VitalReading, rules: set[str]) -> None:
    assert {a.rule for a in alerts_for(reading, M)} == rules


def test_an_alert_suggests_the_protocols_action_and_says_it() -> None:
    (alert,) = alerts_for(VitalReading(heart_rate_bpm=140), M)
    assert alert.action is SuggestedAction.REDUCE_RATE
    assert alert.value == 140 and alert.limit == 130
    assert alert.message.startswith("Heart rate 140 /min is above 130 /min: Reduce the rate")


def test_baseline_limits() -> None:
    assert baseline_problems(None, M) == (BASELINE_MISSING,)
    problems = baseline_problems(VitalReading(165, 85, 72, 97), M)
    assert problems == ("baseline Systolic blood pressure 165 mmHg is above the starting limit 160 mmHg",)
    assert "baseline SpO2 not recorded" in baseline_problems(VitalReading(120, 80, 70), M)


@pytest.mark.parametrize(("value", "level"), [("none", Sedation.NONE), ("Mild", Sedation.MILD), (2, Sedation.MODERATE),
                                              (" severe ", Sedation.SEVERE)])
def test_sedation_parse(value, level) -> None:  # type: ignore[no-untyped-def]
    assert Sedation.parse(value) is level


@pytest.mark.parametrize("value", ["asleep", 4, True, ""])
def test_sedation_unknown(value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        Sedation.parse(value)
    assert exc.value.message == SEDATION_UNKNOWN.format(value=value)


def test_due_after_the_interval_overdue_after_the_grace() -> None:
    due = vitals_due(since=T0, last_reading_at=None, now=T0 + timedelta(minutes=12), interval_min=10, grace_min=3)
    assert due.due_at == T0 + timedelta(minutes=10) and not due.overdue and due.overdue_by_min == pytest.approx(2)
    late = vitals_due(since=T0, last_reading_at=None, now=T0 + timedelta(minutes=13, seconds=1), interval_min=10, grace_min=3)
    assert late.overdue


def test_a_reading_resets_the_clock_but_one_before_the_start_does_not() -> None:
    after = vitals_due(since=T0, last_reading_at=T0 + timedelta(minutes=8), now=T0 + timedelta(minutes=14),
                       interval_min=10, grace_min=3)
    assert after.due_at == T0 + timedelta(minutes=18) and not after.overdue
    before = vitals_due(since=T0, last_reading_at=T0 - timedelta(minutes=5), now=T0 + timedelta(minutes=14),
                        interval_min=10, grace_min=3)
    assert before.overdue


@given(st.floats(0, 600), st.floats(1, 60), st.floats(0, 30))
def test_overdue_exactly_when_past_due_plus_grace(minutes, interval, grace) -> None:  # type: ignore[no-untyped-def]
    due = vitals_due(since=T0, last_reading_at=None, now=T0 + timedelta(minutes=minutes), interval_min=interval,
                     grace_min=grace)
    late = minutes - interval
    assert due.overdue_by_min >= 0
    if abs(late - grace) > 1e-6:
        assert due.overdue == (late > grace)
