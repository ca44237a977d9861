"""The clinic outcomes dashboard (:func:`outcomes_dashboard`): it answers in a fixed number of queries
whatever the data size. It reads the dashboard's summaries (:mod:`.dashboard_summaries`: a row per candidate
endpoint in the period and per patient whose index PHQ-9 falls in it, kept in the transaction of every
answer) once they are built, and the answers themselves before (:mod:`.dashboard_rows`): the same rows
either way. The figures are computed from those rows by the pure core's interval and measure functions. Its
definitions are :data:`DEFINITIONS`, shown on the page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.outcomes import (
    Estimate,
    mean_estimate,
    proportion_estimate,
)
from ketaclinic.core.outcomes.measures import MeasureResult, cms159_remission, nqf1884_response
from ketaclinic.outcomes.selectors.care import PHQ9_REMISSION_BELOW, PHQ9_RESPONSE_MIN_BASELINE
from ketaclinic.outcomes.selectors.dashboard_rows import (
    DashboardFilters,
    cohort_rows_from_answers,
    measure_patients,
)
from ketaclinic.outcomes.selectors.dashboard_summaries import (
    cohort_rows_from_summaries,
    measure_patients_from_summaries,
    summaries_built,
)

RESPONSE_CLINIC_LABEL = "Response after the series (clinic definition)"
REMISSION_CLINIC_LABEL = "Remission after the series (clinic definition)"


# -- the clinic outcomes dashboard ------------------------------------------------------------------------

DEFINITIONS: dict[str, str] = {
    "completed": "Patients with at least one PHQ-9 answered at a post-series timepoint (1, 2, 4 or 6 weeks "
    "after the last infusion of the series) within the period, at the chosen location and indication.",
    "baseline": "A patient's baseline is the first current (not corrected) answer of that questionnaire "
    "given at the baseline timepoint; the endpoint is the latest current post-series answer within the "
    "period.",
    "response_rate": "The clinic's own definition, not a published quality measure: share of completers with "
    "a PHQ-9 baseline of 10 or more whose endpoint (1 to 6 weeks after the series) fell by at least "
    "50%. n = completers with a baseline of 10 or more; patients who did not answer after the "
    "series are not counted.",
    "remission_rate": "The clinic's own definition, not a published quality measure: share of completers "
    "with a PHQ-9 baseline of 10 or more whose endpoint (1 to 6 weeks after the series) is below 5. "
    "n = completers with a baseline of 10 or more.",
    "nqf1884_response": "As the measure specifies: patients with major depression (or dysthymia) whose first "
    "PHQ-9 above 9 (the index) falls in the period; responding = the most recent PHQ-9 from 6 months "
    "minus 60 days to 6 months plus 60 days after the index is at most half the index score. A "
    "patient with no PHQ-9 in that window is counted as not responding. Patients whose window "
    "has not closed yet are shown as pending and not counted; bipolar depression is excluded.",
    "cms159_remission": "As the measure specifies: the same patients; in remission = the most recent PHQ-9 "
    "from 12 months minus 60 days to 12 months plus 60 days after the index is below 5. A patient with "
    "no PHQ-9 in that window is counted as not in remission. Excluded: bipolar disorder. "
    "Patients whose window has not closed yet are shown as pending and not counted.",
    "phq9_change": "Mean percent change of PHQ-9, (baseline − endpoint) / baseline × 100, so improvement is "
    "positive. n = completers with a PHQ-9 baseline above 0.",
    "gad7_change": "Mean percent change of GAD-7, defined as for PHQ-9, over patients with a GAD-7 baseline "
    "above 0 and a GAD-7 post-series answer in the period.",
    "ideation_resolved": "Of the completers whose baseline PHQ-9 item 9 was above 0 (suicidal ideation), the "
    "share whose endpoint PHQ-9 item 9 was answered 0. An unanswered item 9 does not count as resolved.",
    "time_to_response": "Days from the baseline answer to the first PHQ-9 answer at or below half the "
    "baseline, over the responders (mean with its t interval; the median is given too).",
    "intervals": "95% confidence intervals: Wilson score intervals for proportions, Student's t intervals "
    "for means. An interval is clipped to what the measure can be (a change of at most 100%, at least 0 "
    "days), so with few patients it may be lopsided rather than show an impossible value.",
}


@dataclass(frozen=True)
class Dashboard:
    filters: DashboardFilters
    completed: int
    response_rate: Estimate
    remission_rate: Estimate
    phq9_change: Estimate
    gad7_change: Estimate
    ideation_resolved: Estimate
    time_to_response: Estimate
    time_to_response_median: float | None
    change_histogram: list[tuple[str, int]] = field(default_factory=list)
    nqf1884: MeasureResult | None = None
    cms159: MeasureResult | None = None

    def measures(self) -> list[tuple[str, str, Estimate, str]]:
        """(key, label, estimate, unit) in display order. Only figures computed by a measure's
        specification (core.outcomes.measures) carry the measure's name."""
        published = [
            (key, m.label, m.estimate, "%")
            for key, m in (("nqf1884_response", self.nqf1884), ("cms159_remission", self.cms159))
            if m is not None
        ]
        return [
            *published,
            ("response_rate", RESPONSE_CLINIC_LABEL, self.response_rate, "%"),
            ("remission_rate", REMISSION_CLINIC_LABEL, self.remission_rate, "%"),
            ("phq9_change", "Mean change in depression (PHQ-9)", self.phq9_change, "%"),
            ("gad7_change", "Mean change in anxiety (GAD-7)", self.gad7_change, "%"),
            (
                "ideation_resolved",
                "Suicidal ideation at baseline no longer reported",
                self.ideation_resolved,
                "%",
            ),
            ("time_to_response", "Time to response", self.time_to_response, "days"),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"start": self.filters.start.isoformat(), "end": self.filters.end.isoformat()},
            "location": self.filters.location.code if self.filters.location else None,
            "indication": self.filters.indication or None,
            "completed": self.completed,
            "measures": {
                key: {**est.as_dict(), "unit": unit, "label": label}
                for key, label, est, unit in self.measures()
            },
            "time_to_response_median_days": self.time_to_response_median,
            "published_measures": {
                key: {
                    "initial_population": m.initial_population,
                    "excluded": m.excluded,
                    "pending": m.pending,
                    "no_follow_up": m.no_follow_up,
                }
                for key, m in (("nqf1884_response", self.nqf1884), ("cms159_remission", self.cms159))
                if m is not None
            },
            "definitions": DEFINITIONS,
        }


