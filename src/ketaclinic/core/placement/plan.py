"""Turn a list of placements into a checked :class:`WeekPlan`: the checker first, then the unplaced
sessions with a reason a desk can act on, chair utilisation and idle chair time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ketaclinic.core.placement.check import placement_check
from ketaclinic.core.placement.grid import longest_chain, starts_in_window
from ketaclinic.core.placement.week import Interval, Placement, Request, Unplaced, Week, WeekPlan, clock

WEEK_LIMIT = "already has {booked} booked this week; the protocol allows at most {limit} a week"
NO_SLOT = (
    "no chair is open for {minutes} min from {earliest}{windows}, clear of fixed bookings and "
    "{spacing} h from the patient's booked sessions"
)
SPACING = "only {fit} session(s) {spacing} h apart fit between {earliest} and the end of the week"
CHAIRS_FULL = "the chairs are full: no free {minutes}-min slot is left{keeping}"
KEEPING = " that keeps {spacing} h from the patient's other sessions"


def _reason(week: Week, request: Request, placed: int) -> str:
    starts = [
        s
        for chair in week.chairs
        for w in range(len(chair.open_hours))
        for s in starts_in_window(week, request, chair, w)
    ]
    words = {
        "minutes": request.duration_min,
        "earliest": clock(request.earliest_min),
        "spacing": request.rules.min_spacing_hours,
        "windows": " within the patient's required windows" if request.windows_hard else "",
    }
    if not starts:
        return NO_SLOT.format(**words)
    fit = longest_chain(starts, request.spacing_min, request.duration_min)
    if fit < week.wanted(request) and placed >= fit:
        return SPACING.format(fit=fit, **words)
    alone = week.wanted(request) == 1 and not week.patient_bookings(request.patient_id)
    return CHAIRS_FULL.format(keeping="" if alone else KEEPING.format(**words), **words)


def _unplaced(week: Week, placements: Sequence[Placement]) -> tuple[Unplaced, ...]:
    placed = Counter(p.patient_id for p in placements)
    out = []
    for r in week.requests:
        booked, wanted, got = len(week.patient_bookings(r.patient_id)), week.wanted(r), placed[r.patient_id]
        if wanted < r.sessions:
            reason = WEEK_LIMIT.format(booked=booked, limit=r.rules.max_per_week)
            out.append(Unplaced(r.patient_id, r.sessions - wanted, reason))
        if got < wanted:
            out.append(Unplaced(r.patient_id, wanted - got, _reason(week, r, got)))
    return tuple(out)


def _busy(week: Week, placements: Sequence[Placement]) -> dict[tuple[str, Interval], list[tuple[int, int]]]:
    """Busy stretches per chair opening interval: fixed bookings (clipped) and placed sessions."""
    busy: dict[tuple[str, Interval], list[tuple[int, int]]] = {}
    for chair in week.chairs:
        for hours in chair.open_hours:
            spans = [
                (max(b.interval.start_min, hours.start_min), min(b.interval.end_min, hours.end_min))
                for b in chair.booked
                if b.interval.overlaps(hours.start_min, hours.end_min)
            ]
            spans += [
                (p.start_min, p.end_min)
                for p in placements
                if p.chair_id == chair.chair_id and hours.contains(p.start_min, p.end_min)
            ]
            busy[(chair.chair_id, hours)] = spans
    return busy


def plan_assemble(week: Week, placements: Sequence[Placement], method: str) -> WeekPlan:
    """Check ``placements`` (refusing them if they break a rule) and describe the week they make."""
    placement_check(week, placements)
    busy = _busy(week, placements)
    booked = sum(e - s for spans in busy.values() for s, e in spans)
    idle = sum(
        max(e for _, e in spans) - min(s for s, _ in spans) - sum(e - s for s, e in spans)
        for spans in busy.values()
        if spans
    )
    ordered = tuple(sorted(placements, key=lambda p: (p.start_min, p.chair_id)))
    return WeekPlan(
        placements=ordered,
        unplaced=_unplaced(week, placements),
        booked_minutes=booked,
        open_minutes=week.open_minutes,
        method=method,
        idle_minutes=idle,
    )
