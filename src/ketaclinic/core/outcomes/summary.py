"""One patient's answers summarised for the outcomes dashboard (pure): what the dashboard needs of a patient,
so that it reads a row per endpoint and a row per patient instead of every answer of the network.

The summary is derived, never clinical: it is rebuilt from the current (not corrected) answers whenever one
of the patient's answers is recorded or corrected, and it gives exactly the figures the answers give.

* :func:`patient_endpoints` — one :class:`Endpoint` per post-series answer, with beside it the patient's
  baseline of that questionnaire (the first baseline answer with a total), the ideation answers, and the
  first answer at or below half the baseline after it. The dashboard's endpoint is the latest post-series
  answer *in the period chosen*, so every candidate is kept; the baseline and the first response do not
  depend on the period.
* :func:`patient_measure_index` — what NQF 1884 and CMS159 need of the patient
  (:mod:`core.outcomes.measures`): the index PHQ-9 (the first above 9), where it was answered, the latest
  indication, and the most recent PHQ-9 in each measure's window after the index. The windows are fixed by
  the index date, so they do not depend on the period either.
* :func:`measure_patient` — the :class:`~core.outcomes.measures.MeasurePatient` the measures are computed
  from: the index and the two follow-ups. The measures read nothing else of a patient: the index is the
  first score above 9 (earlier scores are 9 or less), and each window's most recent score is the one kept
  (the two windows, 4-8 and 10-14 months after the index, do not overlap), so ``nqf1884_response`` and
  ``cms159_remission`` give over these what they give over every score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ketaclinic.core.outcomes.measures import (
    CMS159_MONTHS,
    INDEX_ABOVE,
    NQF1884_MONTHS,
    Exclusion,
    MeasurePatient,
    PHQ9Score,
    index_score,
    latest_in_window,
)

RESPONSE_FRACTION = 0.5  # a response: at or below half the baseline
DEPRESSION_INDICATIONS = frozenset({"trd", "mdd", "postpartum_depression", "bipolar_depression"})
EXCLUSIONS_BY_INDICATION = {"bipolar_depression": frozenset({Exclusion.BIPOLAR})}


@dataclass(frozen=True)
class Answer:
    """One current answer of the patient: ``on`` is ``authored_at``'s date where the dashboard's periods
    are read (the site's time zone)."""

    response_id: int
    instrument: str
    timepoint: str
    authored_at: datetime
    on: date
    total: float | None
    suicidal_ideation: bool | None
    location_id: int
    indication: str


@dataclass(frozen=True)
class Endpoint:
    response_id: int
    instrument: str
    authored_at: datetime
    location_id: int
    indication: str
    total: float | None
    suicidal_ideation: bool | None
    baseline_total: float | None
    baseline_ideation: bool | None
    first_response_days: float | None  # from the baseline to the first answer at or below half of it


@dataclass(frozen=True)
class MeasureIndex:
    index: PHQ9Score
    location_id: int
    indication: str
    six_months: PHQ9Score | None  # the most recent PHQ-9 in NQF 1884's window
    twelve_months: PHQ9Score | None  # ... in CMS159's


def days_between(start: datetime | None, end: datetime | None) -> float | None:
    """Days from ``start`` to ``end`` (fractional), ``None`` without either: the time to response."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 86400


def _ordered(answers: Sequence[Answer], instrument: str) -> list[Answer]:
    mine = (a for a in answers if a.instrument == instrument)
    return sorted(mine, key=lambda a: (a.authored_at, a.response_id))


def patient_endpoints(answers: Sequence[Answer], instruments: Sequence[str]) -> list[Endpoint]:
    """Every post-series answer of ``instruments``, the patient's baseline beside it (module docstring)."""
    out = []
    for instrument in instruments:
        mine = _ordered(answers, instrument)
        baseline = next((a for a in mine if a.timepoint == "baseline" and a.total is not None), None)
        first_response = None
        if baseline is not None and baseline.total is not None:
            half = baseline.total * RESPONSE_FRACTION
            first_response = min(
                (
                    a.authored_at
                    for a in mine
                    if a.total is not None and a.authored_at > baseline.authored_at and a.total <= half
                ),
                default=None,
            )
        out += [
            Endpoint(
                response_id=a.response_id,
                instrument=instrument,
                authored_at=a.authored_at,
                location_id=a.location_id,
                indication=a.indication,
                total=a.total,
                suicidal_ideation=a.suicidal_ideation,
                baseline_total=None if baseline is None else baseline.total,
                baseline_ideation=None if baseline is None else baseline.suicidal_ideation,
                first_response_days=days_between(baseline.authored_at if baseline else None, first_response),
            )
            for a in mine
            if a.timepoint == "post_series"
        ]
    return out


def patient_measure_index(answers: Sequence[Answer]) -> MeasureIndex | None:
    """The patient's index PHQ-9 and each measure's follow-up; ``None`` without a PHQ-9 above 9."""
    scored = [a for a in _ordered(answers, "phq9") if a.total is not None]
    # a PHQ-9 total is a sum of nine 0-3 answers, stored as a float: a whole number
    scores = tuple(PHQ9Score(a.on, int(a.total)) for a in scored if a.total is not None)
    everything = MeasurePatient(scores=scores, depression=True)
    index = index_score(everything)
    if index is None:
        return None
    return MeasureIndex(
        index=index,
        # where the first total above 9 was answered, as the dashboard has always read it (before the whole
        # number is taken: a prorated 9.5 places the index, though the measure's index is a later answer)
        location_id=next(a.location_id for a in scored if a.total is not None and a.total > INDEX_ABOVE),
        indication=next((a.indication for a in reversed(scored) if a.indication), ""),
        six_months=latest_in_window(everything, index, NQF1884_MONTHS),
        twelve_months=latest_in_window(everything, index, CMS159_MONTHS),
    )


def measure_patient(summary: MeasureIndex) -> MeasurePatient:
    """What the published measures read of the patient (module docstring)."""
    follow_ups = tuple(s for s in (summary.six_months, summary.twelve_months) if s is not None)
    return MeasurePatient(
        scores=(summary.index, *follow_ups),
        depression=summary.indication in DEPRESSION_INDICATIONS,
        exclusions=EXCLUSIONS_BY_INDICATION.get(summary.indication, frozenset()),
    )
