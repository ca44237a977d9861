"""A patient's status on one instrument, in words, from totals over time (pure).

Uses the instrument's own response and remission definitions
(:func:`ketaclinic.core.instruments.change_from_baseline_for`) and relapse rule
(:func:`ketaclinic.core.outcomes.relapse.protocol_relapse_check_for`: the protocol's rule, in the instrument's
meaningful change). The baseline is the first total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ketaclinic.core.instruments import change_from_baseline_for, get_instrument
from ketaclinic.core.outcomes.relapse import protocol_relapse_check_for


@dataclass(frozen=True)
class TrajectoryPoint:
    total: float
    infusions_before: int  # infusions given before this answer (0 = baseline)


@dataclass(frozen=True)
class TrajectoryStatus:
    words: str
    responder: bool | None
    remission: bool | None
    relapsed: bool
    percent_change: float | None
    response_line: float | None  # totals at or below this meet the response definition
    remission_line: float | None  # totals below this meet remission


def _since(point: TrajectoryPoint) -> str:
    return f"infusion {point.infusions_before}" if point.infusions_before else "before the first infusion"


def trajectory_status(
    instrument_id: str, points: Sequence[TrajectoryPoint], *, relapse_fraction: float = 0.5
) -> TrajectoryStatus:
    inst = get_instrument(instrument_id)
    c = inst.change
    if not points:
        return TrajectoryStatus("no answers yet", None, None, False, None, None, None)
    baseline = points[0].total
    response_line = None
    if c.response_drop_fraction is not None and (
        c.response_min_baseline is None or baseline >= c.response_min_baseline
    ):
        response_line = baseline * (1 - c.response_drop_fraction)
    remission_line = float(c.remission_below) if c.remission_below is not None else None
    if len(points) == 1:
        return TrajectoryStatus(
            f"baseline {baseline:g}", None, None, False, None, response_line, remission_line
        )
    latest = change_from_baseline_for(inst, baseline, points[-1].total)
    later = points[1:]
    relapsed = False
    words: str
    if c.response_drop_fraction is not None:
        relapse = protocol_relapse_check_for(inst, baseline, [p.total for p in later], relapse_fraction)
        relapsed = relapse.relapsed
        if c.response_min_baseline is not None and baseline < c.response_min_baseline:
            words = f"baseline {baseline:g} is below {c.response_min_baseline}: response is not defined"
        elif relapsed:
            assert relapse.responded_at is not None
            words = f"relapse: responded at {_since(later[relapse.responded_at])}, {relapse.reason}"
        elif latest.response:
            first = next(p for p in later if change_from_baseline_for(inst, baseline, p.total).response)
            words = f"responder since {_since(first)}"
            if latest.remission:
                remitted = next(
                    p for p in later if change_from_baseline_for(inst, baseline, p.total).remission
                )
                words = f"in remission since {_since(remitted)} (responder since {_since(first)})"
        else:
            words = f"not responding yet ({latest.percent_change or 0:g}% change from baseline {baseline:g})"
    else:
        words = f"{latest.change_points:+g} points from baseline {baseline:g}"
    return TrajectoryStatus(
        words,
        latest.response,
        latest.remission,
        relapsed,
        latest.percent_change,
        response_line,
        remission_line,
    )
