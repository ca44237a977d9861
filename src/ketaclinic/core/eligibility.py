"""Eligibility for ketamine treatment, decided from screening facts and a protocol's eligibility section.

The decision is one of ``eligible``, ``not_eligible`` or ``needs_review``; every rule that fired is a
:class:`Reason`. The worst outcome wins: any exclusion makes the patient not eligible; otherwise any
review item sends the screening to a prescriber; otherwise the patient is eligible. A prescriber
signs the final decision (in the web layer), which may differ from this computed one only with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.indications import indication_get
from ketaclinic.core.protocols.document import ProtocolDocument
from ketaclinic.core.protocols.eligibility import Action


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"


class SubstanceUseStatus(StrEnum):
    NONE = "none"
    PAST = "past"
    ACTIVE = "active"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FailedTrial:
    """A failed treatment trial: an antidepressant (drug, dose, weeks) or a pain treatment."""

    kind: str  # "antidepressant" | "pain_treatment"
    name: str
    weeks: int
    adequate_dose: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("antidepressant", "pain_treatment"):
            raise ValidationError(
                f"Trial kind {self.kind!r} is unknown: allowed are antidepressant, pain_treatment.",
                field="kind",
                value=self.kind,
            )
        if not (0 <= self.weeks <= 520):
            raise ValidationError(
                f"Trial duration {self.weeks} weeks is outside 0–520 weeks.", field="weeks", value=self.weeks
            )


@dataclass(frozen=True, slots=True)
class ScreeningFacts:
    birth_date: date
    decision_date: date
    indication: str
    has_referral: bool
    failed_trials: tuple[FailedTrial, ...] = ()
    substance_use: SubstanceUseStatus = SubstanceUseStatus.NONE
    contraindications: dict[str, Answer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        indication_get(self.indication)  # refuses an unknown indication, naming the allowed ones
        if self.birth_date > self.decision_date:
            raise ValidationError(
                f"Birth date {self.birth_date.isoformat()} is after the screening date "
                f"{self.decision_date.isoformat()}.",
                field="birth_date",
                value=self.birth_date,
            )


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    outcome: Outcome
    message: str


@dataclass(frozen=True, slots=True)
class EligibilityDecision:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    protocol_id: str
    protocol_version: int


_ACTION_OUTCOME = {Action.EXCLUDE: Outcome.NOT_ELIGIBLE, Action.REVIEW: Outcome.NEEDS_REVIEW}
_SEVERITY = {Outcome.ELIGIBLE: 0, Outcome.NEEDS_REVIEW: 1, Outcome.NOT_ELIGIBLE: 2}


def age_in_years(birth_date: date, on: date) -> int:
    """Completed years of age on ``on`` (a birthday on 29 February counts from 1 March in other years)."""
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - int(before_birthday)


def assess_eligibility(facts: ScreeningFacts, protocol: ProtocolDocument) -> EligibilityDecision:
    """Apply every eligibility rule of ``protocol`` to ``facts``."""
    rules = protocol.eligibility
    reasons: list[Reason] = []
    indication = indication_get(facts.indication)

    if facts.indication not in protocol.indications:
        reasons.append(
            Reason(
                "indication_not_covered",
                Outcome.NOT_ELIGIBLE,
                f"Protocol {protocol.id} v{protocol.version} does not cover {indication.label}; "
                f"it covers {', '.join(protocol.indications)}.",
            )
        )

    age = age_in_years(facts.birth_date, facts.decision_date)
    if not rules.age.min_years <= age <= rules.age.max_years:
        reasons.append(
            Reason(
                "age_out_of_range",
                Outcome.NOT_ELIGIBLE,
                f"Age {age} is outside the protocol's range "
                f"{rules.age.min_years}–{rules.age.max_years} years.",
            )
        )

    if indication.category in rules.referral_required_for and not facts.has_referral:
        reasons.append(
            Reason(
                "referral_missing",
                Outcome.NOT_ELIGIBLE,
                f"{indication.label} needs a referral from the treating psychiatrist or mental-health "
                "professional; none is on file.",
            )
        )

    for rule in rules.treatment_resistance:
        if facts.indication not in rule.indications:
            continue
        adequate = [
            t
            for t in facts.failed_trials
            if t.kind == rule.kind and t.adequate_dose and t.weeks >= rule.adequate_trial_min_weeks
        ]
        if len(adequate) < rule.min_failed_trials and rule.action_if_unmet is not Action.ALLOW:
            noun = "antidepressant trials" if rule.kind == "antidepressant" else "pain treatments"
            reasons.append(
                Reason(
                    f"too_few_failed_{rule.kind}_trials",
                    _ACTION_OUTCOME[rule.action_if_unmet],
                    f"{len(adequate)} failed adequate {noun} on record (adequate: at least "
                    f"{rule.adequate_trial_min_weeks} weeks at a therapeutic dose); the protocol requires "
                    f"at least {rule.min_failed_trials}.",
                )
            )

    su_action = {
        SubstanceUseStatus.ACTIVE: rules.substance_use.active,
        SubstanceUseStatus.PAST: rules.substance_use.past,
        SubstanceUseStatus.NONE: Action.ALLOW,
    }[facts.substance_use]
    if su_action is not Action.ALLOW:
        reasons.append(
            Reason(
                f"substance_use_{facts.substance_use.value}",
                _ACTION_OUTCOME[su_action],
                f"{'Active' if facts.substance_use is SubstanceUseStatus.ACTIVE else 'Past'} substance use "
                "on record.",
            )
        )

    known = {c.code for c in rules.contraindications}
    stray = sorted(set(facts.contraindications) - known)
    if stray:
        raise ValidationError(
            f"Answers given for questions the protocol does not ask: {', '.join(stray)}.",
            field="contraindications",
            value=stray,
        )
    for item in rules.contraindications:
        answer = facts.contraindications.get(item.code, Answer.UNKNOWN)
        if answer is Answer.NO:
            continue
        if answer is Answer.UNKNOWN:
            reasons.append(
                Reason(f"unanswered_{item.code}", Outcome.NEEDS_REVIEW, f"Not answered: {item.question}")
            )
        elif item.action is not Action.ALLOW:
            reasons.append(Reason(item.code, _ACTION_OUTCOME[item.action], f"Yes: {item.question}"))

    outcome = max((r.outcome for r in reasons), key=_SEVERITY.__getitem__, default=Outcome.ELIGIBLE)
    return EligibilityDecision(outcome, tuple(reasons), protocol.id, protocol.version)


SIGN_NEEDS_FINAL = "A signed decision is final: choose eligible or not eligible, not {value}."
SIGN_CANNOT_OVERRIDE_EXCLUSION = (
    "The protocol excludes this patient ({reasons}); a prescriber cannot sign eligible over an exclusion. "
    "Change the facts or the protocol instead."
)
SIGN_NOTE_REQUIRED = "A note is required when {why}."


def sign_check(computed: EligibilityDecision, signed: Outcome | str, note: str) -> Outcome:
    """The rules for a prescriber's signature over a computed decision; returns the signed outcome.

    - the signed outcome is final: eligible or not eligible;
    - an exclusion (not eligible) cannot be signed eligible;
    - a note is required whenever the computed decision needed review, or the prescriber disagrees.
    """
    try:
        signed = Outcome(signed)
    except ValueError:
        raise ValidationError(SIGN_NEEDS_FINAL.format(value=signed), field="outcome", value=signed) from None
    if signed is Outcome.NEEDS_REVIEW:
        raise ValidationError(SIGN_NEEDS_FINAL.format(value="needs review"), field="outcome", value=signed)
    if computed.outcome is Outcome.NOT_ELIGIBLE and signed is Outcome.ELIGIBLE:
        excluded = ", ".join(r.code for r in computed.reasons if r.outcome is Outcome.NOT_ELIGIBLE)
        raise ValidationError(
            SIGN_CANNOT_OVERRIDE_EXCLUSION.format(reasons=excluded), field="outcome", value=signed
        )
    needs_note = None
    if computed.outcome is Outcome.NEEDS_REVIEW:
        needs_note = "the screening needed review"
    elif signed is not computed.outcome:
        needs_note = "the signed decision differs from the computed one"
    if needs_note and not note.strip():
        raise ValidationError(SIGN_NOTE_REQUIRED.format(why=needs_note), field="note", value=note)
    return signed
