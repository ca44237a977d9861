"""Vital-sign behaviours that mutation testing showed were unpinned: refusals name the vital (field) and
the value; baseline limits and sedation levels at their exact edges; when the next reading is due."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.vitals import (
    BASELINE_ABOVE,
    BASELINE_BELOW,
    DIASTOLIC_ABOVE_SYSTOLIC,
    NOT_A_NUMBER,
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
from ketaclinic.protocols.files import shipped_protocols

M = shipped_protocols()[
    "depression-standard"
].monitoring  # baseline: SBP ≤ 160, DBP ≤ 100, HR ≤ 110, SpO2 ≥ 94
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NORMAL: dict[str, Any] = {
    "systolic_mmhg": 120,
    "diastolic_mmhg": 80,
    "heart_rate_bpm": 70,
    "spo2_percent": 98,
}


def refusal(reading: VitalReading) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        reading_check(reading, M)
    return err.value


def test_an_empty_reading_is_refused():
    err = refusal(VitalReading())
    assert (err.field, err.value, err.message) == ("reading", None, READING_EMPTY)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_value_that_is_not_a_number_is_refused_naming_the_vital(value):
    err = refusal(VitalReading(heart_rate_bpm=value))
    assert err.field == "heart_rate_bpm" and err.message == NOT_A_NUMBER.format(
        label="Heart rate", value=value
    )
    assert err.value == value or value != value


def test_an_implausible_value_is_refused_naming_vital_value_and_range():
    err = refusal(VitalReading(spo2_percent=101))
    assert (err.field, err.value) == ("spo2_percent", 101)
    assert "SpO2" in err.message and "101" in err.message and "0–100" in err.message
    assert reading_check(VitalReading(spo2_percent=100), M).spo2_percent == 100


def test_diastolic_at_or_above_systolic_is_refused_naming_both():
    err = refusal(VitalReading(systolic_mmhg=90, diastolic_mmhg=90))
    assert (err.field, err.value, err.message) == (
        "diastolic_mmhg",
        90,
        DIASTOLIC_ABOVE_SYSTOLIC.format(dia=90, sys=90),
    )
    assert reading_check(VitalReading(systolic_mmhg=90, diastolic_mmhg=89), M).diastolic_mmhg == 89


@pytest.mark.parametrize(
    ("given", "level"),
    [
        ("none", Sedation.NONE),
        (" Mild ", Sedation.MILD),
        (0, Sedation.NONE),
        (3, Sedation.SEVERE),
        ("moderate", Sedation.MODERATE),
    ],
)
def test_sedation_levels_by_word_or_number(given, level):
    assert Sedation.parse(given) is level


@pytest.mark.parametrize("given", [4, -1, "sleepy", True])
def test_an_unknown_sedation_level_is_refused_naming_the_choices(given):
    with pytest.raises(ValidationError) as err:
        Sedation.parse(given)
    assert (err.value.field, err.value.value) == ("sedation", given)
    assert err.value.message == SEDATION_UNKNOWN.format(value=given)


def test_baseline_limits_are_inclusive_and_each_problem_is_named():
    at_limits = VitalReading(systolic_mmhg=160, diastolic_mmhg=100, heart_rate_bpm=110, spo2_percent=94)
    assert baseline_problems(at_limits, M) == ()
    beyond = VitalReading(systolic_mmhg=161, diastolic_mmhg=80, heart_rate_bpm=70, spo2_percent=93)
    assert baseline_problems(beyond, M) == (
        BASELINE_ABOVE.format(label="Systolic blood pressure", value=161, unit="mmHg", limit=160),
        BASELINE_BELOW.format(label="SpO2", value=93, unit="%", limit=94),
    )
    assert baseline_problems(beyond, M)[1] == "baseline SpO2 93 % is below the starting limit 94 %"
    partial = VitalReading(systolic_mmhg=120, diastolic_mmhg=80)
    assert baseline_problems(partial, M) == ("baseline Heart rate not recorded", "baseline SpO2 not recorded")


def test_alerts_name_the_vital_and_the_limit_crossed():
    (low,) = alerts_for(VitalReading(**{**NORMAL, "spo2_percent": 91}), M)
    assert (low.rule, low.vital.value, low.value, low.limit) == ("spo2_low", "spo2_percent", 91, 92)
    assert low.message.startswith("SpO2 91 % is below 92 %")
    (high,) = alerts_for(VitalReading(**{**NORMAL, "heart_rate_bpm": 131}), M)
    assert (high.rule, high.vital.value, high.limit) == ("heart_rate_high", "heart_rate_bpm", 130)
    assert high.message.startswith("Heart rate 131 /min is above 130 /min")
    assert alerts_for(VitalReading(**{**NORMAL, "heart_rate_bpm": 130, "spo2_percent": 92}), M) == ()


def test_the_next_reading_is_due_an_interval_after_the_last_and_overdue_after_the_grace():
    due = vitals_due(
        since=T0, last_reading_at=None, now=T0 + timedelta(minutes=20), interval_min=15, grace_min=5
    )
    assert (due.due_at, due.overdue, due.overdue_by_min) == (T0 + timedelta(minutes=15), False, 5.0)
    late = vitals_due(
        since=T0, last_reading_at=None, now=T0 + timedelta(minutes=21), interval_min=15, grace_min=5
    )
    assert (late.overdue, late.overdue_by_min) == (True, 6.0)
    early = vitals_due(
        since=T0, last_reading_at=None, now=T0 + timedelta(minutes=5), interval_min=15, grace_min=5
    )
    assert (early.overdue, early.overdue_by_min) == (False, 0.0)
    after_reading = vitals_due(
        since=T0,
        last_reading_at=T0 + timedelta(minutes=10),
        now=T0 + timedelta(minutes=20),
        interval_min=15,
        grace_min=5,
    )
    assert after_reading.due_at == T0 + timedelta(minutes=25)
    at_since = vitals_due(since=T0, last_reading_at=T0, now=T0, interval_min=15, grace_min=5)
    old_reading = vitals_due(
        since=T0, last_reading_at=T0 - timedelta(minutes=30), now=T0, interval_min=15, grace_min=5
    )
    assert at_since.due_at == old_reading.due_at == T0 + timedelta(minutes=15)


def test_a_fraction_is_refused_naming_the_vital_its_unit_and_the_value():
    err = refusal(VitalReading(heart_rate_bpm=91.5))
    assert (err.field, err.value) == ("heart_rate_bpm", 91.5)
    assert err.message == (
        "Heart rate 91.5 /min must be a whole number (the monitor shows whole numbers); check the reading."
    )


def test_the_pump_restart_refusal_counts_and_lists_every_open_alert():
    problem = open_alerts_problem(
        "resume", ("SpO2 88 % is below 92 %", "Heart rate 131 /min is above 130 /min")
    )
    assert problem == (
        "The infusion cannot resume while 2 alert(s) are not acknowledged: "
        "SpO2 88 % is below 92 %; Heart rate 131 /min is above 130 /min."
    )
