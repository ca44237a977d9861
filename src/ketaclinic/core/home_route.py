"""A nurse's home visits of one day, in time order, with the drive before each and whether it fits.

A leg fits when the gap between the end of one visit (its start plus its duration, observation included)
and the start of the next is at least the travel estimate (``core.travel``: road minutes plus the parking
and set-up buffer). Overlapping visits leave a negative gap and never fit. The first visit of the day has no
leg. ``travel_fits`` is the check a booking calls: the new visit against the nurse's other home visits of
that day, refused naming both visits, the gap and the estimate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.travel import (
    DEFAULT_TRAVEL_RULES,
    Coordinates,
    TravelEstimate,
    TravelRules,
    travel_estimate,
)

NAIVE_START = "{label}: the start must carry its time zone."
DURATION_RANGE = "{label}: a visit lasts from 1 to 720 minutes, got {value}."
LEG_DOES_NOT_FIT = (
    "Not enough time to travel from {before} (ends {before_end}) to {after} (starts {after_start}): "
    "{gap} and the drive is {estimate}, {method}."
)


@dataclass(frozen=True, slots=True)
class HomeVisit:
    """One home visit: who (a label for the message), when, for how long, and where (ZIP-code centre)."""

    label: str
    start: datetime
    duration_min: int
    where: Coordinates

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValidationError(NAIVE_START.format(label=self.label), field="start", value=str(self.start))
        if not 1 <= self.duration_min <= 720:
            raise ValidationError(
                DURATION_RANGE.format(label=self.label, value=self.duration_min),
                field="duration_minutes",
                value=self.duration_min,
            )

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_min)


@dataclass(frozen=True, slots=True)
class RouteStop:
    visit: HomeVisit
    travel: TravelEstimate | None  # None for the day's first visit
    gap_min: float | None  # minutes between the previous visit's end and this start (negative: overlap)

    @property
    def fits(self) -> bool:
        return self.travel is None or (self.gap_min is not None and self.gap_min >= self.travel.minutes)


def _gap_min(before: HomeVisit, after: HomeVisit) -> float:
    return (after.start - before.end).total_seconds() / 60.0


def home_day_route(
    visits: Iterable[HomeVisit], rules: TravelRules = DEFAULT_TRAVEL_RULES
) -> tuple[RouteStop, ...]:
    """The visits in time order (ties keep their given order), each with the leg from the one before."""
    ordered = sorted(visits, key=lambda v: v.start)
    stops: list[RouteStop] = []
    for n, visit in enumerate(ordered):
        if n == 0:
            stops.append(RouteStop(visit, None, None))
            continue
        before = ordered[n - 1]
        stops.append(
            RouteStop(visit, travel_estimate(before.where, visit.where, rules), _gap_min(before, visit))
        )
    return tuple(stops)


def leg_problem(before: HomeVisit, after: HomeVisit, rules: TravelRules, tz: tzinfo) -> str | None:
    """The refusal's words when the drive from ``before`` to ``after`` does not fit the gap, else None."""
    estimate = travel_estimate(before.where, after.where, rules)
    gap = _gap_min(before, after)
    if gap >= estimate.minutes:
        return None
    return LEG_DOES_NOT_FIT.format(
        before=before.label,
        before_end=before.end.astimezone(tz).strftime("%H:%M"),
        after=after.label,
        after_start=after.start.astimezone(tz).strftime("%H:%M"),
        gap=f"the gap is {gap:g} min" if gap >= 0 else f"the visits overlap by {-gap:g} min",
        estimate=estimate.summary,
        method=rules.method,
    )


def route_problems(stops: tuple[RouteStop, ...], rules: TravelRules, tz: tzinfo) -> tuple[str, ...]:
    """The words for every leg of a route that does not fit, in time order."""
    return tuple(
        problem
        for before, after in zip(stops, stops[1:], strict=False)
        if (problem := leg_problem(before.visit, after.visit, rules, tz)) is not None
    )


def travel_fits(
    visit: HomeVisit,
    others: Iterable[HomeVisit],
    *,
    tz: tzinfo,
    rules: TravelRules = DEFAULT_TRAVEL_RULES,
) -> None:
    """Refuse ``visit`` when the drive from the nurse's previous home visit of the day, or to the next one,
    does not fit the gap (``others``: the nurse's other home visits, in any order)."""
    rest = sorted(others, key=lambda v: v.start)
    earlier = [o for o in rest if o.start <= visit.start]
    later = [o for o in rest if o.start > visit.start]
    legs = ([(earlier[-1], visit)] if earlier else []) + ([(visit, later[0])] if later else [])
    for before, after in legs:
        problem = leg_problem(before, after, rules, tz)
        if problem is not None:
            raise ValidationError(problem, field="scheduled_start", value=visit.start.isoformat())
