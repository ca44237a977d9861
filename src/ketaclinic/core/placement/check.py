"""The independent checker: every proposed placement is re-checked against the week's rules before a
proposal is returned, so a solver's (or the first-fit desk's) output is never trusted unchecked.

It shares no code with the solver or first-fit beyond the input dataclasses: it reads the placements as a
desk would read a calendar and lists, in words, every rule one breaks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ketaclinic.core.errors import DomainError
from ketaclinic.core.placement.week import GRID_MINUTES, Interval, Placement, Request, Week, clock


class PlacementRefused(DomainError):
    """A proposal broke a rule; ``problems`` names each one."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("The proposed placement breaks the rules: " + "; ".join(problems), value=problems)
        self.problems = tuple(problems)


def _label(p: Placement) -> str:
    return f"{p.patient_id} in {p.chair_id} at {clock(p.start_min)}-{clock(p.end_min)}"


def _check_one(week: Week, p: Placement) -> list[str]:
    chairs = {c.chair_id: c for c in week.chairs}
    requests = {r.patient_id: r for r in week.requests}
    chair, request = chairs.get(p.chair_id), requests.get(p.patient_id)
    if chair is None or request is None:
        return [f"{_label(p)}: no such {'chair' if chair is None else 'request'}"]
    problems = []
    if p.end_min - p.start_min != request.duration_min:
        problems.append(f"{_label(p)} lasts {p.end_min - p.start_min} min, not {request.duration_min}")
    if p.start_min % GRID_MINUTES:
        problems.append(f"{_label(p)} is off the {GRID_MINUTES}-minute grid")
    if not any(i.contains(p.start_min, p.end_min) for i in chair.open_hours):
        problems.append(f"{_label(p)} is outside the chair's opening hours")
    if p.start_min < request.earliest_min:
        problems.append(f"{_label(p)} is before the patient's earliest start {clock(request.earliest_min)}")
    if request.windows_hard and not any(w.contains(p.start_min, p.end_min) for w in request.windows):
        problems.append(f"{_label(p)} is outside the patient's required windows")
    for b in chair.booked:
        if b.interval.overlaps(p.start_min, p.end_min):
            problems.append(f"{_label(p)} overlaps a fixed booking at {clock(b.interval.start_min)}")
    return problems


def _check_chairs(placements: Sequence[Placement]) -> list[str]:
    by_chair: dict[str, list[Placement]] = defaultdict(list)
    for p in placements:
        by_chair[p.chair_id].append(p)
    problems = []
    for chair_list in by_chair.values():
        ordered = sorted(chair_list, key=lambda p: p.start_min)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.start_min < a.end_min:
                problems.append(f"{_label(a)} overlaps {_label(b)}")
    return problems


def _check_patients(week: Week, placements: Sequence[Placement]) -> list[str]:
    by_patient: dict[str, list[Placement]] = defaultdict(list)
    for p in placements:
        by_patient[p.patient_id].append(p)
    problems = []
    for request in week.requests:
        mine = by_patient.get(request.patient_id, [])
        fixed = week.patient_bookings(request.patient_id)
        if len(mine) > request.sessions:
            problems.append(
                f"{request.patient_id} has {len(mine)} sessions placed, asked for {request.sessions}"
            )
        if mine and len(mine) + len(fixed) > request.rules.max_per_week:
            problems.append(
                f"{request.patient_id} would have {len(mine) + len(fixed)} sessions this week; "
                f"the protocol allows at most {request.rules.max_per_week}"
            )
        problems += _spacing(request, [(p.start_min, p.end_min) for p in mine], fixed)
    return problems


def _spacing(request: Request, mine: list[tuple[int, int]], fixed: tuple[Interval, ...]) -> list[str]:
    """Each placed session against the patient's others, placed or fixed (two fixed ones are not ours)."""
    others = mine + [(i.start_min, i.end_min) for i in fixed]
    problems = []
    for n, (s1, e1) in enumerate(mine):
        for s2, e2 in others[n + 1 :]:
            (a, a_end), (b, _b_end) = sorted([(s1, e1), (s2, e2)])
            if b - a < request.spacing_min or b < a_end:
                problems.append(
                    f"{request.patient_id}'s sessions at {clock(a)} and {clock(b)} are "
                    f"{(b - a) / 60:g} h apart; the protocol sets at least "
                    f"{request.rules.min_spacing_hours} h"
                )
    return problems


def placement_problems(week: Week, placements: Sequence[Placement]) -> tuple[str, ...]:
    """Every rule the placements break, in words; empty when they keep them all."""
    problems = [msg for p in placements for msg in _check_one(week, p)]
    return tuple(problems + _check_chairs(placements) + _check_patients(week, placements))


def placement_check(week: Week, placements: Sequence[Placement]) -> None:
    """Refuse placements that break a rule, naming each problem."""
    problems = placement_problems(week, placements)
    if problems:
        raise PlacementRefused(problems)
