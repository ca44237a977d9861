"""Discharge: PADSS (Chung 1995) scoring from baseline, and the decision with every reason named."""

from __future__ import annotations

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
    SCORE_RANGE,
    deviation_percent,
    discharge_assess,
    vital_signs_score,
)
from ketaclinic.core.infusion.vitals import VitalReading
from ketaclinic.protocols.files import shipped_protocols

D = shipped_protocols()["depression-standard"].discharge
BASE = VitalReading(120, 80, 70)
GOOD = {"activity_mental_status": 2, "pain": 2, "nausea_vomiting": 2, "intake_output": 2}


def assess(**kw):  # type: ignore[no-untyped-def]
    args = dict(scores=GOOD, baseline=BASE, latest=VitalReading(126, 82, 74), escort_present=True,
                instructions_given=True, minutes_since_infusion_end=45)
    args.update(kw)
    return discharge_assess(D, **args)


def test_fit_with_full_scores() -> None:
    d = assess()
    assert d.fit and d.total == 10 and d.reasons == ()
    assert d.scores["bleeding"] == 2 and d.scores["vital_signs"] == 2


@pytest.mark.parametrize(("latest", "points"), [
    (VitalReading(144, 80, 70), 2),  # exactly 20 %
    (VitalReading(145, 80, 70), 1),
    (VitalReading(168, 80, 70), 1),  # exactly 40 %
    (VitalReading(169, 80, 70), 0),
    (VitalReading(120, 80, 42), 1),  # heart rate 40 % lower
])
def test_vital_signs_points_by_distance_from_baseline(latest: VitalReading, points: int) -> None:
    assert vital_signs_score(deviation_percent(BASE, latest), D) == points


def test_nine_passes_eight_does_not() -> None:
    assert assess(scores={**GOOD, "intake_output": 1}).fit
    d = assess(scores={**GOOD, "intake_output": 1, "pain": 1})
    assert not d.fit and d.reasons == (BELOW_PASS.format(total=8, score=9),)


def test_pain_and_nausea_are_one_padss_item_scored_by_the_worse() -> None:
    d = assess(scores={**GOOD, "pain": 1, "nausea_vomiting": 0})
    assert d.scores["pain_nausea_vomiting"] == 0 and d.total == 8
    assert list(d.scores) == ["vital_signs", "activity_mental_status", "pain_nausea_vomiting", "bleeding", "intake_output"]


def test_every_missing_criterion_is_a_reason() -> None:
    d = assess(escort_present=False, instructions_given=False, minutes_since_infusion_end=10, latest=None)
    assert d.reasons == (NEEDS_BASELINE, BELOW_PASS.format(total=8, score=9), NO_ESCORT, NO_INSTRUCTIONS,
                         OBSERVATION_SHORT.format(elapsed=10, minimum=30))


def test_vitals_far_from_baseline_block_even_when_the_total_passes() -> None:
    d = assess(latest=VitalReading(150, 80, 70))
    assert d.total == 9 and not d.fit and d.reasons[0].startswith("vital signs 25% from baseline")


@pytest.mark.parametrize("value", [3, -1, None, True, 1.5])
def test_scores_must_be_0_1_or_2(value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as exc:
        assess(scores={**GOOD, "pain": value})
    assert exc.value.message == SCORE_RANGE.format(item="pain", value=value)


@given(st.fixed_dictionaries({k: st.integers(0, 2) for k in GOOD}), st.floats(50, 250), st.booleans(), st.booleans())
def test_fit_iff_every_criterion(scores, systolic, escort, instructions) -> None:  # type: ignore[no-untyped-def]
    d = assess(scores=scores, latest=VitalReading(systolic, 80, 70), escort_present=escort,
               instructions_given=instructions)
    assert 0 <= d.total <= 10
    assert d.fit == (d.total >= 9 and escort and instructions and d.deviation_percent is not None
                     and d.deviation_percent <= 20)
