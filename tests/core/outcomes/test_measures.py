"""NQF 1884 and CMS159 by their specifications, on constructed cohorts (issue 9: honest outcome measures).

Lost to follow-up counts as not meeting the measure; the windows are 6 and 12 months ± 60 days, both ends
included; bipolar disorder is excluded; a window not yet closed is pending, never a success or a failure.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.outcomes.measures import (
    CMS159_LABEL,
    NQF1884_LABEL,
    Exclusion,
    MeasurePatient,
    PHQ9Score,
    add_months,
    cms159_remission,
    index_score,
    nqf1884_response,
    window,
)

INDEX = date(2025, 1, 15)
SIX = date(2025, 7, 15)  # index + 6 months
TWELVE = date(2026, 1, 15)  # index + 12 months
PERIOD = {"start": date(2025, 1, 1), "end": date(2025, 12, 31), "as_of": date(2026, 12, 1)}


def patient(
    *scores: tuple[date, int], depression: bool = True, exclusions: frozenset[Exclusion] = frozenset()
) -> MeasurePatient:
    return MeasurePatient(tuple(PHQ9Score(d, t) for d, t in scores), depression, exclusions)


def test_lost_to_follow_up_stays_in_the_denominator_as_not_responding():
    cohort = [
        patient((INDEX, 20), (SIX, 8)),  # responder
        patient((INDEX, 20)),
    ]  # never seen again: lost to follow-up
    r = nqf1884_response(cohort, **PERIOD)
    assert (r.estimate.numerator, r.estimate.n, r.estimate.value) == (1, 2, 50.0)
    assert r.no_follow_up == 1 and r.label == NQF1884_LABEL


def test_a_completers_only_figure_would_differ_the_spec_counts_everyone_indexed():
    """Three indexed, one responds at 6 months: 33%, not the 100% a completers-only count would show."""
    cohort = [
        patient((INDEX, 18), (SIX, 6)),
        patient((INDEX, 18), (INDEX + timedelta(days=21), 6)),
        patient((INDEX, 18)),
    ]
    r = nqf1884_response(cohort, **PERIOD)
    assert (r.estimate.numerator, r.estimate.n) == (1, 3) and r.no_follow_up == 2


def test_an_early_response_outside_the_window_does_not_count():
    lo, _hi = window(INDEX, 6)
    r = nqf1884_response([patient((INDEX, 20), (lo - timedelta(days=1), 4))], **PERIOD)
    assert (r.estimate.numerator, r.estimate.n, r.no_follow_up) == (0, 1, 1)


def test_nqf1884_window_edges_are_included_and_one_day_outside_is_not():
    lo, hi = window(INDEX, 6)
    assert (lo, hi) == (SIX - timedelta(days=60), SIX + timedelta(days=60))
    inside = [patient((INDEX, 20), (lo, 10)), patient((INDEX, 20), (hi, 10))]
    outside = [
        patient((INDEX, 20), (lo - timedelta(days=1), 10)),
        patient((INDEX, 20), (hi + timedelta(days=1), 10)),
    ]
    assert nqf1884_response(inside, **PERIOD).estimate.numerator == 2
    assert nqf1884_response(outside, **PERIOD).estimate.numerator == 0


def test_response_is_at_least_half_the_index_score_and_uses_the_most_recent_score_in_the_window():
    exactly_half = patient((INDEX, 20), (SIX, 10))
    just_above = patient((INDEX, 20), (SIX, 11))
    relapsed_in_window = patient((INDEX, 20), (SIX - timedelta(days=30), 5), (SIX + timedelta(days=30), 15))
    r = nqf1884_response([exactly_half, just_above, relapsed_in_window], **PERIOD)
    assert (r.estimate.numerator, r.estimate.n) == (1, 3)


def test_cms159_remission_is_below_5_at_12_months_with_lost_to_follow_up_counted_as_not_remitted():
    cohort = [
        patient((INDEX, 16), (TWELVE, 4)),  # remission
        patient((INDEX, 16), (TWELVE, 5)),  # 5 is not below 5
        patient((INDEX, 16), (SIX, 2)),  # remitted at 6 months, nothing at 12: not in remission
        patient((INDEX, 16)),
    ]
    r = cms159_remission(cohort, **PERIOD)
    assert (r.estimate.numerator, r.estimate.n, r.no_follow_up) == (1, 4, 2) and r.label == CMS159_LABEL


def test_cms159_window_edges():
    lo, hi = window(INDEX, 12)
    assert (lo, hi) == (TWELVE - timedelta(days=60), TWELVE + timedelta(days=60))
    r = cms159_remission(
        [
            patient((INDEX, 16), (lo, 3)),
            patient((INDEX, 16), (hi, 3)),
            patient((INDEX, 16), (hi + timedelta(days=1), 3)),
        ],
        **PERIOD,
    )
    assert (r.estimate.numerator, r.estimate.n) == (2, 3)


def test_bipolar_disorder_is_excluded_from_the_denominator():
    bipolar = patient((INDEX, 20), (TWELVE, 2), exclusions=frozenset({Exclusion.BIPOLAR}))
    r = cms159_remission([bipolar, patient((INDEX, 20))], **PERIOD)
    assert (r.initial_population, r.excluded, r.estimate.numerator, r.estimate.n) == (2, 1, 0, 1)
    assert nqf1884_response([bipolar], **PERIOD).estimate.n == 0


def test_index_is_the_first_score_above_9_and_only_depression_patients_count():
    p = patient((INDEX - timedelta(days=30), 9), (INDEX, 10), (SIX, 5))
    assert index_score(p) == PHQ9Score(INDEX, 10)
    assert nqf1884_response([p], **PERIOD).estimate.numerator == 1
    never_above_9 = patient((INDEX, 9), (SIX, 2))
    pain_only = patient((INDEX, 20), (SIX, 2), depression=False)
    r = nqf1884_response([never_above_9, pain_only], **PERIOD)
    assert (r.initial_population, r.estimate.n, r.estimate.value) == (0, 0, None)


def test_a_window_not_yet_closed_is_pending_not_a_failure():
    recent = patient((date(2026, 11, 1), 20))  # 6-month window closes in 2027
    r = nqf1884_response([recent], start=date(2026, 1, 1), end=date(2026, 12, 31), as_of=date(2026, 12, 1))
    assert (r.pending, r.estimate.n, r.initial_population) == (1, 0, 1)
    _lo, hi = window(INDEX, 6)
    closes_today = nqf1884_response([patient((INDEX, 20))], start=INDEX, end=INDEX, as_of=hi)
    one_day_early = nqf1884_response(
        [patient((INDEX, 20))], start=INDEX, end=INDEX, as_of=hi - timedelta(days=1)
    )
    assert (closes_today.estimate.n, one_day_early.pending) == (1, 1)


def test_only_index_dates_in_the_period_count():
    r = nqf1884_response([patient((date(2024, 12, 31), 20), (date(2025, 6, 30), 2))], **PERIOD)
    assert r.initial_population == 0


def test_calendar_months_clip_to_the_months_last_day():
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)
    assert add_months(date(2025, 1, 15), 12) == date(2026, 1, 15)


@given(
    st.lists(
        st.tuples(st.integers(0, 27), st.integers(0, 9), st.integers(0, 500), st.booleans(), st.booleans()),
        max_size=30,
    )
)
def test_counts_add_up_and_the_rate_never_exceeds_the_denominator(rows):
    cohort = [
        patient(
            (INDEX, i),
            (INDEX + timedelta(days=d), f),
            exclusions=frozenset({Exclusion.BIPOLAR}) if x else frozenset(),
            depression=dep,
        )
        for i, f, d, x, dep in rows
    ]
    for measure in (nqf1884_response, cms159_remission):
        r = measure(cohort, **PERIOD)
        assert r.initial_population == sum(1 for i, _f, _d, _x, dep in rows if dep and i > 9)
        assert r.initial_population == r.excluded + r.pending + r.estimate.n
        assert r.estimate.numerator is not None and 0 <= r.estimate.numerator <= r.estimate.n - r.no_follow_up


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.sampled_from([6, 12]))
def test_the_window_is_centred_on_the_calendar_month_point(day, months):
    lo, hi = window(day, months)
    assert (hi - lo).days == 120 and lo + timedelta(days=60) == add_months(day, months)
    assert add_months(day, months) > day
