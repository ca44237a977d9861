"""PHQ-9: worked examples computed by hand, every band edge, missing-item rule, the item 9 flag."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments import score
from ketaclinic.core.instruments.scoring import (
    MSG_NOT_AN_INTEGER,
    MSG_OUT_OF_RANGE,
    MSG_TOO_MANY_MISSING,
    MSG_WRONG_COUNT,
)


def test_worked_example_from_the_issue():
    # 1+2+0+3+1+0+2+1+0 = 10 -> moderate (10-14); item 9 = 0 -> no flag
    result = score("phq9", [1, 2, 0, 3, 1, 0, 2, 1, 0])
    assert result.total == 10
    assert result.severity == "moderate"
    assert result.flags == ()
    assert result.prorated is False
    assert (result.loinc_panel, result.loinc_result) == ("44249-1", "44261-6")


def test_all_zero_and_all_three():
    assert (score("phq9", [0] * 9).total, score("phq9", [0] * 9).severity) == (0, "minimal")
    top = score("phq9", [3] * 9)
    assert (top.total, top.severity) == (27, "severe")
    assert top.flags == ("suicidal_ideation",)


def _with_total(total: int) -> list[int]:
    """Nine answers summing to ``total`` with item 9 = 0 (fill items 1-8 with 3s, then the remainder)."""
    answers = []
    left = total
    for _ in range(8):
        answers.append(min(3, left))
        left -= answers[-1]
    assert left == 0
    return [*answers, 0]


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (24, "severe"),
    ],
)
def test_band_edges(total, band):
    result = score("phq9", _with_total(total))
    assert result.total == total
    assert result.severity == band


@pytest.mark.parametrize(("item9", "flagged"), [(0, False), (1, True), (2, True), (3, True)])
def test_item_9_flag(item9, flagged):
    result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, item9])
    assert ("suicidal_ideation" in result.flags) is flagged
    assert result.total == item9


def test_one_missing_item_takes_the_mean_of_the_answered():
    # answered: 2,2,2,2,2,2,2,1 (8 items) sum 15, mean 15/8; total = 15 + 15/8 = 16.875 -> 16.88
    result = score("phq9", [2, 2, 2, None, 2, 2, 2, 2, 1])
    assert result.prorated is True
    assert result.missing_items == ("phq9_4",)
    assert result.total == 16.88
    assert result.severity == "moderately severe"
    assert result.flags == ("suicidal_ideation",)


def test_two_missing_items_and_a_prorated_total_stays_in_the_lower_band():
    # answered: 1,1,1,1,1,2,1 (7 items) sum 8; total = 8 * 9 / 7 = 10.2857 -> moderate (>= 10)
    result = score("phq9", [1, None, 1, 1, 1, 2, 1, None, 1])
    assert result.total == 10.29
    assert result.severity == "moderate"
    # answered 7 items summing 7: total = 9.0 exactly -> mild
    assert score("phq9", [1, None, 1, 1, 1, 1, 1, None, 1]).total == 9
    # answered 8 items summing 8 with one missing -> 9 exactly; answered 8 summing 4 -> 4.5 is "minimal" (not
    # rounded up)
    half = score("phq9", [1, 1, 1, 1, 0, 0, 0, None, 0])
    assert half.total == 4.5
    assert half.severity == "minimal"


def test_three_missing_items_are_refused():
    with pytest.raises(ValidationError) as err:
        score("phq9", [1, None, 1, None, 1, None, 1, 1, 0])
    assert err.value.message == MSG_TOO_MANY_MISSING.format(
        name="Patient Health Questionnaire-9 (PHQ-9)", missing=3, items="questions 2, 4 and 6", allowed=2
    )


def test_an_unanswered_item_9_raises_its_own_flag():
    result = score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    assert result.flags == ("suicide_item_unanswered",)
    assert "suicidal_ideation" not in result.flags


def test_out_of_range_answer_names_item_value_and_allowed():
    with pytest.raises(ValidationError) as err:
        score("phq9", [0, 0, 0, 0, 4, 0, 0, 0, 0])
    assert err.value.field == "phq9_5"
    assert err.value.value == 4
    assert err.value.message == MSG_OUT_OF_RANGE.format(item="phq9_5", value=4, allowed="0, 1, 2, 3")
    with pytest.raises(ValidationError) as err:
        score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, -1])
    assert err.value.field == "phq9_9"


@pytest.mark.parametrize("bad", [1.5, "2", True])
def test_non_integer_answers_are_refused(bad):
    with pytest.raises(ValidationError) as err:
        score("phq9", [bad, 0, 0, 0, 0, 0, 0, 0, 0])
    assert err.value.message == MSG_NOT_AN_INTEGER.format(item="phq9_1", value=bad, allowed="0, 1, 2, 3")


@pytest.mark.parametrize("count", [0, 8, 10])
def test_wrong_number_of_answers(count):
    with pytest.raises(ValidationError) as err:
        score("phq9", [0] * count)
    assert err.value.message == MSG_WRONG_COUNT.format(
        name="Patient Health Questionnaire-9 (PHQ-9)", expected=9, given=count
    )
    assert err.value.field == "answers"


def test_answers_given_as_text_are_refused_not_split_into_characters():
    with pytest.raises(ValidationError) as err:
        score("phq9", "120310210")  # type: ignore[arg-type]  # text on purpose: it is refused
    assert err.value.field == "answers"
    assert err.value.message == MSG_WRONG_COUNT.format(
        name="Patient Health Questionnaire-9 (PHQ-9)", expected=9, given="text, not a list of"
    )


def test_a_tuple_of_answers_scores_like_a_list():
    assert score("phq9", (1, 2, 0, 3, 1, 0, 2, 1, 0)) == score("phq9", [1, 2, 0, 3, 1, 0, 2, 1, 0])
