"""GAD-7, PCL-5, pain NRS, CADSS and the clinician dissociation observation: worked examples and edges."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments import score
from ketaclinic.core.instruments.scoring import MSG_MISSING_REFUSED, MSG_OUT_OF_RANGE


def test_gad7_worked_example():
    # 2+1+3+0+1+2+0 = 9 -> mild (5-9)
    result = score("gad7", [2, 1, 3, 0, 1, 2, 0])
    assert (result.total, result.severity) == (9, "mild")
    assert result.loinc_result == "70274-6"


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([3, 1, 0, 0, 0, 0, 0], 4, "minimal"),
        ([3, 2, 0, 0, 0, 0, 0], 5, "mild"),
        ([3, 3, 3, 0, 0, 0, 0], 9, "mild"),
        ([3, 3, 3, 1, 0, 0, 0], 10, "moderate"),
        ([3, 3, 3, 3, 2, 0, 0], 14, "moderate"),
        ([3, 3, 3, 3, 3, 0, 0], 15, "severe"),
        ([3, 3, 3, 3, 3, 3, 3], 21, "severe"),
    ],
)
def test_gad7_band_edges(answers, total, band):
    result = score("gad7", answers)
    assert (result.total, result.severity) == (total, band)


def test_gad7_refuses_any_missing_item():
    with pytest.raises(ValidationError) as err:
        score("gad7", [1, None, 1, 1, 1, 1, 1])
    assert err.value.message == MSG_MISSING_REFUSED.format(
        name="Generalized Anxiety Disorder-7 (GAD-7)", items="question 2"
    )


def test_pcl5_worked_example_cut_off_and_clusters():
    answers = [2, 1, 0, 3, 2, 1, 1, 0, 2, 2, 3, 1, 2, 2, 1, 0, 3, 2, 2, 3]
    # B 2+1+0+3+2=8; C 1+1=2; D 0+2+2+3+1+2+2=12; E 1+0+3+2+2+3=11; total 33
    result = score("pcl5", answers)
    assert result.total == 33
    assert result.severity == "provisional PTSD"
    assert result.subscores == {"cluster_b": 8, "cluster_c": 2, "cluster_d": 12, "cluster_e": 11}


def test_pcl5_cut_off_edge_30_31():
    below = [2] * 15 + [0] * 5  # 30
    at = [2] * 15 + [1] + [0] * 4  # 31
    assert (score("pcl5", below).total, score("pcl5", below).severity) == (
        30,
        "below provisional PTSD cut-off",
    )
    assert (score("pcl5", at).total, score("pcl5", at).severity) == (31, "provisional PTSD")
    assert score("pcl5", [4] * 20).total == 80


def test_pcl5_refuses_a_5_and_a_missing_item():
    with pytest.raises(ValidationError) as err:
        score("pcl5", [5] + [0] * 19)
    assert err.value.message == MSG_OUT_OF_RANGE.format(item="pcl5_1", value=5, allowed="0, 1, 2, 3, 4")
    with pytest.raises(ValidationError):
        score("pcl5", [None] + [0] * 19)


def test_pain_nrs():
    assert score("pain_nrs", [7]).total == 7
    assert score("pain_nrs", [0]).severity is None  # no bands are shipped for the NRS
    with pytest.raises(ValidationError) as err:
        score("pain_nrs", [11])
    assert err.value.field == "pain_now"
    assert "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10" in err.value.message
    with pytest.raises(ValidationError):
        score("pain_nrs", [None])


def test_cadss_total_and_the_unvalidated_cadss6_subscale():
    answers = [0] * 23
    for item, value in {1: 4, 2: 3, 6: 2, 7: 1, 15: 1, 22: 2, 10: 4}.items():
        answers[item - 1] = value
    result = score("cadss", answers)
    assert result.total == 17  # 4+3+2+1+1+2+4
    assert result.subscores == {"cadss6": 13}  # items 1,2,6,7,15,22 only: 4+3+2+1+1+2
    assert score("cadss", [4] * 23).total == 92
    with pytest.raises(ValidationError):
        score("cadss", [5] + [0] * 22)


@pytest.mark.parametrize(("value", "label"), [(0, "none"), (1, "mild"), (2, "moderate"), (3, "severe")])
def test_dissociation_observation(value, label):
    result = score("dissociation_observation", [value])
    assert result.severity == label
    assert result.validated is False
