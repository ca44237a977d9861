"""Discharge: PADSS (Chung 1995) scoring from baseline, and the decision with every reason named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.discharge import (
    BELOW_PASS,
    NEEDS_BASELINE,
    NO_ESCORT,
    NO_INSTRUCTIONS,
    OBSERVATION_SHORT,
    RECOVERY_NONE,
    RECOVERY_OLD,
    SCORE_RANGE,
    SEVERE_KINDS,
    RecoveryEvidence,
    TimedReading,
    assessment_voided,
    describe,
    deviation_percent,
    discharge_assess,
    recovery_evidence,
    review_required,
    vital_signs_score,
)
from ketaclinic.core.infusion.vitals import VitalReading, alerts_for
from ketaclinic.protocols.files import shipped_protocols

D = shipped_protocols()["depression-standard"].discharge
BASE = VitalReading(120, 80, 70)
GOOD = {"activity_mental_status": 2, "pain": 2, "nausea_vomiting": 2, "intake_output": 2}


def assess(**kw):
    args: dict[str, Any] = dict(
        scores=GOOD,
        baseline=BASE,
        latest=VitalReading(126, 82, 74),
        escort_present=True,
        instructions_given=True,
        minutes_since_infusion_end=45,
        recovery_problems=(),
    )
    args.update(kw)
    return discharge_assess(D, **args)


def test_fit_with_full_scores() -> None:
    d = assess()
    assert d.fit and d.total == 10 and d.reasons == ()
    assert d.scores["bleeding"] == 2 and d.scores["vital_signs"] == 2


@pytest.mark.parametrize(
    ("latest", "points"),
    [
        (VitalReading(144, 80, 70), 2),  # exactly 20 %
        (VitalReading(145, 80, 70), 1),
        (VitalReading(168, 80, 70), 1),  # exactly 40 %
        (VitalReading(169, 80, 70), 0),
        (VitalReading(120, 80, 42), 1),  # heart rate 40 % lower
    ],
)
def test_vital_signs_points_by_distance_from_baseline(latest: VitalReading, points: int) -> None:
    assert vital_signs_score(deviation_percent(BASE, latest), D) == points


def test_nine_passes_eight_does_not() -> None:
    assert assess(scores={**GOOD, "intake_output": 1}).fit
    d = assess(scores={**GOOD, "intake_output": 1, "pain": 1})
    assert not d.fit and d.reasons == (BELOW_PASS.format(total=8, score=9),)


def test_pain_and_nausea_are_one_padss_item_scored_by_the_worse() -> None:
    d = assess(scores={**GOOD, "pain": 1, "nausea_vomiting": 0})
    assert d.scores["pain_nausea_vomiting"] == 0 and d.total == 8
    assert list(d.scores) == [
        "vital_signs",
        "activity_mental_status",
        "pain_nausea_vomiting",
        "bleeding",
        "intake_output",
    ]


def test_every_missing_criterion_is_a_reason() -> None:
    d = assess(escort_present=False, instructions_given=False, minutes_since_infusion_end=10, latest=None)
    assert d.reasons == (
        NEEDS_BASELINE,
        BELOW_PASS.format(total=8, score=9),
        NO_ESCORT,
        NO_INSTRUCTIONS,
        OBSERVATION_SHORT.format(elapsed=10, minimum=30),
    )


def test_vitals_far_from_baseline_block_even_when_the_total_passes() -> None:
    d = assess(latest=VitalReading(150, 80, 70))
    assert d.total == 9 and not d.fit and d.reasons[0].startswith("vital signs 25% from baseline")


@pytest.mark.parametrize("value", [3, -1, None, True, 1.5])
def test_scores_must_be_0_1_or_2(value) -> None:
    with pytest.raises(ValidationError) as exc:
        assess(scores={**GOOD, "pain": value})
    assert exc.value.message == SCORE_RANGE.format(item="pain", value=value)


@given(
    st.fixed_dictionaries({k: st.integers(0, 2) for k in GOOD}),
    st.floats(50, 250),
    st.booleans(),
    st.booleans(),
)
def test_fit_iff_every_criterion(scores, systolic, escort, instructions) -> None:
    d = assess(
        scores=scores,
        latest=VitalReading(systolic, 80, 70),
        escort_present=escort,
        instructions_given=instructions,
    )
    assert 0 <= d.total <= 10
    assert d.fit == (
        d.total >= 9
        and escort
        and instructions
        and d.deviation_percent is not None
        and d.deviation_percent <= 20
    )


# --- discharge on evidence (complete, after the stop, recent, within thresholds; voided by later readings)
# ----

M = shipped_protocols()["depression-standard"].monitoring
STOP = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
FULL = VitalReading(124, 80, 72, 98, 14)


def at(minutes: float, reading: VitalReading = FULL) -> TimedReading:
    return TimedReading(STOP + timedelta(minutes=minutes), reading)


def evidence(readings: list[TimedReading], now_min: float = 40) -> RecoveryEvidence:
    return recovery_evidence(
        readings,
        ended_at=STOP,
        now=STOP + timedelta(minutes=now_min),
        section=D,
        monitoring=M,
        baseline=VitalReading(120, 80, 70, 98, 14),
    )


def test_shipped_protocols_declare_the_recovery_vitals_window() -> None:
    for doc in shipped_protocols().values():
        assert doc.discharge is not None and doc.discharge.recovery_vitals_max_age_min == 15, doc.id
        assert "recovery vital signs" in doc.discharge.source


def test_hr_only_reading_cannot_be_compared_regression() -> None:
    """Seen: an HR-only reading gave "0 % deviation"."""
    assert deviation_percent(BASE, VitalReading(heart_rate_bpm=70)) is None
    assert deviation_percent(VitalReading(heart_rate_bpm=70), VitalReading(120, 80, 70)) is None
    d = assess(latest=VitalReading(heart_rate_bpm=70))
    assert not d.fit and NEEDS_BASELINE in d.reasons and d.scores["vital_signs"] == 0


def test_a_complete_recent_normal_set_after_the_stop_is_evidence() -> None:
    e = evidence([at(-20), at(30)])
    assert e.problems == () and e.latest == FULL


def test_a_reading_taken_during_the_infusion_is_not_recovery_evidence_regression() -> None:
    """Seen: a 60-minute-old reading taken during the infusion counted as recovery vitals."""
    e = evidence([at(-20)], now_min=40)
    assert e.latest is None and e.problems == (RECOVERY_NONE,)


def test_an_incomplete_set_is_not_evidence() -> None:
    for missing in (
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "spo2_percent",
        "respiratory_rate_per_min",
    ):
        partial = replace(FULL, **{missing: None})
        assert evidence([at(30, partial)]).problems == (RECOVERY_NONE,), missing


def test_an_old_set_is_not_recent_enough() -> None:
    e = evidence([at(20)], now_min=36)
    assert e.problems == (RECOVERY_OLD.format(reading=describe(FULL), age=16, limit=15),)
    assert evidence([at(21)], now_min=36).problems == ()  # exactly 15 min


def test_a_set_beyond_the_hold_thresholds_is_named() -> None:
    bad = VitalReading(195, 115, 135, 98, 14)
    e = evidence([at(30, bad)])
    assert e.problems and all("BP 195/115 mmHg, HR 135/min" in p for p in e.problems)
    assert any(a.message in e.problems[0] for a in alerts_for(bad, M))


def test_a_partial_reading_after_the_set_that_breaks_thresholds_counts() -> None:
    e = evidence([at(25), at(30, VitalReading(heart_rate_bpm=135))])
    assert e.latest == FULL and len(e.problems) >= 1 and "HR 135/min" in e.problems[0]


def test_deviation_beyond_the_padss_limit_is_a_problem() -> None:
    far = VitalReading(150, 80, 72, 98, 14)  # 25 % above the baseline's 120
    assert any("25% from baseline" in p for p in evidence([at(30, far)]).problems)


def test_a_later_reading_voids_a_fit_assessment_regression() -> None:
    """Seen: "fit" assessed, then BP 195/115 and HR 135 recorded — still discharged."""
    assessed = STOP + timedelta(minutes=31)
    later = [at(30), at(35, VitalReading(195, 115, 135))]
    reasons = assessment_voided(assessed, later, section=D, monitoring=M, baseline=VitalReading(120, 80, 70))
    assert reasons and all(
        r.startswith("the fit assessment is void: the reading BP 195/115 mmHg, HR 135/min") for r in reasons
    )
    assert (
        assessment_voided(
            assessed,
            [at(30, VitalReading(195, 115, 135)), at(35)],
            section=D,
            monitoring=M,
            baseline=VitalReading(120, 80, 70),
        )
        == ()
    )
    entered_late = TimedReading(
        STOP + timedelta(minutes=30), VitalReading(195, 115, 135), assessed + timedelta(minutes=1)
    )
    assert assessment_voided(
        assessed, [entered_late], section=D, monitoring=M, baseline=VitalReading(120, 80, 70)
    )


@pytest.mark.parametrize(
    ("kind", "severity", "needed"),
    [
        ("desaturation_apnoea", "mild", True),
        ("chest_pain", "moderate", True),
        ("allergic_reaction", "mild", True),
        ("fall", "mild", True),
        ("seizure", "moderate", True),
        ("emergence_reaction_severe", "moderate", True),
        ("nausea", "severe", True),
        ("nausea", "moderate", False),
        ("hypertension", "mild", False),
    ],
)
def test_severe_adverse_events_need_review(kind: str, severity: str, needed: bool) -> None:
    assert review_required(kind, severity) is needed
    assert SEVERE_KINDS >= {"desaturation_apnoea", "chest_pain", "allergic_reaction", "fall"}


vital = st.one_of(st.none(), st.floats(40, 220))


@given(vital, vital, vital, vital, vital, vital)
def test_deviation_only_when_every_compared_vital_is_in_both(bs, bd, bh, ls, ld, lh) -> None:
    dev = deviation_percent(VitalReading(bs, bd, bh), VitalReading(ls, ld, lh))
    assert (dev is None) == (None in (bs, bd, bh, ls, ld, lh))
    if dev is not None:
        assert dev >= 0


@given(st.floats(0.01, 120), st.floats(0, 120))
def test_recent_iff_within_the_window(taken_min, now_after) -> None:
    e = evidence([at(taken_min)], now_min=taken_min + now_after)
    assert (e.problems == ()) == (now_after <= D.recovery_vitals_max_age_min + 1e-9) or abs(
        now_after - D.recovery_vitals_max_age_min
    ) < 1e-6
