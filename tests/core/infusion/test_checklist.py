"""The pre-infusion checklist: answers checked, items passed/failed/missing/overridden/not applicable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import (
    ANSWER_UNKNOWN,
    CONSENT_NOT_ON_FILE,
    CONSENT_NOT_OVERRIDABLE,
    ITEM_UNKNOWN,
    NOT_OVERRIDABLE,
    NUMBER_OUT_OF_RANGE,
    OVERRIDE_REASON_SHORT,
    ItemAnswer,
    ItemStatus,
    answer_check,
    checklist_evaluate,
    item_get,
    override_check,
)
from ketaclinic.core.protocols.monitoring import ChecklistItem, ChecklistKind, ChecklistSection
from ketaclinic.protocols.files import shipped_protocols

C = shipped_protocols()["depression-standard"].checklist
YES = (
    "identity_checked",
    "consent_on_file",
    "no_heavy_meal",
    "no_alcohol_drugs",
    "medications_reviewed",
    "escort_confirmed",
)


def complete(**changes: ItemAnswer) -> dict[str, ItemAnswer]:
    answers = {c: ItemAnswer(c, "yes") for c in YES}
    answers["weight_today"] = ItemAnswer("weight_today", value=70)
    answers["phq9_today"] = ItemAnswer("phq9_today", value=18)
    answers["pregnancy_status"] = ItemAnswer("pregnancy_status", "not_pregnant")
    answers.update(changes)
    return answers


def test_a_complete_checklist_passes() -> None:
    result = checklist_evaluate(C, complete(), sex="female", baseline_problems=(), consent_problem=None)
    assert result.passed and result.failures == () and result.overridden == ()


def test_pregnancy_is_not_applicable_to_men() -> None:
    answers = complete()
    answers.pop("pregnancy_status")
    result = checklist_evaluate(C, answers, sex="male", baseline_problems=(), consent_problem=None)
    assert result.passed
    assert next(i for i in result.items if i.code == "pregnancy_status").status is ItemStatus.NOT_APPLICABLE
    assert not checklist_evaluate(C, answers, sex="female", baseline_problems=(), consent_problem=None).passed


def test_a_no_fails_and_a_missing_item_is_named() -> None:
    answers = complete(no_heavy_meal=ItemAnswer("no_heavy_meal", "no"))
    answers.pop("escort_confirmed")
    result = checklist_evaluate(C, answers, sex="female", baseline_problems=(), consent_problem=None)
    assert not result.passed
    assert result.failures == ("no_heavy_meal failed", "escort_confirmed missing")


def test_an_override_with_a_reason_passes_the_item() -> None:
    answers = complete(
        no_heavy_meal=ItemAnswer("no_heavy_meal", "no", override_reason="Small breakfast 3 h ago, fine")
    )
    result = checklist_evaluate(C, answers, sex="female", baseline_problems=(), consent_problem=None)
    assert result.passed and result.overridden == ("no_heavy_meal",)


def test_baseline_vitals_item_follows_the_baseline_problems() -> None:
    result = checklist_evaluate(
        C,
        complete(),
        sex="female",
        baseline_problems=("baseline SpO2 93 % is below 94 %",),
        consent_problem=None,
    )
    item = next(i for i in result.items if i.code == "baseline_vitals")
    assert item.status is ItemStatus.FAILED and "SpO2" in item.detail
    missing = checklist_evaluate(
        C,
        complete(),
        sex="female",
        baseline_problems=("no baseline vital signs recorded",),
        consent_problem=None,
    )
    assert "baseline_vitals missing" in missing.failures


def test_a_pregnant_answer_fails() -> None:
    result = checklist_evaluate(
        C,
        complete(pregnancy_status=ItemAnswer("pregnancy_status", "pregnant")),
        sex="female",
        baseline_problems=(),
        consent_problem=None,
    )
    assert result.failures == ("pregnancy_status failed",)


@pytest.mark.parametrize(
    ("code", "answer", "value", "message"),
    [
        (
            "no_heavy_meal",
            "maybe",
            None,
            ANSWER_UNKNOWN.format(
                value="maybe", question=C.item("no_heavy_meal").question, allowed="yes, no"
            ),
        ),
        (
            "phq9_today",
            "",
            28,
            NUMBER_OUT_OF_RANGE.format(question=C.item("phq9_today").question, value=28, low=0, high=27),
        ),
        (
            "phq9_today",
            "",
            -1,
            NUMBER_OUT_OF_RANGE.format(question=C.item("phq9_today").question, value=-1, low=0, high=27),
        ),
    ],
)
def test_bad_answers_are_refused(code, answer, value, message) -> None:
    with pytest.raises(ValidationError) as exc:
        answer_check(C.item(code), answer, value)
    assert exc.value.message == message


def test_a_number_is_required() -> None:
    with pytest.raises(ValidationError, match="a number from 0 to 27 is required"):
        answer_check(C.item("phq9_today"), "", None)


def test_unknown_item() -> None:
    with pytest.raises(ValidationError) as exc:
        item_get(C, "horoscope")
    assert exc.value.message == ITEM_UNKNOWN.format(value="horoscope")


def test_identity_cannot_be_overridden_and_reasons_must_say_why() -> None:
    with pytest.raises(ValidationError) as exc:
        override_check(C.item("identity_checked"), "Known to staff for years")
    assert exc.value.message == NOT_OVERRIDABLE.format(question=C.item("identity_checked").question)
    with pytest.raises(ValidationError) as exc:
        override_check(C.item("no_heavy_meal"), "ok")
    assert exc.value.message == OVERRIDE_REASON_SHORT.format(low=10)
    assert (
        override_check(C.item("no_heavy_meal"), "  Light toast only, 3 h ago  ")
        == "Light toast only, 3 h ago"
    )


def test_an_override_on_a_non_overridable_item_is_ignored_by_the_evaluation() -> None:
    answers = complete(
        identity_checked=ItemAnswer("identity_checked", "no", override_reason="should not count at all")
    )
    assert checklist_evaluate(
        C, answers, sex="female", baseline_problems=(), consent_problem=None
    ).failures == ("identity_checked failed",)


MISSING = "Not signed: Informed consent for ketamine infusion v1"


def test_consent_not_on_file_fails_the_item_whatever_was_answered_or_overridden() -> None:
    answers = complete(
        consent_on_file=ItemAnswer("consent_on_file", "yes", override_reason="Patient said she signed")
    )
    result = checklist_evaluate(C, answers, sex="female", baseline_problems=(), consent_problem=MISSING)
    item = next(i for i in result.items if i.code == "consent_on_file")
    assert item.status is ItemStatus.FAILED and item.detail == MISSING
    assert result.failures == (f"consent_on_file failed ({MISSING})",) and result.overridden == ()


def test_consent_on_file_still_needs_the_nurses_confirmation() -> None:
    answers = complete()
    answers.pop("consent_on_file")
    result = checklist_evaluate(C, answers, sex="female", baseline_problems=(), consent_problem=None)
    assert result.failures == ("consent_on_file missing",)


def test_yes_to_consent_without_it_is_refused_and_it_is_never_overridable() -> None:
    item = C.item("consent_on_file")
    with pytest.raises(ValidationError) as exc:
        answer_check(item, "yes", consent_problem=MISSING)
    assert exc.value.message == CONSENT_NOT_ON_FILE.format(question=item.question, problem=MISSING)
    assert answer_check(item, "no", consent_problem=MISSING).answer == "no"
    assert answer_check(item, "yes", consent_problem=None).answer == "yes"
    with pytest.raises(ValidationError) as exc:
        override_check(item, "Signed on paper, scanning later", consent_problem=MISSING)
    assert exc.value.message == CONSENT_NOT_OVERRIDABLE.format(question=item.question, problem=MISSING)


def test_consent_is_never_not_applicable_whatever_the_protocol_says_about_sex() -> None:
    consent = C.item("consent_on_file")
    assert consent is not None
    women_only = C.model_copy(
        update={
            "items": tuple(
                i.model_copy(update={"applies_to_sex": "female"}) if i.code == "consent_on_file" else i
                for i in C.items
            )
        }
    )
    answers = complete()
    answers.pop("pregnancy_status")
    result = checklist_evaluate(
        women_only, answers, sex="male", baseline_problems=(), consent_problem=MISSING
    )
    item = next(i for i in result.items if i.code == "consent_on_file")
    assert item.status is ItemStatus.FAILED and item.detail == MISSING and not result.passed
    answers.pop("consent_on_file")
    result = checklist_evaluate(women_only, answers, sex="male", baseline_problems=(), consent_problem=None)
    assert result.failures == ("consent_on_file missing",)  # the nurse's confirmation is still needed


# --- the checklist knows its items by the kind they declare, never by their code
# -------------------------------

RENAMED = C.model_copy(
    update={
        "items": tuple(
            i.model_copy(
                update={
                    "code": {"consent_on_file": "consent_signed", "medications_reviewed": "meds_ok"}.get(
                        i.code, i.code
                    )
                }
            )
            for i in C.items
        )
    }
)


def test_a_consent_item_under_another_code_is_still_backed_by_the_signed_consent() -> None:
    item = item_get(RENAMED, "consent_signed")
    assert item.kind is ChecklistKind.CONSENT
    with pytest.raises(ValidationError) as exc:
        answer_check(item, "yes", consent_problem="not signed: Ketamine treatment consent")
    assert exc.value.message == CONSENT_NOT_ON_FILE.format(
        question=item.question, problem="not signed: Ketamine treatment consent"
    )
    with pytest.raises(ValidationError, match="cannot be overridden by anyone"):
        override_check(item, "the patient said yes on the phone", consent_problem="not signed")
    answers = {
        ("consent_signed" if k == "consent_on_file" else "meds_ok" if k == "medications_reviewed" else k): v
        for k, v in complete().items()
    }
    answers = {k: ItemAnswer(k, v.answer, v.value) for k, v in answers.items()}
    failed = checklist_evaluate(
        RENAMED, answers, sex="male", baseline_problems=(), consent_problem="not signed"
    )
    assert failed.failures == ("consent_signed failed (not signed)",)


def test_a_medications_review_under_another_code_still_needs_the_prescriber_for_a_major_interaction() -> None:
    item = item_get(RENAMED, "meds_ok")
    with pytest.raises(ValidationError, match="a major interaction with ketamine"):
        answer_check(item, "yes", major_interactions=("tramadol",))
    assert answer_check(item, "yes").answer == "yes"


def test_a_plain_confirm_item_named_like_consent_is_not_a_consent_item_once_kinds_are_declared() -> None:
    plain = ChecklistItem(code="consent_on_file", question="Leaflet given?", kind="confirm", source="clinic")
    # an older stored document said the consent item by its code: it keeps the consent check
    assert plain.kind is ChecklistKind.CONSENT
    other = ChecklistItem(code="leaflet_given", question="Leaflet given?", kind="confirm", source="clinic")
    assert other.kind is ChecklistKind.CONFIRM
    assert answer_check(other, "yes", consent_problem="not signed").answer == "yes"


def test_a_checklist_has_one_consent_item_and_a_phq9_item_keeps_to_0_to_27() -> None:
    consent = ChecklistItem(code="consent_a", question="Consent?", kind="consent", source="clinic")
    with pytest.raises(PydanticValidationError, match="at most one item of kind consent"):
        ChecklistSection(items=(consent, consent.model_copy(update={"code": "consent_b"})))
    with pytest.raises(PydanticValidationError, match="lie within 0-27"):
        ChecklistItem(code="phq", question="PHQ-9 today", kind="phq9_today", min=0, max=30, source="clinic")
    phq = ChecklistItem(code="phq", question="PHQ-9 today", kind="phq9_today", min=0, max=27, source="clinic")
    assert phq.kind.answer_form == "number"
    with pytest.raises(ValidationError) as exc:
        answer_check(phq, value=28)
    assert exc.value.message == NUMBER_OUT_OF_RANGE.format(question="PHQ-9 today", value=28, low=0, high=27)


def test_every_kind_says_how_it_is_answered() -> None:
    assert {k: k.answer_form for k in ChecklistKind} == {
        ChecklistKind.CONFIRM: "yes_no",
        ChecklistKind.CONSENT: "yes_no",
        ChecklistKind.MEDICATIONS_REVIEW: "yes_no",
        ChecklistKind.PREGNANCY: "pregnancy",
        ChecklistKind.WEIGHT: "weight",
        ChecklistKind.NUMBER: "number",
        ChecklistKind.PHQ9_TODAY: "number",
        ChecklistKind.BASELINE_VITALS: "reading",
    }
