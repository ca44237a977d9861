"""Where the dashboard's rows come from (:mod:`.dashboard` computes the figures from them).

* From the answers themselves (:func:`cohort_rows_from_answers`, :func:`measure_patients`): every current
  PHQ-9 and GAD-7 answer of the network in the period, as the dashboard always computed it. It is the
  reference (the tests compare the summaries with it) and the way while the summaries are not built.
* From the summaries (:mod:`.dashboard_summaries`): a row per candidate endpoint and per patient with an
  index PHQ-9, kept by the services in the transaction of each answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ketaclinic.accounts.models import Location
from ketaclinic.base.db_routing import report_database
from ketaclinic.core.outcomes.measures import INDEX_ABOVE as MEASURE_INDEX_ABOVE
from ketaclinic.core.outcomes.measures import MeasurePatient, PHQ9Score
from ketaclinic.core.outcomes.summary import DEPRESSION_INDICATIONS, EXCLUSIONS_BY_INDICATION, days_between
from ketaclinic.outcomes.models import QuestionnaireResponse
from ketaclinic.outcomes.selectors.care import PHQ9_RESPONSE_MIN_BASELINE, current_responses


@dataclass(frozen=True)
class DashboardFilters:
    start: date
    end: date
    location: Location | None = None
    indication: str = ""


def period_bounds(filters: DashboardFilters) -> tuple[datetime, datetime]:
    """The period's first instant and the instant after its last day, in the current time zone."""
    return (
        timezone.make_aware(datetime.combine(filters.start, time.min)),
        timezone.make_aware(datetime.combine(filters.end + timedelta(days=1), time.min)),
    )


_NOT_REPLACED = "NOT EXISTS (SELECT 1 FROM {t} k WHERE k.replaces_id = {a}.id)"
_COHORT_SQL = """
WITH ends AS MATERIALIZED (
  SELECT e.patient_id, e.total, e.suicidal_ideation,
         ROW_NUMBER() OVER (PARTITION BY e.patient_id ORDER BY e.authored_at DESC, e.id DESC) AS rn
  FROM {t} e WHERE {endpoint}
), bases AS MATERIALIZED (
  SELECT b.patient_id, b.total, b.authored_at, b.suicidal_ideation,
         ROW_NUMBER() OVER (PARTITION BY b.patient_id ORDER BY b.authored_at, b.id) AS rn
  FROM {t} b WHERE b.instrument = %(inst)s AND b.timepoint = 'baseline' AND b.total IS NOT NULL AND {nr_b}
    AND b.patient_id IN (SELECT patient_id FROM ends)
), x AS MATERIALIZED (
  SELECT ends.patient_id, bases.total AS b_total, bases.authored_at AS b_at, bases.suicidal_ideation AS b_si,
         ends.total AS e_total, ends.suicidal_ideation AS e_si
  FROM ends LEFT JOIN bases ON bases.patient_id = ends.patient_id AND bases.rn = 1
  WHERE ends.rn = 1
)
SELECT x.b_total, x.b_at, x.b_si, x.e_total, x.e_si, {r_at} FROM x
"""
_R_AT_SQL = """CASE WHEN x.b_total >= %(min_baseline)s AND x.e_total <= x.b_total * 0.5 THEN
  (SELECT MIN(c.authored_at) FROM {t} c WHERE c.patient_id = x.patient_id AND c.instrument = %(inst)s
   AND c.total IS NOT NULL AND c.authored_at > x.b_at AND c.total <= x.b_total * 0.5 AND {nr_c})
  END AS r_at"""


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def cohort_rows_from_answers(
    instrument: str, filters: DashboardFilters, *, with_response_time: bool
) -> list[dict[str, Any]]:
    """One row per patient who completed the series: baseline and endpoint of ``instrument`` (one query).

    Plain SQL (the same on SQLite and PostgreSQL) so that the per-patient baseline is computed once (a
    materialised CTE, window functions) before the first-response search uses it; the lookups are index
    ranges on (instrument, timepoint, authored_at) and (patient, instrument, authored_at)."""
    t = QuestionnaireResponse._meta.db_table
    endpoint = (
        "e.instrument = %(inst)s AND e.timepoint = 'post_series' AND e.authored_at >= %(lo)s "
        "AND e.authored_at < %(hi)s AND " + _NOT_REPLACED.format(t=t, a="e")
    )
    params: dict[str, Any] = {
        "inst": instrument,
        "min_baseline": PHQ9_RESPONSE_MIN_BASELINE,
    }
    params["lo"], params["hi"] = period_bounds(filters)
    if filters.location is not None:
        endpoint += " AND e.location_id = %(location)s"
        params["location"] = filters.location.pk
    if filters.indication:
        endpoint += " AND e.indication = %(indication)s"
        params["indication"] = filters.indication
    r_at = (
        _R_AT_SQL.format(t=t, nr_c=_NOT_REPLACED.format(t=t, a="c")) if with_response_time else "NULL AS r_at"
    )
    sql = _COHORT_SQL.format(t=t, endpoint=endpoint, r_at=r_at, nr_b=_NOT_REPLACED.format(t=t, a="b"))
    with connections[report_database()].cursor() as cur:  # a report: the replica when there is one
        cur.execute(sql, params)
        rows = cur.fetchall()
    return [
        {
            "b_total": bt,
            "b_si": None if bs is None else bool(bs),
            "e_total": et,
            "e_si": None if es is None else bool(es),
            "r_days": days_between(_as_datetime(ba), _as_datetime(ra)),
        }
        for bt, ba, bs, et, es, ra in rows
    ]


def measure_patients(filters: DashboardFilters) -> list[MeasurePatient]:
    """Every patient's current PHQ-9 totals for the published measures (one query, two at a location). A
    patient's diagnosis is the latest indication recorded with their answers; the location filter applies to
    the index answer."""
    rows = (
        current_responses()
        .using(report_database())
        .filter(instrument="phq9", total__isnull=False)
        .order_by("patient_id", "authored_at", "id")
        .values_list("patient_id", "authored_at", "total", "indication", "location_id")
    )
    if filters.location is not None:
        # The index answer is one given there: only who answered there at all. Their keys first (an index
        # range on instrument and location), so that the answers are read by patient, not over the network.
        answered_there = QuestionnaireResponse.objects.using(report_database()).filter(
            instrument="phq9", location=filters.location
        )
        rows = rows.filter(patient_id__in=sorted(set(answered_there.values_list("patient_id", flat=True))))
    by_patient: dict[int, list[tuple[datetime, float, str, int]]] = {}
    for patient_id, when, total, indication, location_id in rows:
        if total is not None:  # always (the filter): the check is for the type checker
            by_patient.setdefault(patient_id, []).append((when, total, indication, location_id))
    out = []
    for answers in by_patient.values():
        indication = next((i for _, _, i, _ in reversed(answers) if i), "")
        if filters.indication and indication != filters.indication:
            continue
        index = next((a for a in answers if a[1] > MEASURE_INDEX_ABOVE), None)
        if filters.location is not None and (index is None or index[3] != filters.location.pk):
            continue
        out.append(
            MeasurePatient(
                # a PHQ-9 total is a sum of nine 0-3 answers, stored in a float column: a whole number
                scores=tuple(
                    PHQ9Score(timezone.localdate(when), int(total)) for when, total, _, _ in answers
                ),
                depression=indication in DEPRESSION_INDICATIONS,
                exclusions=EXCLUSIONS_BY_INDICATION.get(indication, frozenset()),
            )
        )
    return out
