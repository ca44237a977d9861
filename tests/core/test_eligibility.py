"""Every eligibility rule of the shipped depression protocol, with its edges, and the signing rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.eligibility import (
    SIGN_CANNOT_OVERRIDE_EXCLUSION,
    SIGN_NEEDS_FINAL,
    Answer,
    FailedTrial,
    Outcome,
    ScreeningFacts,
    SubstanceUseStatus,
    age_in_years,
    assess_eligibility,
    sign_check,
)
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.indications import UNKNOWN_INDICATION
from ketaclinic.protocols.files import shipped_protocol

PROTOCOL = shipped_protocol("depression-standard")
TODAY = date(2026, 11, 25)
ALL_NO = {c.code: Answer.NO for c in PROTOCOL.eligibility.contraindications}
TWO_TRIALS = (FailedTrial("antidepressant", "sertraline", 8), FailedTrial("antidepressant", "bupropion", 6))


def born_years_ago(years: int, days_after_birthday: int = 0) -> date:
    """A birth date making the patient exactly ``years`` old on TODAY (plus some days past the birthday)."""
    d = TODAY.replace(year=TODAY.year - years)
    return date.fromordinal(d.toordinal() - days_after_birthday)


def facts(**overrides) -> ScreeningFacts:
    base: dict[str, Any] = dict(
        birth_date=born_years_ago(40),
        decision_date=TODAY,
        indication="trd",
        has_referral=True,
        failed_trials=TWO_TRIALS,
        substance_use=SubstanceUseStatus.NONE,
        contraindications=dict(ALL_NO),
    )
    base.update(overrides)
    return ScreeningFacts(**base)


def codes(decision) -> set[str]:
    return {r.code for r in decision.reasons}


def test_a_typical_trd_patient_is_eligible_with_no_reasons():
    decision = assess_eligibility(facts(), PROTOCOL)
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.reasons == ()
    assert (decision.protocol_id, decision.protocol_version) == ("depression-standard", PROTOCOL.version)


@pytest.mark.parametrize(
    ("age", "outcome"),
    [
        (17, Outcome.NOT_ELIGIBLE),
        (18, Outcome.ELIGIBLE),
        (40, Outcome.ELIGIBLE),
        (65, Outcome.ELIGIBLE),
        (66, Outcome.NOT_ELIGIBLE),
    ],
)
def test_age_edges_of_the_18_to_65_range(age, outcome):
    decision = assess_eligibility(facts(birth_date=born_years_ago(age)), PROTOCOL)
    assert decision.outcome is outcome
    assert ("age_out_of_range" in codes(decision)) is (outcome is Outcome.NOT_ELIGIBLE)


def test_the_day_before_the_18th_birthday_is_still_17():
    decision = assess_eligibility(facts(birth_date=date(2008, 11, 26)), PROTOCOL)
    assert decision.outcome is Outcome.NOT_ELIGIBLE
    assert "Age 17" in decision.reasons[0].message


def test_on_the_66th_birthday_the_patient_is_out_of_range_but_the_day_before_is_not():
    assert assess_eligibility(facts(birth_date=date(1960, 11, 25)), PROTOCOL).outcome is Outcome.NOT_ELIGIBLE
    assert assess_eligibility(facts(birth_date=date(1960, 11, 26)), PROTOCOL).outcome is Outcome.ELIGIBLE


def test_leap_day_birthday_counts_from_the_first_of_march():
    assert age_in_years(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_in_years(date(2008, 2, 29), date(2026, 3, 1)) == 18


@pytest.mark.parametrize(
    ("trials", "outcome"),
    [
        ((), Outcome.NOT_ELIGIBLE),
        (TWO_TRIALS[:1], Outcome.NOT_ELIGIBLE),
        (TWO_TRIALS, Outcome.ELIGIBLE),
        (TWO_TRIALS + (FailedTrial("antidepressant", "escitalopram", 10),), Outcome.ELIGIBLE),
    ],
)
def test_trd_needs_two_failed_adequate_antidepressant_trials(trials, outcome):
    decision = assess_eligibility(facts(failed_trials=trials), PROTOCOL)
    assert decision.outcome is outcome
    if outcome is Outcome.NOT_ELIGIBLE:
        assert codes(decision) == {"too_few_failed_antidepressant_trials"}
        assert f"{len(trials)} failed adequate antidepressant trials" in decision.reasons[0].message


def test_a_trial_shorter_than_six_weeks_is_not_adequate():
    short = (TWO_TRIALS[0], FailedTrial("antidepressant", "bupropion", 5))
    assert assess_eligibility(facts(failed_trials=short), PROTOCOL).outcome is Outcome.NOT_ELIGIBLE
    exactly_six = (TWO_TRIALS[0], FailedTrial("antidepressant", "bupropion", 6))
    assert assess_eligibility(facts(failed_trials=exactly_six), PROTOCOL).outcome is Outcome.ELIGIBLE


def test_a_trial_at_a_subtherapeutic_dose_is_not_adequate():
    low = (TWO_TRIALS[0], FailedTrial("antidepressant", "sertraline", 12, adequate_dose=False))
    assert assess_eligibility(facts(failed_trials=low), PROTOCOL).outcome is Outcome.NOT_ELIGIBLE


def test_pain_treatments_do_not_count_as_antidepressant_trials():
    mixed = (TWO_TRIALS[0], FailedTrial("pain_treatment", "gabapentin", 12))
    assert assess_eligibility(facts(failed_trials=mixed), PROTOCOL).outcome is Outcome.NOT_ELIGIBLE


def test_mdd_with_no_failed_trial_needs_review_not_exclusion():
    decision = assess_eligibility(facts(indication="mdd", failed_trials=()), PROTOCOL)
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert codes(decision) == {"too_few_failed_antidepressant_trials"}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (SubstanceUseStatus.NONE, Outcome.ELIGIBLE),
        (SubstanceUseStatus.PAST, Outcome.NEEDS_REVIEW),
        (SubstanceUseStatus.ACTIVE, Outcome.NOT_ELIGIBLE),
    ],
)
def test_substance_use_history(status, outcome):
    decision = assess_eligibility(facts(substance_use=status), PROTOCOL)
    assert decision.outcome is outcome
    assert ("substance_use_" + status.value in codes(decision)) is (status is not SubstanceUseStatus.NONE)


def test_psychiatric_indication_without_a_referral_is_not_eligible():
    decision = assess_eligibility(facts(has_referral=False), PROTOCOL)
    assert decision.outcome is Outcome.NOT_ELIGIBLE
    assert codes(decision) == {"referral_missing"}


def test_an_indication_the_protocol_does_not_cover_is_not_eligible():
    decision = assess_eligibility(facts(indication="crps"), PROTOCOL)
    assert "indication_not_covered" in codes(decision)
    assert decision.outcome is Outcome.NOT_ELIGIBLE


@pytest.mark.parametrize("item", PROTOCOL.eligibility.contraindications, ids=lambda c: c.code)
def test_every_contraindication_question_applies_its_action(item):
    answers = dict(ALL_NO, **{item.code: Answer.YES})
    decision = assess_eligibility(facts(contraindications=answers), PROTOCOL)
    expected = {"exclude": Outcome.NOT_ELIGIBLE, "review": Outcome.NEEDS_REVIEW}[item.action.value]
    assert decision.outcome is expected
    assert codes(decision) == {item.code}
    assert item.question in decision.reasons[0].message


@pytest.mark.parametrize("item", PROTOCOL.eligibility.contraindications, ids=lambda c: c.code)
def test_an_unanswered_question_sends_the_screening_to_review(item):
    answers = {k: v for k, v in ALL_NO.items() if k != item.code}
    decision = assess_eligibility(facts(contraindications=answers), PROTOCOL)
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert codes(decision) == {f"unanswered_{item.code}"}


def test_answers_to_questions_the_protocol_does_not_ask_are_refused():
    with pytest.raises(ValidationError, match="does not ask: made_up"):
        assess_eligibility(facts(contraindications=dict(ALL_NO, made_up=Answer.YES)), PROTOCOL)


def test_an_unknown_indication_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValidationError) as exc:
        facts(indication="insomnia")
    assert exc.value.message == UNKNOWN_INDICATION.format(
        value="insomnia", allowed=exc.value.message.split("allowed are ")[1][:-1]
    )
    assert exc.value.field == "indication"
    assert "trd" in exc.value.message


def test_a_birth_date_after_the_screening_date_is_refused():
    with pytest.raises(ValidationError, match="after the screening date"):
        facts(birth_date=date(2027, 1, 1))


@pytest.mark.parametrize("weeks", [-1, 521])
def test_absurd_trial_durations_are_refused(weeks):
    with pytest.raises(ValidationError, match="outside 0–520 weeks"):
        FailedTrial("antidepressant", "sertraline", weeks)


def test_all_failures_are_reported_together_and_the_worst_wins():
    decision = assess_eligibility(
        facts(
            birth_date=born_years_ago(70),
            failed_trials=(),
            substance_use=SubstanceUseStatus.PAST,
            has_referral=False,
        ),
        PROTOCOL,
    )
    assert decision.outcome is Outcome.NOT_ELIGIBLE
    assert codes(decision) == {
        "age_out_of_range",
        "too_few_failed_antidepressant_trials",
        "substance_use_past",
        "referral_missing",
    }


answers_st = st.fixed_dictionaries(
    {c.code: st.sampled_from(list(Answer)) for c in PROTOCOL.eligibility.contraindications}
)


@given(
    age=st.integers(0, 110),
    n_trials=st.integers(0, 2),
    su=st.sampled_from(list(SubstanceUseStatus)),
    referral=st.booleans(),
    answers=answers_st,
)
def test_outcome_is_the_worst_reason_and_a_yes_never_improves_it(age, n_trials, su, referral, answers):
    common = dict(
        birth_date=born_years_ago(age),
        failed_trials=TWO_TRIALS[:n_trials],
        substance_use=su,
        has_referral=referral,
    )
    decision = assess_eligibility(facts(contraindications=answers, **common), PROTOCOL)
    outcomes = {r.outcome for r in decision.reasons}
    if Outcome.NOT_ELIGIBLE in outcomes:
        assert decision.outcome is Outcome.NOT_ELIGIBLE
    elif outcomes:
        assert decision.outcome is Outcome.NEEDS_REVIEW
    else:
        assert decision.outcome is Outcome.ELIGIBLE
    worse = assess_eligibility(facts(contraindications={k: Answer.YES for k in answers}, **common), PROTOCOL)
    rank = [Outcome.ELIGIBLE, Outcome.NEEDS_REVIEW, Outcome.NOT_ELIGIBLE]
    assert rank.index(worse.outcome) >= rank.index(decision.outcome)


class TestSigning:
    def decision(self, **overrides):
        return assess_eligibility(facts(**overrides), PROTOCOL)

    def test_eligible_signed_eligible_needs_no_note(self):
        assert sign_check(self.decision(), "eligible", "") is Outcome.ELIGIBLE

    def test_disagreeing_with_an_eligible_decision_needs_a_note(self):
        with pytest.raises(ValidationError, match="differs from the computed"):
            sign_check(self.decision(), "not_eligible", " ")
        assert (
            sign_check(self.decision(), "not_eligible", "Unstable housing; revisit") is Outcome.NOT_ELIGIBLE
        )

    def test_a_needs_review_decision_needs_a_note_either_way(self):
        d = self.decision(substance_use=SubstanceUseStatus.PAST)
        for outcome in ("eligible", "not_eligible"):
            with pytest.raises(ValidationError, match="needed review"):
                sign_check(d, outcome, "")
        assert sign_check(d, "eligible", "In remission 5 years, verified") is Outcome.ELIGIBLE

    def test_an_exclusion_cannot_be_signed_eligible_even_with_a_note(self):
        d = self.decision(birth_date=born_years_ago(17))
        with pytest.raises(ValidationError) as exc:
            sign_check(d, "eligible", "I insist")
        assert exc.value.message == SIGN_CANNOT_OVERRIDE_EXCLUSION.format(reasons="age_out_of_range")
        assert sign_check(d, "not_eligible", "") is Outcome.NOT_ELIGIBLE

    @pytest.mark.parametrize("outcome", ["needs_review", "maybe", ""])
    def test_the_signed_outcome_must_be_final(self, outcome):
        with pytest.raises(ValidationError) as exc:
            sign_check(self.decision(), outcome, "note")
        assert exc.value.message.startswith(SIGN_NEEDS_FINAL.split("{")[0])
