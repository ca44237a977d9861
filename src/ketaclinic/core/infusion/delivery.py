"""Dose delivered so far and elapsed time, from the pump's rate history.

The rate is piecewise constant: ``start`` and ``resume`` set it, ``rate`` changes it, ``pause`` and
``stop`` set it to zero. Delivered mg (and mL) is the integral of the rate over time up to ``now`` or
the stop, whichever comes first: Σ rate_i × (t_{i+1} − t_i). A pause adds nothing.

The order is the bag: given the bag's volume to be infused (``vtbi_ml``), the integration stops when the
delivered volume reaches it (the pump stops when the bag is empty), so neither the delivered volume nor
the dose ever exceeds what the bag held; ``vtbi_reached_at`` says when. Given the ordered duration, the
result says whether the pump has run for it (``ordered_end_passed``). Either one means: stop the pump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    vtbi_ml: float | None = None  # the bag's volume to be infused, when known
    vtbi_reached_at: datetime | None = None  # when the delivered volume reached it (the bag is empty)
    ordered_duration_min: float | None = None
    ordered_end_passed: bool = False  # the pump has run for the ordered duration

    @property
    def stop_pump(self) -> bool:
        """The bag is empty or the ordered time has run: the nurse must stop the pump (while not stopped)."""
        return self.stopped_at is None and (self.vtbi_reached_at is not None or self.ordered_end_passed)


NOTHING = Delivery(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None, None)
VTBI_NOT_POSITIVE = "The bag's volume to be infused must be a number above 0 mL, got {value}."
VTBI_TOLERANCE_ML = 1e-9  # float noise, not a clinical margin


def delivery(
    points: tuple[RatePoint, ...] | list[RatePoint],
    now: datetime,
    *,
    vtbi_ml: float | None = None,
    ordered_duration_min: float | None = None,
) -> Delivery:
    """Integrate the rate history up to ``now`` (events after ``now`` are not yet in effect), capped at the
    bag's ``vtbi_ml`` when given."""
    if vtbi_ml is not None and not (math.isfinite(vtbi_ml) and vtbi_ml > 0):
        raise ValidationError(VTBI_NOT_POSITIVE.format(value=vtbi_ml), field="vtbi_ml", value=vtbi_ml)
    raw = _integrate(points, now)
    if vtbi_ml is None:
        d = raw
    else:
        d = _capped(points, now, vtbi_ml, raw)
    passed = (
        ordered_duration_min is not None
        and d.started_at is not None
        and d.infusing_min >= ordered_duration_min - 1e-9
    )
    return Delivery(
        d.delivered_mg,
        d.delivered_ml,
        d.infusing_min,
        d.paused_min,
        d.elapsed_min,
        d.current_rate_mg_per_h,
        d.current_rate_ml_per_h,
        d.started_at,
        d.stopped_at,
        vtbi_ml,
        d.vtbi_reached_at,
        ordered_duration_min,
        passed,
    )


def _capped(
    points: tuple[RatePoint, ...] | list[RatePoint], now: datetime, vtbi_ml: float, raw: Delivery
) -> Delivery:
    """``raw`` with the pump stopped at the moment the delivered volume reached ``vtbi_ml`` (if it did by
    ``now``)."""
    if raw.delivered_ml <= vtbi_ml + VTBI_TOLERANCE_ML:
        return raw
    # Find the segment in which the volume crossed the VTBI (the volume is non-decreasing in time).
    at = points[0].at
    ml = 0.0
    rate_ml = 0.0
    reached: datetime | None = None
    ends = [min(p.at, now) for p in points[1:]] + [now]
    for p, end in zip(points, ends, strict=True):
        if p.at > now:
            break
        rate_ml = (
            p.rate_ml_per_h
            if p.kind in (RateEventKind.START, RateEventKind.RESUME, RateEventKind.RATE)
            else 0.0
        )
        at = p.at
        span_h = max((end - at).total_seconds() / 3600.0, 0.0)
        if rate_ml > 0 and ml + rate_ml * span_h >= vtbi_ml:
            reached = at + timedelta(hours=(vtbi_ml - ml) / rate_ml)
            break
        ml += rate_ml * span_h
        if p.kind is RateEventKind.STOP:
            break
    if reached is None:  # float noise only
        reached = now
    upto = _integrate([p for p in points if p.at <= reached], reached)
    ratio = vtbi_ml / upto.delivered_ml if upto.delivered_ml > 0 else 1.0
    end = raw.stopped_at or max(now, raw.started_at or now)
    after = max((min(end, now) - reached).total_seconds() / 60.0, 0.0)
    return Delivery(
        delivered_mg=upto.delivered_mg * min(ratio, 1.0),
        delivered_ml=vtbi_ml,
        infusing_min=upto.infusing_min,
        paused_min=upto.paused_min + after,  # the bag was empty: the pump ran no more
        elapsed_min=raw.elapsed_min,
        current_rate_mg_per_h=0.0,
        current_rate_ml_per_h=0.0,
        started_at=raw.started_at,
        stopped_at=raw.stopped_at,
        vtbi_reached_at=reached,
    )


def _integrate(points: tuple[RatePoint, ...] | list[RatePoint], now: datetime) -> Delivery:
    if not points:
        return NOTHING
    if points[0].kind is not RateEventKind.START:
        raise ValidationError(
            FIRST_NOT_START.format(value=points[0].kind.value), field="kind", value=points[0].kind.value
        )
    mg = ml = infusing = paused = 0.0
    rate_mg = rate_ml = 0.0
    running = False
    stopped_at: datetime | None = None
    prev = points[0].at
    for i, p in enumerate(points):
        if i and p.at < points[i - 1].at:
            raise ValidationError(
                OUT_OF_ORDER.format(later=p.at.isoformat(), earlier=points[i - 1].at.isoformat()),
                field="at",
                value=p.at,
            )
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
        delivered_mg=mg,
        delivered_ml=ml,
        infusing_min=infusing,
        paused_min=paused,
        elapsed_min=max((end - started).total_seconds() / 60.0, 0.0),
        current_rate_mg_per_h=rate_mg,
        current_rate_ml_per_h=rate_ml,
        started_at=started,
        stopped_at=stopped_at,
    )


def delivered_regimen(
    points: tuple[RatePoint, ...] | list[RatePoint], now: datetime, *, vtbi_ml: float | None = None
) -> Regimen | None:
    """The rate history up to ``now`` (or the stop, or the bag running empty) as a PK regimen from the start:
    what the patient received.

    None before the start or when no drug has run yet (e.g. paused at once).
    """
    d = delivery(points, now, vtbi_ml=vtbi_ml)
    if d.started_at is None or d.delivered_mg <= 0:
        return None
    end = min(t for t in (d.stopped_at, d.vtbi_reached_at, now) if t is not None)
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
