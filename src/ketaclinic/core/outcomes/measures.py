"""The two published depression quality measures, computed by their specifications (pure).

A dashboard may show a figure under a measure's name only when it is computed as the measure specifies
(DOMAIN.md §5 "Quality measures, as specified"); the clinic's own short-term figures on completers are
labelled as the clinic's own definitions elsewhere.

* **CBE/NQF 1884, Depression Response at Six Months** (:func:`nqf1884_response`): patients with major
  depression or dysthymia and an index PHQ-9 above 9; numerator = the most recent PHQ-9 in the window
  6 months ± 60 days after the index date is at most half the index total (a reduction of 50 % or more).
  A patient **without a PHQ-9 in the window stays in the denominator**, counted as not responding.
* **CMS159 (CBE 0710e), Depression Remission at Twelve Months** (:func:`cms159_remission`): same initial
  population; numerator = the most recent PHQ-9 in 12 months ± 60 days after the index date is below 5;
  denominator = the initial population less the exclusions (bipolar disorder, personality disorder,
  schizophrenia or psychotic disorder, pervasive developmental disorder, death, hospice or palliative
  care). No follow-up in the window = not in remission.

The index date is the date of the patient's first PHQ-9 above 9 (the index event). A patient is counted
only once the window has closed on ``as_of`` (index + N months + 60 days on or before ``as_of``): before
that the outcome is not yet known, and the patient is reported as *pending*, never as a success or a
failure. Months are calendar months (a 31st becomes the month's last day).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ketaclinic.core.outcomes.stats import Estimate, proportion_estimate

INDEX_ABOVE = 9  # index PHQ-9 > 9
WINDOW_DAYS = 60  # ± 60 days around the 6- or 12-month point
NQF1884_MONTHS = 6
CMS159_MONTHS = 12
RESPONSE_FRACTION = 0.5  # NQF 1884: a reduction of 50 % or more from the index total
REMISSION_BELOW = 5  # CMS159: the most recent PHQ-9 in the window below 5

NQF1884_LABEL = "Depression response at 6 months (NQF 1884)"
CMS159_LABEL = "Depression remission at 12 months (CMS159)"


class Exclusion(StrEnum):
    """The denominator exclusions of CMS159 (and NQF 1884) a clinic can record."""

    BIPOLAR = "bipolar disorder"
    PERSONALITY = "personality disorder"
    PSYCHOTIC = "schizophrenia or psychotic disorder"
    PERVASIVE_DEVELOPMENTAL = "pervasive developmental disorder"
    DIED = "died"
    HOSPICE = "hospice or palliative care"


@dataclass(frozen=True)
class PHQ9Score:
    on: date
    total: int


@dataclass(frozen=True)
class MeasurePatient:
    """One patient's PHQ-9 history for the measures.

    ``depression``: a diagnosis of major depression or dysthymia (the initial population's diagnosis);
    ``exclusions``: recorded denominator exclusions."""

    scores: tuple[PHQ9Score, ...]
    depression: bool
    exclusions: frozenset[Exclusion] = frozenset()


@dataclass(frozen=True)
class MeasureResult:
    label: str
    estimate: Estimate  # numerator of the denominator, with its Wilson interval
    initial_population: int
    excluded: int
    pending: int  # index in the period, window not yet closed on as_of: not counted
    no_follow_up: int  # in the denominator with no PHQ-9 in the window: counted as not meeting the measure


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; a day past the month's end becomes its last day."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def index_score(patient: MeasurePatient) -> PHQ9Score | None:
    """The index event: the patient's first PHQ-9 above 9 (``None`` when there is none)."""
    return next((s for s in sorted(patient.scores, key=lambda s: s.on) if s.total > INDEX_ABOVE), None)


def window(index_on: date, months: int) -> tuple[date, date]:
    """The measure window, both ends included: index + ``months`` ± 60 days."""
    centre = add_months(index_on, months)
    return centre - timedelta(days=WINDOW_DAYS), centre + timedelta(days=WINDOW_DAYS)


def latest_in_window(patient: MeasurePatient, index: PHQ9Score, months: int) -> PHQ9Score | None:
    lo, hi = window(index.on, months)
    inside = [s for s in patient.scores if lo <= s.on <= hi]
    return max(inside, key=lambda s: s.on) if inside else None


def _measure(
    patients: Sequence[MeasurePatient],
    *,
    start: date,
    end: date,
    as_of: date,
    months: int,
    label: str,
    met: Callable[[int, int], bool],
) -> MeasureResult:
    population = excluded = pending = no_follow_up = numerator = denominator = 0
    for patient in patients:
        index = index_score(patient)
        if index is None or not patient.depression or not start <= index.on <= end:
            continue
        population += 1
        if patient.exclusions:
            excluded += 1
            continue
        if window(index.on, months)[1] > as_of:
            pending += 1
            continue
        denominator += 1
        follow_up = latest_in_window(patient, index, months)
        if follow_up is None:
            no_follow_up += 1
        elif met(index.total, follow_up.total):
            numerator += 1
    return MeasureResult(
        label, proportion_estimate(numerator, denominator), population, excluded, pending, no_follow_up
    )


def _responded(index_total: int, follow_up_total: int) -> bool:
    """NQF 1884: at least a 50% fall from the index score."""
    return follow_up_total <= index_total * RESPONSE_FRACTION


def _remitted(index_total: int, follow_up_total: int) -> bool:
    """CMS159: the follow-up score is below 5, whatever the index."""
    return follow_up_total < REMISSION_BELOW


def nqf1884_response(
    patients: Sequence[MeasurePatient], *, start: date, end: date, as_of: date
) -> MeasureResult:
    """NQF 1884 over the patients whose index date falls in ``start``..``end`` (module docstring)."""
    return _measure(
        patients,
        start=start,
        end=end,
        as_of=as_of,
        months=NQF1884_MONTHS,
        label=NQF1884_LABEL,
        met=_responded,
    )


def cms159_remission(
    patients: Sequence[MeasurePatient], *, start: date, end: date, as_of: date
) -> MeasureResult:
    """CMS159 over the patients whose index date falls in ``start``..``end`` (module docstring)."""
    return _measure(
        patients, start=start, end=end, as_of=as_of, months=CMS159_MONTHS, label=CMS159_LABEL, met=_remitted
    )
