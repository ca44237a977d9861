"""The checklist result item by item, as the nurse's page lists it: every item keeps its question, its
status and the detail that says what is wrong, and an item after a special one (consent, medications,
baseline) is still checked: a checklist never passes because its checking stopped early."""

from __future__ import annotations

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import (
    CONSENT_NOT_OVERRIDABLE,
    MAJOR_INTERACTION_DETAIL,
    MAJOR_INTERACTION_NEEDS_PRESCRIBER,
    ItemAnswer,
    ItemResult,
    ItemStatus,
    answer_check,
    checklist_evaluate,
    item_applies,
    item_get,
    override_check,
)
from ketaclinic.core.infusion.vitals import BASELINE_MISSING
from ketaclinic.core.protocols.monitoring import ChecklistItem, ChecklistKind
from ketaclinic.protocols.files import shipped_protocols

C = shipped_protocols()["depression-standard"].checklist
Q = {i.code: i.question for i in C.items}
K = {i.code: i.kind for i in C.items}
YES = ("identity_checked", "consent_on_file", "no_heavy_meal", "no_alcohol_drugs", "medications_reviewed",
       "escort_confirmed")  # fmt: skip


def answers(**changes: ItemAnswer | None) -> dict[str, ItemAnswer]:
    a = {c: ItemAnswer(c, "yes") for c in YES}
    a["weight_today"] = ItemAnswer("weight_today", value=70)
    a["phq9_today"] = ItemAnswer("phq9_today", value=18)
    a["pregnancy_status"] = ItemAnswer("pregnancy_status", "not_pregnant")
    for code, answer in changes.items():
        if answer is None:
            a.pop(code)
        else:
            a[code] = answer
    return a


def r(code: str, status: ItemStatus, detail: str = "") -> ItemResult:
    return ItemResult(code, Q[code], status, detail, K[code])


def test_every_item_is_reported_with_its_question_status_and_detail() -> None:
    result = checklist_evaluate(
        C,
        answers(
            no_heavy_meal=ItemAnswer("no_heavy_meal", "no"),
            escort_confirmed=None,
            phq9_today=ItemAnswer("phq9_today", value=30),
            pregnancy_status=ItemAnswer("pregnancy_status", "unknown"),
        ),
        sex="female",
        baseline_problems=(),
        consent_problem=None,
    )
    assert result.items == (
        r("identity_checked", ItemStatus.PASSED),
        r("consent_on_file", ItemStatus.PASSED),
        r("no_heavy_meal", ItemStatus.FAILED, "answered no"),
        r("no_alcohol_drugs", ItemStatus.PASSED),
        r("medications_reviewed", ItemStatus.PASSED),
        r("escort_confirmed", ItemStatus.MISSING),
        r("weight_today", ItemStatus.PASSED),
        r("baseline_vitals", ItemStatus.PASSED),
        r("phq9_today", ItemStatus.FAILED, "out of range"),
        r("pregnancy_status", ItemStatus.FAILED, "answered unknown"),
    )
    assert result.failures == (
        "no_heavy_meal failed",
        "escort_confirmed missing",
        "phq9_today failed",
        "pregnancy_status failed",
    )


def test_items_after_a_failed_consent_and_a_major_interaction_are_still_checked() -> None:
    result = checklist_evaluate(
        C,
        answers(escort_confirmed=ItemAnswer("escort_confirmed", "no")),
        sex="male",
        baseline_problems=(BASELINE_MISSING,),
        consent_problem="not signed: Ketamine treatment consent",
        major_interactions=("tramadol", "linezolid"),
    )
    interaction = MAJOR_INTERACTION_DETAIL.format(value="tramadol, linezolid")
    assert result.items == (
        r("identity_checked", ItemStatus.PASSED),
        r("consent_on_file", ItemStatus.FAILED, "not signed: Ketamine treatment consent"),
        r("no_heavy_meal", ItemStatus.PASSED),
        r("no_alcohol_drugs", ItemStatus.PASSED),
        r("medications_reviewed", ItemStatus.FAILED, interaction),
        r("escort_confirmed", ItemStatus.FAILED, "answered no"),
        r("weight_today", ItemStatus.PASSED),
        r("baseline_vitals", ItemStatus.MISSING, BASELINE_MISSING),
        r("phq9_today", ItemStatus.PASSED),
        r("pregnancy_status", ItemStatus.NOT_APPLICABLE),
    )
    assert result.failures == (
        "consent_on_file failed (not signed: Ketamine treatment consent)",
        f"medications_reviewed failed ({interaction})",
        "escort_confirmed failed",
        "baseline_vitals missing",
    )


