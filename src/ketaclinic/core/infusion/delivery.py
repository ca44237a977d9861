"""Dose delivered so far and elapsed time, from the pump's rate history.

The rate is piecewise constant: ``start`` and ``resume`` set it, ``rate`` changes it, ``pause`` and
``stop`` set it to zero. Delivered mg (and mL) is the integral of the rate over time up to ``now`` or
the stop, whichever comes first: Σ rate_i × (t_{i+1} − t_i). A pause adds nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.regimen import Infusion, Pause, Regimen, Segment


class RateEventKind(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    RATE = "rate"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class RatePoint:
    """One pump event; ``rate_*`` is the rate from ``at`` on (ignored for pause and stop)."""

    kind: RateEventKind
    at: datetime
    rate_mg_per_h: float = 0.0
    rate_ml_per_h: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rate_mg_per_h", "rate_ml_per_h"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValidationError(RATE_NEGATIVE.format(value=value), field=name, value=value)
        if self.at.tzinfo is None:
            raise ValidationError(NAIVE_TIME, field="at", value=self.at)


RATE_NEGATIVE = "A rate must be a number of at least 0, got {value}."
NAIVE_TIME = "A pump event time needs a time zone."
OUT_OF_ORDER = "Pump events must be in time order: {later} comes before {earlier}."
FIRST_NOT_START = "The first pump event must be the start, not {value}."
AFTER_STOP = "No pump event may follow the stop ({value})."


@dataclass(frozen=True, slots=True)
class Delivery:
    delivered_mg: float
    delivered_ml: float
    infusing_min: float  # time the pump ran (pauses excluded)
    paused_min: float
    elapsed_min: float  # since the start, to now or the stop (pauses included)
    current_rate_mg_per_h: float
    current_rate_ml_per_h: float
    started_at: datetime | None
    stopped_at: datetime | None


NOTHING = Delivery(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None, None)


def delivery(points: tuple[RatePoint, ...] | list[RatePoint], now: datetime) -> Delivery:
    """Integrate the rate history up to ``now`` (events after ``now`` are not yet in effect)."""
    if not points:
        return NOTHING
    if points[0].kind is not RateEventKind.START:
        raise ValidationError(FIRST_NOT_START.format(value=points[0].kind.value), field="kind", value=points[0].kind.value)
    mg = ml = infusing = paused = 0.0
    rate_mg = rate_ml = 0.0
    running = False
    stopped_at: datetime | None = None
    prev = points[0].at
    for i, p in enumerate(points):
        if i and p.at < points[i - 1].at:
            raise ValidationError(OUT_OF_ORDER.format(later=p.at.isoformat(), earlier=points[i - 1].at.isoformat()),
                                  field="at", value=p.at)
        if stopped_at is not None:
            raise ValidationError(AFTER_STOP.format(value=p.kind.value), field="kind", value=p.kind.value)
        at = min(p.at, now)
        span = max((at - prev).total_seconds() / 60.0, 0.0)
        mg, ml = mg + rate_mg * span / 60.0, ml + rate_ml * span / 60.0
        if running:
            infusing += span
        elif i:
            paused += span
        prev = at
        if p.at > now:
            break
        if p.kind in (RateEventKind.START, RateEventKind.RESUME, RateEventKind.RATE):
            running = True
            rate_mg, rate_ml = p.rate_mg_per_h, p.rate_ml_per_h
        elif p.kind is RateEventKind.PAUSE:
            running, rate_mg, rate_ml = False, 0.0, 0.0
        else:
            running, rate_mg, rate_ml = False, 0.0, 0.0
            stopped_at = p.at
    if stopped_at is None and now > prev:
        span = (now - prev).total_seconds() / 60.0
        mg, ml = mg + rate_mg * span / 60.0, ml + rate_ml * span / 60.0
        if running:
            infusing += span
        else:
            paused += span
    started = points[0].at
    end = stopped_at or max(now, started)
    return Delivery(
        delivered_mg=mg, delivered_ml=ml, infusing_min=infusing, paused_min=paused,
        elapsed_min=max((end - started).total_seconds() / 60.0, 0.0),
        current_rate_mg_per_h=rate_mg, current_rate_ml_per_h=rate_ml, started_at=started, stopped_at=stopped_at,
    )


def delivered_regimen(points: tuple[RatePoint, ...] | list[RatePoint], now: datetime) -> Regimen | None:
    """The rate history up to ``now`` (or the stop) as a PK regimen from the start: what the patient received.

    None before the start or when no drug has run yet (e.g. paused at once).
    """
    d = delivery(points, now)
    if d.started_at is None or d.delivered_mg <= 0:
        return None
    end = d.stopped_at or now
    segments: list[Segment] = []
    for i, p in enumerate(points):
        if p.at >= end:
            break
        nxt = min(points[i + 1].at, end) if i + 1 < len(points) else end
        minutes = (nxt - p.at).total_seconds() / 60.0
        if minutes <= 0 or p.kind is RateEventKind.STOP:
            continue
        per_min = p.rate_mg_per_h / 60.0
        running = p.kind in (RateEventKind.START, RateEventKind.RESUME, RateEventKind.RATE) and per_min > 0
        segments.append(Infusion(minutes, rate_mg_per_min=per_min) if running else Pause(minutes))
    if not any(isinstance(seg, Infusion) for seg in segments):
        return None
    return Regimen.of(segments)
