"""C-SSRS screener: branching (items 3-5 only after item 2 = yes; recency only after behaviour) and risk."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments import score
from ketaclinic.core.instruments.scoring import MSG_MISSING_REFUSED, MSG_OUT_OF_RANGE, MSG_SKIPPED_ANSWERED

N = None
FLAG = "suicide_risk_moderate_or_high"


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        # q1 q2 q3 q4 q5 q6 recent
        ([0, 0, N, N, N, 0, N], "none"),
        ([1, 0, N, N, N, 0, N], "low"),
        ([1, 1, 0, 0, 0, 0, N], "low"),
        ([0, 1, 0, 0, 0, 0, N], "low"),
        ([1, 1, 1, 0, 0, 0, N], "moderate"),
        ([0, 0, N, N, N, 1, 0], "moderate"),  # behaviour more than 3 months ago
        ([1, 1, 1, 1, 0, 0, N], "high"),  # intent without plan
        ([1, 1, 1, 0, 1, 0, N], "high"),  # intent with plan
        ([0, 0, N, N, N, 1, 1], "high"),  # behaviour in the past 3 months
        ([1, 1, 1, 0, 0, 1, 0], "moderate"),
        ([1, 1, 0, 0, 0, 1, 1], "high"),
    ],
)
def test_risk_levels(answers, risk):
    result = score("cssrs_screener", answers)
    assert result.severity == risk
    assert result.total is None
    assert (FLAG in result.flags) is (risk in ("moderate", "high"))
    assert result.loinc_result == "93374-7"


def test_items_3_to_5_are_skipped_when_item_2_is_no():
    result = score("cssrs_screener", [1, 0, N, N, N, 0, N])
    assert result.skipped_items == ("cssrs_3", "cssrs_4", "cssrs_5", "cssrs_6_recent")
    assert result.missing_items == ()


def test_answering_a_skipped_item_is_refused():
    with pytest.raises(ValidationError) as err:
        score("cssrs_screener", [1, 0, 1, N, N, 0, N])
    assert err.value.field == "cssrs_3"
    assert err.value.message == MSG_SKIPPED_ANSWERED.format(item="cssrs_3", value=1, condition="cssrs_2 = 1")
    with pytest.raises(ValidationError) as err:
        score("cssrs_screener", [0, 0, N, N, N, 0, 1])
    assert err.value.field == "cssrs_6_recent"


def test_items_3_to_5_are_required_when_item_2_is_yes():
    with pytest.raises(ValidationError) as err:
        score("cssrs_screener", [1, 1, 1, N, 0, 0, N])
    assert err.value.message == MSG_MISSING_REFUSED.format(
        name="Columbia Suicide Severity Rating Scale, screener (C-SSRS screener)", items="question 4"
    )


def test_recency_is_required_after_behaviour_and_item_1_always():
    with pytest.raises(ValidationError, match="question 7 unanswered") as err:
        score("cssrs_screener", [0, 0, N, N, N, 1, N])
    assert err.value.value == ["cssrs_6_recent"]
    with pytest.raises(ValidationError, match="question 1 unanswered") as err:
        score("cssrs_screener", [N, 0, N, N, N, 0, N])
    assert err.value.value == ["cssrs_1"]


def test_a_non_yes_no_answer_is_refused():
    with pytest.raises(ValidationError) as err:
        score("cssrs_screener", [2, 0, N, N, N, 0, N])
    assert err.value.message == MSG_OUT_OF_RANGE.format(item="cssrs_1", value=2, allowed="0, 1")
