"""Change from baseline, response, remission, reliable change and relapse, at their edges."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments import change_from_baseline, relapse_check
from ketaclinic.core.instruments.change import MSG_NOT_SUM_SCORED, MSG_THRESHOLD, MSG_TOTAL_OUT_OF_RANGE


def test_percent_change_is_positive_for_improvement():
    c = change_from_baseline("phq9", 20, 15)
    assert c.percent_change == 25.0  # (20 - 15) / 20
    assert c.change_points == -5
    assert change_from_baseline("phq9", 12, 18).percent_change == -50.0
    assert change_from_baseline("phq9", 0, 3).percent_change is None


@pytest.mark.parametrize(
    ("baseline", "current", "responded"),
    [
        (20, 10, True),  # exactly 50%
        (20, 11, False),  # 45%
        (10, 5, True),  # baseline exactly 10, exactly 50%
        (10, 6, False),
        (9, 0, False),  # baseline 9: not eligible however large the fall
        (27, 13.5, True),  # prorated current, exactly 50%
        (27, 13.51, False),
    ],
)
def test_phq9_response(baseline, current, responded):
    assert change_from_baseline("phq9", baseline, current).response is responded


@pytest.mark.parametrize(
    ("baseline", "current", "remitted"),
    [
        (10, 4, True),
        (10, 5, False),  # remission is below 5
        (10, 4.99, True),
        (9, 0, False),  # baseline 9: not eligible
        (27, 4, True),
    ],
)
def test_phq9_remission(baseline, current, remitted):
    assert change_from_baseline("phq9", baseline, current).remission is remitted


def test_definitions_an_instrument_lacks_are_none_not_false():
    gad = change_from_baseline("gad7", 15, 3)
    assert (gad.response, gad.remission, gad.reliable_change) == (None, None, None)
    assert gad.percent_change == 80.0
    assert change_from_baseline("phq9", 20, 2).reliable_change is None


@pytest.mark.parametrize(
    ("baseline", "current", "verdict"),
    [
        (50, 35, "improved"),  # exactly 15
        (50, 36, "no reliable change"),
        (35, 50, "worsened"),
        (36, 50, "no reliable change"),
    ],
)
def test_pcl5_reliable_change_of_15(baseline, current, verdict):
    assert change_from_baseline("pcl5", baseline, current).reliable_change == verdict


@pytest.mark.parametrize(
    ("baseline", "current", "important", "responded"),
    [
        (8, 6, True, False),  # 2 points but 25%
        (8, 7, False, False),
        (10, 7, True, True),  # exactly 30%
        (5, 4, False, False),
        (3, 2, False, True),  # 33% but 1 point
        (0, 0, False, False),
    ],
)
def test_pain_nrs_important_change_and_30_percent(baseline, current, important, responded):
    c = change_from_baseline("pain_nrs", baseline, current)
    assert c.important_improvement is important
    assert c.response is responded


def test_totals_outside_the_range_and_non_sum_instruments_are_refused():
    with pytest.raises(ValidationError) as err:
        change_from_baseline("phq9", 28, 10)
    assert err.value.message == MSG_TOTAL_OUT_OF_RANGE.format(
        field="baseline", value=28, name="Patient Health Questionnaire-9 (PHQ-9)", lo=0, hi=27
    )
    with pytest.raises(ValidationError) as err:
        change_from_baseline("phq9", 10, -1)
    assert err.value.field == "current"
    with pytest.raises(ValidationError) as err:
        change_from_baseline("cssrs_screener", 1, 0)
    assert err.value.message == MSG_NOT_SUM_SCORED.format(
        name="Columbia Suicide Severity Rating Scale, screener (C-SSRS screener)"
    )


def test_relapse_after_response_at_exactly_the_threshold():
    # baseline 20; response at 10 (index 1); best 8; back to 14 = (14-8)/(20-8) = 50% of the way back
    r = relapse_check("phq9", 20, [15, 10, 8, 14], 0.5)
    assert r.relapsed is True
    assert (r.responded_at, r.best, r.regained_fraction) == (1, 8.0, 0.5)


def test_just_below_the_threshold_is_not_relapse():
    # back to 13 = 5/12 = 41.7% < 50%
    r = relapse_check("phq9", 20, [15, 10, 8, 13], 0.5)
    assert r.relapsed is False
    assert r.regained_fraction == round(5 / 12, 4)


def test_no_relapse_without_a_response_or_when_the_latest_is_the_response():
    assert relapse_check("phq9", 20, [15, 12, 19], 0.5).responded_at is None
    assert relapse_check("phq9", 20, [15, 12, 19], 0.5).relapsed is False
    # baseline 9 never responds, so a rise is not a relapse
    assert relapse_check("phq9", 9, [2, 9], 0.5).relapsed is False
    latest = relapse_check("phq9", 20, [15, 10], 0.5)
    assert (latest.relapsed, latest.responded_at) == (False, 1)
    assert relapse_check("phq9", 20, [], 0.5).relapsed is False


def test_the_best_is_taken_from_the_response_onward():
    # lowest after the response is 4; 4 -> 12 = 8/16 = 50%
    assert relapse_check("phq9", 20, [10, 4, 6, 12], 0.5).best == 4.0
    assert relapse_check("phq9", 20, [10, 4, 6, 12], 0.5).relapsed is True
    assert relapse_check("phq9", 20, [10, 4, 6, 12], 0.6).relapsed is False


@pytest.mark.parametrize("bad", [0, -0.1, 1.01, True])
def test_threshold_must_be_a_fraction(bad):
    with pytest.raises(ValidationError) as err:
        relapse_check("phq9", 20, [10, 14], bad)
    assert err.value.message == MSG_THRESHOLD.format(value=bad)


def test_relapse_needs_a_response_definition():
    with pytest.raises(ValidationError):
        relapse_check("gad7", 15, [5, 12], 0.5)
