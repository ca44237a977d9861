"""Checklist behaviours that mutation testing showed were unpinned: each refusal names the item (field), the
answer given (value) and what is allowed; the edges of number items; exactly which status each item gets."""

from __future__ import annotations

import math

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import (
    ANSWER_UNKNOWN,
    CONSENT_NOT_ON_FILE,
    CONSENT_NOT_OVERRIDABLE,
    ITEM_UNKNOWN,
    NOT_OVERRIDABLE,
    NUMBER_OUT_OF_RANGE,
    NUMBER_REQUIRED,
    OVERRIDE_REASON_SHORT,
    ItemAnswer,
    ItemResult,
    ItemStatus,
    answer_check,
    checklist_evaluate,
    item_get,
    override_check,
)
from tests.core.infusion.test_checklist import C, complete  # the same complete checklist


def refusal(fn, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        fn(*args, **kwargs)
    return err.value


def status(result, code: str) -> ItemResult:
    return next(i for i in result.items if i.code == code)


def test_an_unknown_item_is_refused_naming_it():
    err = refusal(item_get, C, "not_an_item")
    assert (err.field, err.value, err.message) == (
        "item",
        "not_an_item",
        ITEM_UNKNOWN.format(value="not_an_item"),
    )
    assert item_get(C, "weight_today").code == "weight_today"


def test_a_confirm_answer_other_than_yes_or_no_is_refused_naming_item_answer_and_choices():
    item = item_get(C, "no_heavy_meal")
    err = refusal(answer_check, item, "maybe")
    assert (err.field, err.value) == ("no_heavy_meal", "maybe")
    assert err.message == ANSWER_UNKNOWN.format(value="maybe", question=item.question, allowed="yes, no")
    assert answer_check(item, "no") == ItemAnswer("no_heavy_meal", "no", None)


def test_consent_yes_without_consent_on_file_is_refused_naming_what_is_missing():
    item = item_get(C, "consent_on_file")
    err = refusal(answer_check, item, "yes", consent_problem="not signed")
    assert (err.field, err.value) == ("consent_on_file", "yes")
    assert err.message == CONSENT_NOT_ON_FILE.format(question=item.question, problem="not signed")
    assert answer_check(item, "no", consent_problem="not signed").answer == "no"
    assert answer_check(item, "yes").answer == "yes"


def test_a_pregnancy_answer_outside_the_three_is_refused_naming_them():
    item = item_get(C, "pregnancy_status")
    err = refusal(answer_check, item, "yes")
    assert (err.field, err.value) == ("pregnancy_status", "yes")
    assert err.message == ANSWER_UNKNOWN.format(
        value="yes", question=item.question, allowed="not_pregnant, pregnant, unknown"
    )
    for answer in ("not_pregnant", "pregnant", "unknown"):
        assert answer_check(item, answer).answer == answer


@pytest.mark.parametrize("value", [None, math.nan, math.inf])
def test_a_number_item_without_a_finite_number_is_refused_naming_the_range(value):
    item = item_get(C, "weight_today")
    err = refusal(answer_check, item, value=value)
    assert err.field == "weight_today" and (err.value is value or (value != value and err.value != err.value))
    assert err.message == NUMBER_REQUIRED.format(question=item.question, low=20, high=350, value=value)
    assert "20" in err.message and "350" in err.message


@pytest.mark.parametrize(("value", "ok"), [(20, True), (350, True), (19.9, False), (350.1, False)])
def test_weight_edges_are_inclusive(value, ok):
    item = item_get(C, "weight_today")
    if ok:
        assert answer_check(item, value=value) == ItemAnswer("weight_today", "", value)
    else:
        err = refusal(answer_check, item, value=value)
        assert (err.field, err.value) == ("weight_today", value)
        assert err.message == NUMBER_OUT_OF_RANGE.format(
            question=item.question, value=value, low=20, high=350
        )


def test_a_number_item_without_limits_accepts_any_finite_number():
    item = item_get(C, "phq9_today").model_copy(update={"min": None, "max": None})
    assert answer_check(item, value=-5).value == -5 and answer_check(item, value=1e6).value == 1e6
    err = refusal(answer_check, item, value=None)
    assert "-inf" in err.message and "inf" in err.message


def test_overrides_refused_name_the_item_and_the_reason_given():
    consent = item_get(C, "consent_on_file")
    err = refusal(override_check, consent, "Patient said yes verbally", consent_problem="not signed")
    assert (err.field, err.value) == ("consent_on_file", "Patient said yes verbally")
    assert err.message == CONSENT_NOT_OVERRIDABLE.format(question=consent.question, problem="not signed")
    err = refusal(override_check, consent, "Patient said yes verbally")
    assert "it must be on file" in err.message
    weight = item_get(C, "weight_today")
    err = refusal(override_check, weight, "Scale broken today, weighed last week")
    assert (err.field, err.value, err.message) == (
        "weight_today",
        "Scale broken today, weighed last week",
        NOT_OVERRIDABLE.format(question=weight.question),
    )
    meal = item_get(C, "no_heavy_meal")
    err = refusal(override_check, meal, "  too short ")
    assert (err.field, err.value) == ("reason", "  too short ")
    assert err.message == OVERRIDE_REASON_SHORT.format(low=10)
    assert override_check(meal, "  ate 3 hours ago, light  ") == "ate 3 hours ago, light"
    assert override_check(meal, "0123456789") == "0123456789"  # exactly 10 characters is enough


def test_each_item_gets_exactly_its_status_and_detail():
    answers = complete(
        no_heavy_meal=ItemAnswer("no_heavy_meal", "no"),
        escort_confirmed=ItemAnswer("escort_confirmed", "no", override_reason="Taxi booked by clinic"),
        phq9_today=ItemAnswer("phq9_today", value=28),
        pregnancy_status=ItemAnswer("pregnancy_status", "unknown"),
    )
    del answers["medications_reviewed"]
    result = checklist_evaluate(
        C, answers, sex="female", baseline_problems=("heart rate 130 above 120",), consent_problem=None
    )
    assert status(result, "identity_checked") == ItemResult(
        "identity_checked", item_get(C, "identity_checked").question, ItemStatus.PASSED
    )
    assert (status(result, "no_heavy_meal").status, status(result, "no_heavy_meal").detail) == (
        ItemStatus.FAILED,
        "answered no",
    )
    assert status(result, "escort_confirmed").status is ItemStatus.OVERRIDDEN
    assert status(result, "escort_confirmed").detail == "answered no; overridden: Taxi booked by clinic"
    assert status(result, "medications_reviewed").status is ItemStatus.MISSING
    assert (status(result, "phq9_today").status, status(result, "phq9_today").detail) == (
        ItemStatus.FAILED,
        "out of range",
    )
    assert status(result, "pregnancy_status").detail == "answered unknown"
    assert (status(result, "baseline_vitals").status, status(result, "baseline_vitals").detail) == (
        ItemStatus.FAILED,
        "heart rate 130 above 120",
    )
    assert not result.passed
    assert result.failures == (
        "no_heavy_meal failed",
        "medications_reviewed missing",
        "baseline_vitals failed",
        "phq9_today failed",
        "pregnancy_status failed",
    )
    assert result.overridden == ("escort_confirmed",)


def test_number_items_pass_at_their_edges():
    for value in (0, 27):
        result = checklist_evaluate(
            C,
            complete(phq9_today=ItemAnswer("phq9_today", value=value)),
            sex="male",
            baseline_problems=(),
            consent_problem=None,
        )
        assert status(result, "phq9_today").status is ItemStatus.PASSED
        assert status(result, "pregnancy_status").status is ItemStatus.NOT_APPLICABLE
        assert result.passed
    low = checklist_evaluate(
        C,
        complete(phq9_today=ItemAnswer("phq9_today", value=-1)),
        sex=None,
        baseline_problems=(),
        consent_problem=None,
    )
    assert status(low, "phq9_today").status is ItemStatus.FAILED
    assert status(low, "pregnancy_status").status is ItemStatus.PASSED  # sex unknown: the item applies


def test_an_override_on_an_item_that_may_not_be_overridden_does_not_pass_it():
    answers = complete(
        weight_today=ItemAnswer("weight_today", value=10, override_reason="Scale reads low today"),
        consent_on_file=ItemAnswer("consent_on_file", "no", override_reason="Signed on paper upstairs"),
    )
    result = checklist_evaluate(C, answers, sex="female", baseline_problems=(), consent_problem=None)
    assert status(result, "weight_today").status is ItemStatus.FAILED
    assert status(result, "consent_on_file").status is ItemStatus.FAILED
    assert result.overridden == ()


def test_missing_consent_fails_with_what_is_missing_and_says_so_in_the_failures():
    result = checklist_evaluate(C, complete(), sex="female", baseline_problems=(), consent_problem="expired")
    assert (status(result, "consent_on_file").status, status(result, "consent_on_file").detail) == (
        ItemStatus.FAILED,
        "expired",
    )
    assert result.failures == ("consent_on_file failed (expired)",)