def test_a_prescriber_s_sign_off_on_a_major_interaction_is_recorded_with_the_interaction() -> None:
    signed = ItemAnswer("medications_reviewed", "yes", override_reason="Tramadol stopped two weeks ago")
    result = checklist_evaluate(
        C,
        answers(medications_reviewed=signed),
        sex="male",
        baseline_problems=(),
        consent_problem=None,
        major_interactions=("tramadol",),
    )
    item = next(i for i in result.items if i.code == "medications_reviewed")
    assert item == r(
        "medications_reviewed",
        ItemStatus.OVERRIDDEN,
        f"{MAJOR_INTERACTION_DETAIL.format(value='tramadol')}; signed off: Tramadol stopped two weeks ago",
    )
    assert result.passed and result.overridden == ("medications_reviewed",)


def test_an_overridden_failure_keeps_what_failed_and_why_it_was_overridden() -> None:
    result = checklist_evaluate(
        C,
        answers(
            no_heavy_meal=ItemAnswer("no_heavy_meal", "no", override_reason="Only toast three hours ago")
        ),
        sex="male",
        baseline_problems=("systolic 190 mmHg above 180",),
        consent_problem=None,
    )
    assert r(
        "no_heavy_meal", ItemStatus.OVERRIDDEN, "answered no; overridden: Only toast three hours ago"
    ) in (result.items)
    assert r("baseline_vitals", ItemStatus.FAILED, "systolic 190 mmHg above 180") in result.items


def test_a_nurse_may_answer_no_to_the_medications_item_whatever_the_patient_takes() -> None:
    item = item_get(C, "medications_reviewed")
    assert answer_check(item, "no", major_interactions=("tramadol",)).answer == "no"
    assert answer_check(item, "yes").answer == "yes"
    with pytest.raises(ValidationError) as exc:
        answer_check(item, "yes", major_interactions=("tramadol", "linezolid"))
    assert (exc.value.field, exc.value.value) == ("medications_reviewed", "yes")
    assert exc.value.message == MAJOR_INTERACTION_NEEDS_PRESCRIBER.format(
        question=item.question, value="tramadol, linezolid"
    )


def test_a_consent_override_without_a_known_problem_says_the_consent_must_be_on_file() -> None:
    with pytest.raises(ValidationError) as exc:
        override_check(item_get(C, "consent_on_file"), "Patient agreed verbally on the phone")
    assert exc.value.message == CONSENT_NOT_OVERRIDABLE.format(
        question=Q["consent_on_file"], problem="it must be on file"
    )


@pytest.mark.parametrize(
    ("applies_to", "sex", "asked"),
    [
        ("female", "female", True),
        ("female", "male", False),
        ("male", "female", False),
        ("male", "male", True),
        ("female", "other", True),
        ("male", None, True),
    ],
)
def test_an_item_for_one_sex_is_skipped_only_for_the_other_binary_sex(applies_to, sex, asked) -> None:
    item = ChecklistItem(code="x_check", question="Asked?", applies_to_sex=applies_to, source="clinic")
    assert item_applies(item, sex) is asked


def test_the_consent_item_is_asked_of_everyone_whatever_it_says_about_sex() -> None:
    item = ChecklistItem(
        code="consent_x",
        question="Consent?",
        kind=ChecklistKind.CONSENT,
        applies_to_sex="female",
        source="clinic",
    )
    assert item_applies(item, "male") and item_applies(item, None)
