"""The home-safety items: asked only at home, each must be "yes", none can be overridden."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import (
    NOT_OVERRIDABLE,
    ItemAnswer,
    ItemStatus,
    checklist_evaluate,
    override_check,
)
from ketaclinic.core.infusion.home_safety import HOME_SAFETY_CODES, HOME_SAFETY_ITEMS, checklist_for_place
from ketaclinic.core.protocols.monitoring import ChecklistItem, ChecklistKind, ChecklistSection
from tests.core.infusion.test_checklist import C, complete


def evaluate(section: ChecklistSection, answers: dict[str, ItemAnswer]):
    return checklist_evaluate(section, answers, sex="female", baseline_problems=(), consent_problem=None)


def home_yes() -> dict[str, ItemAnswer]:
    return {code: ItemAnswer(code, "yes") for code in HOME_SAFETY_CODES}


def test_the_three_items_are_the_responsible_adult_a_place_to_lie_down_and_the_evening_escort() -> None:
    assert HOME_SAFETY_CODES == ("home_responsible_adult", "home_place_to_lie_down", "home_evening_escort")
    assert (
        "responsible adult" in HOME_SAFETY_ITEMS[0].question
        and "whole visit" in HOME_SAFETY_ITEMS[0].question
    )
    assert "lie down" in HOME_SAFETY_ITEMS[1].question
    assert "evening" in HOME_SAFETY_ITEMS[2].question
    assert all(i.kind is ChecklistKind.CONFIRM and not i.prescriber_may_override for i in HOME_SAFETY_ITEMS)


def test_at_a_clinic_the_protocol_checklist_is_unchanged() -> None:
    assert checklist_for_place(C, at_home=False) is C
    assert evaluate(checklist_for_place(C, at_home=False), complete()).passed


def test_at_home_the_items_follow_the_protocol_items_in_order() -> None:
    home = checklist_for_place(C, at_home=True)
    assert home.items == C.items + HOME_SAFETY_ITEMS


def test_at_home_the_clinic_answers_alone_do_not_pass_and_the_missing_items_are_named() -> None:
    result = evaluate(checklist_for_place(C, at_home=True), complete())
    assert not result.passed
    assert result.failures == tuple(f"{code} missing" for code in HOME_SAFETY_CODES)


def test_at_home_all_yes_passes() -> None:
    assert evaluate(checklist_for_place(C, at_home=True), complete(**home_yes())).passed


@pytest.mark.parametrize("code", HOME_SAFETY_CODES)
def test_each_no_fails_the_checklist_and_no_override_rescues_it(code: str) -> None:
    answers = complete(**home_yes())
    answers[code] = ItemAnswer(code, "no", override_reason="Prescriber says it is fine today")
    result = evaluate(checklist_for_place(C, at_home=True), answers)
    assert not result.passed and result.failures == (f"{code} failed",)
    status = next(i for i in result.items if i.code == code).status
    assert status is ItemStatus.FAILED
    item = next(i for i in HOME_SAFETY_ITEMS if i.code == code)
    with pytest.raises(ValidationError) as exc:
        override_check(item, "Prescriber says it is fine today")
    assert exc.value.message == NOT_OVERRIDABLE.format(question=item.question) and exc.value.field == code


def test_a_protocol_item_with_the_same_code_is_kept_not_duplicated() -> None:
    own = ChecklistItem(
        code="home_place_to_lie_down",
        question="A recliner or bed ready?",
        prescriber_may_override=True,
        source="clinic protocol",
    )
    section = ChecklistSection(items=(*C.items, own))
    home = checklist_for_place(section, at_home=True)
    assert [i.code for i in home.items].count("home_place_to_lie_down") == 1
    assert home.item("home_place_to_lie_down") == own
    assert home.items[-2:] == (HOME_SAFETY_ITEMS[0], HOME_SAFETY_ITEMS[2])
