"""The dashboard's rows from its summaries (``outcomes.models.DashboardEndpoint`` and
``DashboardMeasurePatient``, kept by ``outcomes.services.summaries`` in the transaction of every answer):
two queries that read a period's endpoints and the patients whose index PHQ-9 falls in the period, instead
of every answer of the network. They give the rows :mod:`.dashboard_rows` computes from the answers, row for
row (tests/outcomes/test_dashboard_summaries.py compares them on random data).

Also the reads the services build the summaries from (:func:`summary_answers`,
:func:`summary_patient_chunks`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connections
from django.utils import timezone

from ketaclinic.base.db_routing import report_database
from ketaclinic.core.outcomes.measures import MeasurePatient, PHQ9Score
from ketaclinic.core.outcomes.summary import Answer, MeasureIndex, measure_patient
from ketaclinic.outcomes.models import DashboardEndpoint, DashboardMeasurePatient, DashboardSummaryBuild
from ketaclinic.outcomes.selectors.care import PHQ9_RESPONSE_MIN_BASELINE, current_responses
from ketaclinic.outcomes.selectors.dashboard_rows import DashboardFilters, period_bounds
from ketaclinic.patients.models import Patient

SUMMARISED_INSTRUMENTS = ("phq9", "gad7")

_ENDPOINTS_SQL = """
SELECT x.instrument, x.baseline_total, x.baseline_ideation, x.total, x.suicidal_ideation,
       x.first_response_days
FROM (
  SELECT e.instrument, e.baseline_total, e.baseline_ideation, e.total, e.suicidal_ideation,
         e.first_response_days,
         ROW_NUMBER() OVER (PARTITION BY e.instrument, e.patient_id
                            ORDER BY e.authored_at DESC, e.response_id DESC) AS rn
  FROM {t} e
  WHERE e.instrument IN ('phq9', 'gad7') AND e.authored_at >= %(lo)s AND e.authored_at < %(hi)s {more}
) x
WHERE x.rn = 1
"""


def summaries_built() -> bool:
    """Whether the summaries cover every patient: no build waits to be finished (the migration leaves one
    unfinished on a database that already held answers)."""
    return (
        not DashboardSummaryBuild.objects.using(report_database()).filter(finished_at__isnull=True).exists()
    )


def cohort_rows_from_summaries(
    filters: DashboardFilters,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One row per completer, for PHQ-9 and for GAD-7, as :func:`.dashboard_rows.cohort_rows_from_answers`
    gives them (one query: the latest endpoint per patient in the period, by an index range)."""
    params: dict[str, Any] = {}
    params["lo"], params["hi"] = period_bounds(filters)
    more = ""
    if filters.location is not None:
        more += " AND e.location_id = %(location)s"
        params["location"] = filters.location.pk
    if filters.indication:
        more += " AND e.indication = %(indication)s"
        params["indication"] = filters.indication
    sql = _ENDPOINTS_SQL.format(t=DashboardEndpoint._meta.db_table, more=more)
    with connections[report_database()].cursor() as cur:  # a report: the replica when there is one
        cur.execute(sql, params)
        rows = cur.fetchall()
    phq: list[dict[str, Any]] = []
    gad: list[dict[str, Any]] = []
    for instrument, bt, bs, et, es, first_response_days in rows:
        responded = (
            instrument == "phq9"  # the time to response is PHQ-9's
            and bt is not None
            and bt >= PHQ9_RESPONSE_MIN_BASELINE
            and et is not None
            and et <= bt * 0.5
        )
        (phq if instrument == "phq9" else gad).append(
            {
                "b_total": bt,
                "b_si": None if bs is None else bool(bs),
                "e_total": et,
                "e_si": None if es is None else bool(es),
                "r_days": first_response_days if responded else None,
            }
        )
    return phq, gad


def measure_patients_from_summaries(filters: DashboardFilters) -> list[MeasurePatient]:
    """The patients NQF 1884 and CMS159 count in the period (index date in it, index answered at the location,
    latest indication the one chosen), as the measures read them (``core.outcomes.summary``). One query."""
    rows = DashboardMeasurePatient.objects.using(report_database()).filter(
        index_on__gte=filters.start, index_on__lte=filters.end
    )
    if filters.location is not None:
        rows = rows.filter(index_location=filters.location)
    if filters.indication:
        rows = rows.filter(indication=filters.indication)
    out = []
    for r in rows.values_list(
        "index_on",
        "index_total",
        "index_location_id",
        "indication",
        "six_months_on",
        "six_months_total",
        "twelve_months_on",
        "twelve_months_total",
    ):
        index_on, index_total, location_id, indication, six_on, six_total, twelve_on, twelve_total = r
        out.append(
            measure_patient(
                MeasureIndex(
                    index=PHQ9Score(index_on, index_total),
                    location_id=location_id,
                    indication=indication,
                    six_months=None if six_on is None or six_total is None else PHQ9Score(six_on, six_total),
                    twelve_months=(
                        None
                        if twelve_on is None or twelve_total is None
                        else PHQ9Score(twelve_on, twelve_total)
                    ),
                )
            )
        )
    return out


def summary_answers(patient_ids: Iterable[int]) -> dict[int, list[Answer]]:
    """The current PHQ-9 and GAD-7 answers of these patients, as the summaries are built from them (one
    query). Dates are in the site's time zone, whatever zone a page has activated."""
    zone = timezone.get_default_timezone()
    out: dict[int, list[Answer]] = {}
    rows = (
        current_responses()
        .filter(patient_id__in=list(patient_ids), instrument__in=SUMMARISED_INSTRUMENTS)
        .order_by("patient_id", "authored_at", "id")
        .values_list(
            "patient_id",
            "id",
            "instrument",
            "timepoint",
            "authored_at",
            "total",
            "suicidal_ideation",
            "location_id",
            "indication",
        )
    )
    for patient_id, pk, instrument, timepoint, when, total, ideation, location_id, indication in rows:
        out.setdefault(patient_id, []).append(
            Answer(
                response_id=pk,
                instrument=instrument,
                timepoint=timepoint,
                authored_at=when,
                on=timezone.localdate(when, zone),
                total=total,
                suicidal_ideation=ideation,
                location_id=location_id,
                indication=indication,
            )
        )
    return out


def summary_patient_chunks(size: int) -> Iterator[list[int]]:
    """Every patient's id, ``size`` at a time in id order (each chunk an index range from the last id)."""
    after = 0
    while True:
        chunk = list(Patient.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:size])
        if not chunk:
            return
        yield chunk
        after = chunk[-1]
