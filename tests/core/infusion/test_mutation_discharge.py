"""Discharge behaviours that mutation testing showed were unpinned: a refused PADSS score names the item and
the value; the 20 % deviation and the observation minimum are inclusive edges; the observation reason's
minutes; readings described as a nurse would read them; which readings are recovery evidence and which void
a fit assessment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.discharge import (
    OBSERVATION_SHORT,
    RECOVERY_BREACH,
    RECOVERY_NONE,
    RECOVERY_OLD,
    SCORE_RANGE,
    VITALS_FAR,
    VOIDED,
    TimedReading,
    assessment_voided,
    describe,
    threshold_problems,
)
from ketaclinic.core.infusion.vitals import VitalReading
from tests.core.infusion.test_discharge import BASE, FULL, GOOD, STOP, D, M, assess, at, evidence

SPO2_LOW = "SpO2 91 % is below 92 %: " + next(t.advice for t in M.thresholds if t.code == "spo2_low")


@pytest.mark.parametrize("item", ["nausea_vomiting", "activity_mental_status", "intake_output"])
@pytest.mark.parametrize("value", [3, None])
def test_a_refused_padss_score_names_the_item_in_words_and_the_value(item, value):
    with pytest.raises(ValidationError) as err:
        assess(scores={**GOOD, item: value})
    assert (err.value.field, err.value.value) == (item, value)
    assert err.value.message == SCORE_RANGE.format(item=item.replace("_", " "), value=value)
    assert err.value.message.startswith(f"PADSS {item.replace('_', ' ')} score ")


def test_vitals_exactly_20_percent_from_baseline_are_fit_and_the_deviation_is_reported():
    edge = assess(latest=VitalReading(144, 80, 70))  # systolic 20 % above 120
    assert edge.fit and edge.reasons == () and edge.deviation_percent == pytest.approx(20.0)
    near = assess(latest=VitalReading(126, 82, 74))
    assert near.deviation_percent == pytest.approx(100 * 4 / 70)  # heart rate moved most
    assert threshold_problems(FULL, M, D, VitalReading(120, 80, 60)) == ()  # heart rate exactly 20 % up


def test_a_reading_beyond_20_percent_from_baseline_is_a_threshold_problem():
    assert threshold_problems(VitalReading(145, 80, 70, 98, 14), M, D, BASE) == (
        VITALS_FAR.format(percent=100 * 25 / 120, limit=20),
    )


def test_the_observation_minimum_is_met_exactly_at_30_minutes():
    assert assess(minutes_since_infusion_end=30).fit
    short = assess(minutes_since_infusion_end=29.5)
    assert short.reasons == (OBSERVATION_SHORT.format(elapsed=29.5, minimum=30),)


@pytest.mark.parametrize(("elapsed", "said"), [(None, "0"), (0, "0"), (0.4, "0"), (-2, "0"), (12, "12")])
def test_the_observation_reason_says_how_long_the_patient_was_observed(elapsed, said):
    (reason,) = assess(minutes_since_infusion_end=elapsed).reasons
    assert reason == f"observation {said} min is shorter than the protocol's 30 min"


@pytest.mark.parametrize(
    ("reading", "words"),
    [
        (VitalReading(124, 80, 72, 98, 14), "BP 124/80 mmHg, HR 72/min, SpO2 98%, RR 14/min"),
        (VitalReading(systolic_mmhg=124), "BP 124/? mmHg"),
        (VitalReading(diastolic_mmhg=80), "BP ?/80 mmHg"),
        (VitalReading(spo2_percent=91, respiratory_rate_per_min=7), "SpO2 91%, RR 7/min"),
        (VitalReading(heart_rate_bpm=135), "HR 135/min"),
        (VitalReading(), "with no values"),
    ],
)
def test_a_reading_is_described_as_a_nurse_reads_it(reading, words):
    assert describe(reading) == words


def test_a_set_taken_at_the_very_moment_of_the_stop_is_not_recovery_evidence():
    assert evidence([at(0)], now_min=10).problems == (RECOVERY_NONE,)


def test_an_older_set_does_not_hide_a_breach_in_the_latest_set():
    low = VitalReading(124, 80, 72, 91, 14)
    e = evidence([at(20), at(30, low)], now_min=35)
    assert e.latest == low
    assert e.problems == (
        RECOVERY_BREACH.format(
            reading="BP 124/80 mmHg, HR 72/min, SpO2 91%, RR 14/min", age=5, problem=SPO2_LOW
        ),
    )
    assert evidence([at(20, low), at(30)], now_min=35).problems == ()  # a later normal set supersedes it


def test_the_age_of_recovery_readings_is_said_in_minutes():
    low = VitalReading(124, 80, 72, 91, 14)
    (breach,) = evidence([at(40, low)], now_min=40).problems
    assert "taken 0 min ago" in breach
    old = evidence([at(0.5)], now_min=60.5).problems
    assert old == (RECOVERY_OLD.format(reading=describe(FULL), age=60, limit=15),)
    assert "taken 60 min ago" in old[0]


def voided(assessed_min: float, later: list[TimedReading], baseline: VitalReading | None = BASE):
    return assessment_voided(
        STOP + timedelta(minutes=assessed_min), later, section=D, monitoring=M, baseline=baseline
    )


def test_a_later_reading_voids_the_assessment_naming_the_reading_and_the_problem():
    low = VitalReading(124, 80, 72, 91, 14)
    assert voided(31, [at(35, low)]) == (
        VOIDED.format(reading="BP 124/80 mmHg, HR 72/min, SpO2 91%, RR 14/min", problem=SPO2_LOW),
    )


def test_a_later_reading_far_from_the_baseline_voids_the_assessment():
    far = VitalReading(150, 80, 70, 98, 14)  # within the hold thresholds, 25 % above the baseline
    assert voided(31, [at(35, far)]) == (
        VOIDED.format(reading=describe(far), problem=VITALS_FAR.format(percent=25, limit=20)),
    )


def test_a_reading_taken_or_entered_at_the_moment_of_the_assessment_was_part_of_it():
    low = VitalReading(124, 80, 72, 91, 14)
    assert voided(31, [at(31, low)]) == ()
    entered_then = TimedReading(STOP + timedelta(minutes=28), low, STOP + timedelta(minutes=31))
    assert voided(31, [entered_then]) == ()
    entered_after = TimedReading(STOP + timedelta(minutes=28), low, STOP + timedelta(minutes=32))
    assert len(voided(31, [entered_after])) == 1