def _percent_changes(rows: list[dict[str, Any]]) -> list[float]:
    return [
        (r["b_total"] - r["e_total"]) / r["b_total"] * 100
        for r in rows
        if r["b_total"] and r["e_total"] is not None
    ]


def dashboard_from_rows(
    filters: DashboardFilters, phq: list[dict[str, Any]], gad: list[dict[str, Any]]
) -> Dashboard:
    """The dashboard's figures from one row per completer (the definitions in :data:`DEFINITIONS`)."""
    eligible = [
        r
        for r in phq
        if r["b_total"] is not None
        and r["b_total"] >= PHQ9_RESPONSE_MIN_BASELINE
        and r["e_total"] is not None
    ]
    responders = [r for r in eligible if r["e_total"] <= r["b_total"] * 0.5]
    remitted = [r for r in eligible if r["e_total"] < PHQ9_REMISSION_BELOW]
    ideation = [r for r in phq if r["b_si"] is True]
    resolved = [r for r in ideation if r["e_si"] is False]
    days = [r["r_days"] for r in responders if r.get("r_days") is not None]
    changes = _percent_changes(phq)
    bins: list[tuple[str, Callable[[float], bool]]] = [
        ("worse", lambda c: c < 0),
        ("0–24%", lambda c: 0 <= c < 25),
        ("25–49%", lambda c: 25 <= c < 50),
        ("50–74%", lambda c: 50 <= c < 75),
        ("75–100%", lambda c: c >= 75),
    ]
    return Dashboard(
        filters=filters,
        completed=len(phq),
        response_rate=proportion_estimate(len(responders), len(eligible)),
        remission_rate=proportion_estimate(len(remitted), len(eligible)),
        phq9_change=mean_estimate(changes, highest=100.0),
        gad7_change=mean_estimate(_percent_changes(gad), highest=100.0),
        ideation_resolved=proportion_estimate(len(resolved), len(ideation)),
        time_to_response=mean_estimate(days, lowest=0.0),
        time_to_response_median=round(median(days), 1) if days else None,
        change_histogram=[(label, sum(1 for c in changes if test(c))) for label, test in bins],
    )


def outcomes_dashboard(*, user: User, filters: DashboardFilters, from_answers: bool = False) -> Dashboard:
    """Aggregates only (no patient is named); three queries whatever the data size. NQF 1884 and CMS159 are
    computed by their specifications (core.outcomes.measures); the short-term figures are the clinic's own.
    ``from_answers`` reads every answer instead of the summaries (the reference the tests compare with)."""
    require(user, Permission.OUTCOMES_VIEW)
    if not from_answers and summaries_built():
        phq, gad = cohort_rows_from_summaries(filters)
        patients = measure_patients_from_summaries(filters)
    else:
        phq = cohort_rows_from_answers("phq9", filters, with_response_time=True)
        gad = cohort_rows_from_answers("gad7", filters, with_response_time=False)
        patients = measure_patients(filters)
    as_of = timezone.localdate()
    return replace(
        dashboard_from_rows(filters, phq, gad),
        nqf1884=nqf1884_response(patients, start=filters.start, end=filters.end, as_of=as_of),
        cms159=cms159_remission(patients, start=filters.start, end=filters.end, as_of=as_of),
    )


def dashboard_locations(*, user: User) -> QuerySet[Location]:
    require(user, Permission.OUTCOMES_VIEW)
    return Location.objects.order_by("name")
