"""The pre-infusion checklist: each item of the protocol answered, failed, or overridden by a prescriber.

The infusion may start only when every applicable item passes or is overridden with a reason (items
the protocol marks ``prescriber_may_override: false`` cannot be overridden by anyone).

The consent item (kind ``consent``) is not only the nurse's word: the caller says whether the
patient's current consent is signed (``consent_problem``: None when it is, else what is missing). The item
passes only when the consent is on file *and* the nurse confirmed it; answering "yes" without it is refused,
and nobody can override it, whatever the protocol says (consent is the patient's, not a clinical judgement).
It applies to every patient (``applies_to_sex`` is ignored for it). The session services also check the
consent on file directly before the pre-checks pass and the infusion starts, so a protocol whose checklist
lacks the item still cannot start an infusion without consent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.vitals import BASELINE_MISSING
from ketaclinic.core.protocols.monitoring import ChecklistItem, ChecklistKind, ChecklistSection


class ItemStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    OVERRIDDEN = "overridden"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"


CONFIRM_ANSWERS = ("yes", "no")
PREGNANCY_ANSWERS = ("not_pregnant", "pregnant", "unknown")
ANSWER_UNKNOWN = "Answer {value!r} to {question!r} is not allowed: allowed are {allowed}."
NUMBER_REQUIRED = "{question}: a number from {low:g} to {high:g} is required, got {value!r}."
NUMBER_OUT_OF_RANGE = "{question}: {value:g} is outside {low:g}–{high:g}."
ITEM_UNKNOWN = "Checklist item {value!r} is not in this protocol's checklist."
NOT_OVERRIDABLE = "{question}: this item cannot be overridden; it must pass."
OVERRIDE_REASON_SHORT = "An override needs a reason of at least {low} characters."
OVERRIDE_NOT_NEEDED = "{question}: the item has passed; there is nothing to override."
MIN_OVERRIDE_REASON_CHARS = 10
CONSENT_NOT_ON_FILE = (
    "{question}: the patient's consent is not on file ({problem}). Collect the signature first."
)
MAJOR_INTERACTION_NEEDS_PRESCRIBER = (
    "{question}: the patient takes {value}, a major interaction with ketamine; "
    'a nurse\'s "yes" is not enough. '
    "A prescriber must review it and sign off on this item with a reason."
)
MAJOR_INTERACTION_DETAIL = "major interaction needs a prescriber's sign-off: {value}"
CONSENT_NOT_OVERRIDABLE = (
    "{question}: consent cannot be overridden by anyone; the patient must sign the current "
    "consent document ({problem})."
)


@dataclass(frozen=True, slots=True)
class ItemAnswer:
    code: str
    answer: str = ""  # yes/no, not_pregnant/pregnant/unknown
    value: float | None = None  # number and weight items
    override_reason: str = ""


def item_get(section: ChecklistSection, code: str) -> ChecklistItem:
    item = section.item(code)
    if item is None:
        raise ValidationError(ITEM_UNKNOWN.format(value=code), field="item", value=code)
    return item


def item_applies(item: ChecklistItem, sex: str | None) -> bool:
    """Whether the item is asked for a patient of this recorded sex at birth. ``not_applicable_to_sex``
    skips it
    only for that sex; the older ``applies_to_sex`` skips it only for the OTHER binary sex, so a patient whose
    sex is other or unknown is always asked (pregnancy is asked unless the sex at birth is male)."""
    if item.kind is ChecklistKind.CONSENT:
        return True
    if item.not_applicable_to_sex is not None and sex == item.not_applicable_to_sex:
        return False
    return not (item.applies_to_sex is not None and sex in ("female", "male") and sex != item.applies_to_sex)


def answer_check(
    item: ChecklistItem,
    answer: str = "",
    value: float | None = None,
    *,
    consent_problem: str | None = None,
    major_interactions: tuple[str, ...] = (),
) -> ItemAnswer:
    """Refuse an answer of the wrong kind or out of range (a failing but valid answer is accepted), a
    "yes" to the consent item while the consent is not on file (``consent_problem`` says what is missing),
    and a
    "yes" to the medications item while the patient takes a medication with a major interaction
    (``major_interactions``: those medications): a prescriber signs that item off instead."""
    if item.kind.answer_form == "yes_no":
        if answer not in CONFIRM_ANSWERS:
            raise ValidationError(
                ANSWER_UNKNOWN.format(value=answer, question=item.question, allowed="yes, no"),
                field=item.code,
                value=answer,
            )
        if item.kind is ChecklistKind.MEDICATIONS_REVIEW and answer == "yes" and major_interactions:
            raise ValidationError(
                MAJOR_INTERACTION_NEEDS_PRESCRIBER.format(
                    question=item.question, value=", ".join(major_interactions)
                ),
                field=item.code,
                value=answer,
            )
        if item.kind is ChecklistKind.CONSENT and answer == "yes" and consent_problem is not None:
            raise ValidationError(
                CONSENT_NOT_ON_FILE.format(question=item.question, problem=consent_problem),
                field=item.code,
                value=answer,
            )
    elif item.kind is ChecklistKind.PREGNANCY:
        if answer not in PREGNANCY_ANSWERS:
            raise ValidationError(
                ANSWER_UNKNOWN.format(
                    value=answer, question=item.question, allowed=", ".join(PREGNANCY_ANSWERS)
                ),
                field=item.code,
                value=answer,
            )
    elif item.kind.answer_form in ("number", "weight"):
        low, high = (
            item.min if item.min is not None else -math.inf,
            item.max if item.max is not None else math.inf,
        )
        if value is None or not math.isfinite(value):
            raise ValidationError(
                NUMBER_REQUIRED.format(question=item.question, low=low, high=high, value=value),
                field=item.code,
                value=value,
            )
        if not low <= value <= high:
            raise ValidationError(
                NUMBER_OUT_OF_RANGE.format(question=item.question, value=value, low=low, high=high),
                field=item.code,
                value=value,
            )
    return ItemAnswer(item.code, answer, value)


def override_check(item: ChecklistItem, reason: str, *, consent_problem: str | None = None) -> str:
    if item.kind is ChecklistKind.CONSENT:
        raise ValidationError(
            CONSENT_NOT_OVERRIDABLE.format(
                question=item.question, problem=consent_problem or "it must be on file"
            ),
            field=item.code,
            value=reason,
        )
    if not item.prescriber_may_override:
        raise ValidationError(NOT_OVERRIDABLE.format(question=item.question), field=item.code, value=reason)
    text = (reason or "").strip()
    if len(text) < MIN_OVERRIDE_REASON_CHARS:
        raise ValidationError(
            OVERRIDE_REASON_SHORT.format(low=MIN_OVERRIDE_REASON_CHARS), field="reason", value=reason
        )
    return text


@dataclass(frozen=True, slots=True)
class ItemResult:
    code: str
    question: str
    status: ItemStatus
    detail: str = ""
    kind: ChecklistKind = ChecklistKind.CONFIRM


# a failure of these kinds says what is missing (the consent documents, the interacting medications)
_DETAIL_IN_FAILURES = (ChecklistKind.CONSENT, ChecklistKind.MEDICATIONS_REVIEW)


@dataclass(frozen=True, slots=True)
class ChecklistResult:
    items: tuple[ItemResult, ...]

    @property
    def passed(self) -> bool:
        return all(
            i.status in (ItemStatus.PASSED, ItemStatus.OVERRIDDEN, ItemStatus.NOT_APPLICABLE)
            for i in self.items
        )

    @property
    def failures(self) -> tuple[str, ...]:
        """What still blocks the start, as short phrases for a message (the consent item says what is
        missing)."""
        return tuple(
            f"{i.code} {i.status.value}"
            + (f" ({i.detail})" if i.kind in _DETAIL_IN_FAILURES and i.detail else "")
            for i in self.items
            if i.status in (ItemStatus.FAILED, ItemStatus.MISSING)
        )

    @property
    def overridden(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items if i.status is ItemStatus.OVERRIDDEN)


def _item_passes(item: ChecklistItem, a: ItemAnswer, baseline_problems: tuple[str, ...]) -> tuple[bool, str]:
    if item.kind.answer_form == "yes_no":
        return a.answer == "yes", "" if a.answer == "yes" else "answered no"
    if item.kind is ChecklistKind.PREGNANCY:
        return a.answer == "not_pregnant", "" if a.answer == "not_pregnant" else f"answered {a.answer}"
    if item.kind is ChecklistKind.BASELINE_VITALS:
        return not baseline_problems, "; ".join(baseline_problems)
    ok = (
        a.value is not None
        and (item.min is None or a.value >= item.min)
        and (item.max is None or a.value <= item.max)
    )
    return ok, "" if ok else "out of range"


def checklist_evaluate(
    section: ChecklistSection,
    answers: dict[str, ItemAnswer],
    *,
    sex: str | None,
    baseline_problems: tuple[str, ...],
    consent_problem: str | None,
    major_interactions: tuple[str, ...] = (),
) -> ChecklistResult:
    """Each item's status. The baseline-vitals item is evaluated from ``baseline_problems`` (no answer
    needed);
    the consent item fails while ``consent_problem`` is set (what is missing), whatever was answered or
    overridden,
    and applies to everyone (an ``applies_to_sex`` on it is ignored: consent is never "not applicable").
    While ``major_interactions`` is not empty, the medications item passes only with a prescriber's sign-off
    (an override with a reason), whatever the nurse answered."""
    results = []
    for item in section.items:
        if not item_applies(item, sex):
            results.append(ItemResult(item.code, item.question, ItemStatus.NOT_APPLICABLE, kind=item.kind))
            continue
        a = answers.get(item.code)
        if item.kind is ChecklistKind.MEDICATIONS_REVIEW and major_interactions:
            detail = MAJOR_INTERACTION_DETAIL.format(value=", ".join(major_interactions))
            if a is not None and a.override_reason and item.prescriber_may_override:
                results.append(
                    ItemResult(
                        item.code,
                        item.question,
                        ItemStatus.OVERRIDDEN,
                        f"{detail}; signed off: {a.override_reason}",
                        item.kind,
                    )
                )
            else:
                results.append(ItemResult(item.code, item.question, ItemStatus.FAILED, detail, item.kind))
            continue
        if item.kind is ChecklistKind.CONSENT and consent_problem is not None:
            results.append(
                ItemResult(item.code, item.question, ItemStatus.FAILED, consent_problem, item.kind)
            )
            continue
        if a is None and item.kind is ChecklistKind.BASELINE_VITALS:
            a = ItemAnswer(item.code)
        if a is None:
            results.append(ItemResult(item.code, item.question, ItemStatus.MISSING, kind=item.kind))
            continue
        ok, detail = _item_passes(item, a, baseline_problems)
        if ok:
            results.append(ItemResult(item.code, item.question, ItemStatus.PASSED, kind=item.kind))
        elif a.override_reason and item.prescriber_may_override and item.kind is not ChecklistKind.CONSENT:
            results.append(
                ItemResult(
                    item.code,
                    item.question,
                    ItemStatus.OVERRIDDEN,
                    f"{detail}; overridden: {a.override_reason}",
                    item.kind,
                )
            )
        elif item.kind is ChecklistKind.BASELINE_VITALS and detail == BASELINE_MISSING:
            results.append(ItemResult(item.code, item.question, ItemStatus.MISSING, detail, item.kind))
        else:
            results.append(ItemResult(item.code, item.question, ItemStatus.FAILED, detail, item.kind))
    return ChecklistResult(tuple(results))
