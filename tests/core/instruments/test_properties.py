"""Properties over every sum-scored shipped instrument (hypothesis)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.instruments import Instrument, score_instrument, shipped_instruments

SUM_SCORED = sorted(i for i, ins in shipped_instruments().items() if ins.scoring.method == "sum")


@st.composite
def administrations(draw: st.DrawFn) -> tuple[Instrument, list[int]]:
    instrument = shipped_instruments()[draw(st.sampled_from(SUM_SCORED))]
    answers = [draw(st.sampled_from(item.allowed())) for item in instrument.items]
    return instrument, answers


def _band_rank(instrument: Instrument, label: str | None) -> int:
    labels = [b.label for b in instrument.bands]
    return labels.index(label) if label is not None else -1


@settings(max_examples=300)
@given(administrations())
def test_total_is_the_sum_and_within_range(case: tuple[Instrument, list[int]]) -> None:
    instrument, answers = case
    result = score_instrument(instrument, answers)
    assert result.total == sum(answers)
    assert result.prorated is False
    assert instrument.scoring.min_total <= result.total <= instrument.scoring.max_total


@settings(max_examples=300)
@given(administrations(), st.data())
def test_adding_one_to_any_answer_never_lowers_total_or_band(case, data) -> None:
    instrument, answers = case
    position = data.draw(st.integers(min_value=0, max_value=len(answers) - 1))
    if answers[position] + 1 not in instrument.items[position].allowed():
        answers[position] -= 1  # at the top: compare one step down against this answer instead
    before = score_instrument(instrument, answers)
    raised = list(answers)
    raised[position] += 1
    after = score_instrument(instrument, raised)
    assert after.total > before.total
    assert _band_rank(instrument, after.severity) >= _band_rank(instrument, before.severity)


@settings(max_examples=300)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9), st.data())
def test_phq9_prorated_total_within_range_and_equal_to_sum_when_nothing_missing(answers, data) -> None:
    phq9 = shipped_instruments()["phq9"]
    full = score_instrument(phq9, answers)
    assert full.exact_total == sum(answers)
    missing = data.draw(st.sets(st.integers(min_value=0, max_value=8), max_size=2))
    gapped = [None if i in missing else a for i, a in enumerate(answers)]
    result = score_instrument(phq9, gapped)
    answered = [a for a in gapped if a is not None]
    assert result.exact_total == Fraction(sum(answered) * 9, len(answered))
    assert 0 <= result.exact_total <= 27
    assert result.prorated is bool(missing)
