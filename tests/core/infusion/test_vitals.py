"""Vital signs: plausibility refusals naming the range, hold-threshold alerts, baseline limits, overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.vitals import (
    BASELINE_MISSING,
    CRITICAL_PREFIX,
    DIASTOLIC_ABOVE_SYSTOLIC,
    IMPLAUSIBLE,
    READING_EMPTY,
    SEDATION_UNKNOWN,
    Sedation,
    VitalReading,
    alerts_for,
    baseline_problems,
    open_alerts_problem,
    reading_check,
    vitals_due,
)
from ketaclinic.core.protocols.monitoring import (
    LOW_SIDE_REQUIRED,
    AlertLevel,
    MonitoringSection,
    SuggestedAction,
)
from ketaclinic.protocols.files import shipped_protocols

M = shipped_protocols()["depression-standard"].monitoring
NORMAL = VitalReading(124, 78, 72, 98, 14, Sedation.NONE)
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_a_normal_reading_passes_without_alerts() -> None:
    assert reading_check(NORMAL, M) is NORMAL
    assert alerts_for(NORMAL, M) == ()
    assert baseline_problems(NORMAL, M) == ()


@pytest.mark.parametrize(
    ("field", "value", "label", "low", "high", "unit"),
    [
        ("systolic_mmhg", 351, "Systolic blood pressure", 0, 350, "mmHg"),
        ("systolic_mmhg", -1, "Systolic blood pressure", 0, 350, "mmHg"),
        ("diastolic_mmhg", 251, "Diastolic blood pressure", 0, 250, "mmHg"),
        ("heart_rate_bpm", 351, "Heart rate", 0, 350, "/min"),
        ("heart_rate_bpm", -5, "Heart rate", 0, 350, "/min"),
        ("spo2_percent", 101, "SpO2", 0, 100, "%"),
        ("spo2_percent", -1, "SpO2", 0, 100, "%"),
        ("respiratory_rate_per_min", -1, "Respiratory rate", 0, 100, "/min"),
        ("respiratory_rate_per_min", 101, "Respiratory rate", 0, 100, "/min"),
    ],
)
def test_impossible_readings_are_refused_with_the_range_named(field, value, label, low, high, unit) -> None:
    reading = VitalReading(**{field: value})
    with pytest.raises(ValidationError) as exc:
        reading_check(reading, M)
    assert exc.value.message == IMPLAUSIBLE.format(label=label, value=value, unit=unit, low=low, high=high)
    assert f"{low}–{high}" in exc.value.message
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("spo2_percent", 48, "spo2_critical"),
        ("spo2_percent", 40, "spo2_critical"),
        ("respiratory_rate_per_min", 0, "respiratory_rate_critical"),
        ("respiratory_rate_per_min", 3, "respiratory_rate_critical"),
        ("heart_rate_bpm", 18, "heart_rate_critical_low"),
        ("heart_rate_bpm", 25, "heart_rate_critical_low"),
        ("systolic_mmhg", 45, "systolic_critical_low"),
        ("systolic_mmhg", 60, "systolic_critical_low"),
        ("systolic_mmhg", 230, "systolic_critical_high"),
        ("heart_rate_bpm", 180, "heart_rate_critical_high"),
    ],
)
def test_the_worst_real_readings_are_accepted_and_raise_the_critical_alert(field, value, rule) -> None:
    """SpO2 48, RR 0-3, systolic 45 and HR 18 were once refused as typos, so they raised no alert at all."""
    reading = VitalReading(**{field: value})
    assert reading_check(reading, M) is reading
    alerts = alerts_for(reading, M)
    assert alerts[0].rule == rule and alerts[0].level is AlertLevel.CRITICAL
    assert alerts[0].action is SuggestedAction.STOP
    assert alerts[0].message.startswith(CRITICAL_PREFIX)
    assert (
        len([a for a in alerts if a.vital.value == field]) == 1
    )  # the loudest alert only, not also the hold one


@pytest.mark.parametrize(
    ("reading", "rule"),
    [
        (VitalReading(heart_rate_bpm=48), "heart_rate_low"),
        (VitalReading(systolic_mmhg=85, diastolic_mmhg=50), "systolic_low"),
        (VitalReading(respiratory_rate_per_min=7), "respiratory_rate_low"),
        (VitalReading(spo2_percent=90), "spo2_low"),
    ],
)
def test_low_side_hold_thresholds_bradycardia_hypotension_bradypnoea_desaturation(reading, rule) -> None:
    (alert,) = alerts_for(reading, M)
    assert alert.rule == rule and alert.level is AlertLevel.HOLD


@pytest.mark.parametrize(
    ("field", "value"), [("heart_rate_bpm", 91.6), ("spo2_percent", 97.5), ("systolic_mmhg", 120.2)]
)
def test_a_fraction_is_refused_naming_the_field_never_truncated(field, value) -> None:
    with pytest.raises(ValidationError) as exc:
        reading_check(VitalReading(**{field: value}), M)
    assert (
        exc.value.field == field and f"{value:g}" in exc.value.message and "whole number" in exc.value.message
    )


def test_every_shipped_protocol_watches_the_low_side_and_accepts_the_real_extremes() -> None:
    for doc in shipped_protocols().values():
        assert doc.monitoring is not None
        for vital in LOW_SIDE_REQUIRED:
            assert {
                t.level for t in doc.monitoring.thresholds if t.vital is vital and t.below is not None
            } == {AlertLevel.HOLD, AlertLevel.CRITICAL}, (doc.id, vital)
        reading_check(VitalReading(60, 30, 25, 40, 0), doc.monitoring)


def test_a_protocol_without_low_side_thresholds_or_refusing_real_extremes_does_not_load() -> None:
    data = M.model_dump(mode="json")
    no_low = {
        **data,
        "thresholds": [
            t for t in data["thresholds"] if t["vital"] != "heart_rate_bpm" or t.get("below") is None
        ],
    }
    with pytest.raises(PydanticValidationError, match="low-side threshold on heart_rate_bpm"):
        MonitoringSection.model_validate(no_low)
    narrow = {
        **data,
        "plausible": [p if p["vital"] != "spo2_percent" else {**p, "low": 50} for p in data["plausible"]],
    }
    with pytest.raises(PydanticValidationError, match="would refuse 40"):
        MonitoringSection.model_validate(narrow)


def test_the_pump_does_not_restart_while_an_alert_is_open() -> None:
    assert open_alerts_problem("resume", ()) is None
    problem = open_alerts_problem("resume", ("SpO2 88 % is below 92 %",))
    assert problem is not None and "cannot resume" in problem and "SpO2 88" in problem


@given(st.integers(0, 350), st.integers(0, 100), st.integers(0, 350), st.integers(0, 100))
def test_any_possible_reading_is_saved_and_alarms_when_beyond_a_critical_limit(sys_, spo2, hr, rr) -> None:
    reading = VitalReading(
        systolic_mmhg=sys_, spo2_percent=spo2, heart_rate_bpm=hr, respiratory_rate_per_min=rr
    )
    reading_check(reading, M)
    critical = {a.rule for a in alerts_for(reading, M) if a.level is AlertLevel.CRITICAL}
    assert ("spo2_critical" in critical) == (spo2 < 85)
    assert ("respiratory_rate_critical" in critical) == (rr < 6)
    assert ("heart_rate_critical_low" in critical) == (hr < 40)
    assert ("systolic_critical_low" in critical) == (sys_ < 80)


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


@pytest.mark.parametrize(
    ("reading", "rules"),
    [
        (VitalReading(181, 80), {"systolic_high"}),
        (VitalReading(180, 110), set()),  # at the threshold is not above it
        (VitalReading(190, 115), {"systolic_high", "diastolic_high"}),
        (VitalReading(heart_rate_bpm=131), {"heart_rate_high"}),
        (VitalReading(spo2_percent=91), {"spo2_low"}),
        (VitalReading(spo2_percent=92), set()),
        (VitalReading(respiratory_rate_per_min=7), {"respiratory_rate_low"}),
        (VitalReading(sedation=Sedation.SEVERE), {"sedation_severe"}),
        (VitalReading(sedation=Sedation.MODERATE), set()),
    ],
)
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


@pytest.mark.parametrize(
    ("value", "level"),
    [("none", Sedation.NONE), ("Mild", Sedation.MILD), (2, Sedation.MODERATE), (" severe ", Sedation.SEVERE)],
)
def test_sedation_parse(value, level) -> None:
    assert Sedation.parse(value) is level


@pytest.mark.parametrize("value", ["asleep", 4, True, ""])
def test_sedation_unknown(value) -> None:
    with pytest.raises(ValidationError) as exc:
        Sedation.parse(value)
    assert exc.value.message == SEDATION_UNKNOWN.format(value=value)


def test_due_after_the_interval_overdue_after_the_grace() -> None:
    due = vitals_due(
        since=T0, last_reading_at=None, now=T0 + timedelta(minutes=12), interval_min=10, grace_min=3
    )
    assert (
        due.due_at == T0 + timedelta(minutes=10)
        and not due.overdue
        and due.overdue_by_min == pytest.approx(2)
    )
    late = vitals_due(
        since=T0,
        last_reading_at=None,
        now=T0 + timedelta(minutes=13, seconds=1),
        interval_min=10,
        grace_min=3,
    )
    assert late.overdue


def test_a_reading_resets_the_clock_but_one_before_the_start_does_not() -> None:
    after = vitals_due(
        since=T0,
        last_reading_at=T0 + timedelta(minutes=8),
        now=T0 + timedelta(minutes=14),
        interval_min=10,
        grace_min=3,
    )
    assert after.due_at == T0 + timedelta(minutes=18) and not after.overdue
    before = vitals_due(
        since=T0,
        last_reading_at=T0 - timedelta(minutes=5),
        now=T0 + timedelta(minutes=14),
        interval_min=10,
        grace_min=3,
    )
    assert before.overdue


@given(st.floats(0, 600), st.floats(1, 60), st.floats(0, 30))
def test_overdue_exactly_when_past_due_plus_grace(minutes, interval, grace) -> None:
    due = vitals_due(
        since=T0,
        last_reading_at=None,
        now=T0 + timedelta(minutes=minutes),
        interval_min=interval,
        grace_min=grace,
    )
    late = minutes - interval
    assert due.overdue_by_min >= 0
    if abs(late - grace) > 1e-6:
        assert due.overdue == (late > grace)
