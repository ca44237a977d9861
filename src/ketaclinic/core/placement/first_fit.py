"""The named baseline: first-fit, the way a desk books by hand. Requests are taken in arrival order and
each session takes the earliest free slot in any chair (the first chair on a tie), after the patient's
previous session plus the spacing. Hard windows are kept; soft preferences are not looked at."""

from __future__ import annotations

from ketaclinic.core.placement.grid import starts_in_window
from ketaclinic.core.placement.plan import plan_assemble
from ketaclinic.core.placement.week import Placement, Request, Week, WeekPlan


def _earliest_free(week: Week, request: Request, taken: list[Placement], after: int) -> Placement | None:
    best: Placement | None = None
    for chair in week.chairs:
        mine = [p for p in taken if p.chair_id == chair.chair_id]
        for w in range(len(chair.open_hours)):
            for start in starts_in_window(week, request, chair, w):
                end = start + request.duration_min
                if start < after or (best is not None and start >= best.start_min):
                    continue
                if all(end <= p.start_min or p.end_min <= start for p in mine):
                    best = Placement(request.patient_id, chair.chair_id, start, end)
                    break
    return best


def first_fit_place(week: Week) -> list[Placement]:
    """The placements first-fit books, unchecked (``week_first_fit`` checks them)."""
    taken: list[Placement] = []
    for request in week.requests:
        after = request.earliest_min
        for _ in range(week.wanted(request)):
            found = _earliest_free(week, request, taken, after)
            if found is None:
                break
            taken.append(found)
            after = found.start_min + max(request.spacing_min, request.duration_min)
    return taken


def _nearest_free(
    week: Week, request: Request, taken: list[Placement], after: int, planned: int
) -> Placement | None:
    best: tuple[int, int, Placement] | None = None
    for chair in week.chairs:
        mine = [p for p in taken if p.chair_id == chair.chair_id]
        for w in range(len(chair.open_hours)):
            for start in starts_in_window(week, request, chair, w):
                end = start + request.duration_min
                if start < after or not all(end <= p.start_min or p.end_min <= start for p in mine):
                    continue
                key = (abs(start - planned), start)
                if best is None or key < best[:2]:
                    best = (*key, Placement(request.patient_id, chair.chair_id, start, end))
    return best[2] if best else None


def planned_fit_place(week: Week) -> list[Placement]:
    """Like first-fit, but a session with a planned start takes the free start nearest it (the earlier on a
    tie): the solver's starting point for keeping the plan's times (unchecked)."""
    taken: list[Placement] = []
    for request in week.requests:
        after = request.earliest_min
        for k in range(week.wanted(request)):
            planned = request.planned_min[k] if k < len(request.planned_min) else after
            found = _nearest_free(week, request, taken, after, planned)
            if found is None:
                break
            taken.append(found)
            after = found.start_min + max(request.spacing_min, request.duration_min)
    return taken


def week_first_fit(week: Week) -> WeekPlan:
    """The week as first-fit books it, checked like any proposal."""
    return plan_assemble(week, first_fit_place(week), "first-fit")
