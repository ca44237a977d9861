"""Vital signs during a session: plausibility (refuse typos), hold thresholds (alerts), baseline limits,
overdue.

Ranges, thresholds and intervals come from the protocol's ``monitoring`` section (DOMAIN.md §4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.protocols.monitoring import (
    AlertLevel,
    MonitoringSection,
    SuggestedAction,
    Threshold,
    Vital,
)


class Sedation(IntEnum):
    """A plain clinician observation of sedation/dissociation (not a validated scale; DOMAIN.md §5 CADSS)."""

    NONE = 0
    MILD = 1
    MODERATE = 2
    SEVERE = 3

    @classmethod
    def parse(cls, value: str | int) -> Sedation:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3:
            return cls(value)
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            raise ValidationError(
                SEDATION_UNKNOWN.format(value=value), field="sedation", value=value
            ) from None


SEDATION_UNKNOWN = "Sedation/dissociation {value!r} is unknown: allowed are none, mild, moderate, severe."
IMPLAUSIBLE = (
    "{label} {value:g} {unit} is not a possible reading (possible: {low:g}–{high:g} {unit}); check the "
    "reading."
)
NOT_WHOLE = (
    "{label} {value:g} {unit} must be a whole number (the monitor shows whole numbers); check the reading."
)
NOT_A_NUMBER = "{label} must be a number, got {value!r}."
DIASTOLIC_ABOVE_SYSTOLIC = "Diastolic {dia:g} mmHg is not below systolic {sys:g} mmHg; check the reading."
READING_EMPTY = "A vital signs reading needs at least one value."


@dataclass(frozen=True, slots=True)
class VitalReading:
    """One reading; any value may be missing (e.g. a BP-only reading) but not all."""

    systolic_mmhg: float | None = None
    diastolic_mmhg: float | None = None
    heart_rate_bpm: float | None = None
    spo2_percent: float | None = None
    respiratory_rate_per_min: float | None = None
    sedation: Sedation | None = None

    def value(self, vital: Vital) -> float | None:
        if vital is Vital.SEDATION:
            return None if self.sedation is None else float(int(self.sedation))
        v: float | None = getattr(self, vital.value)
        return v

    def values(self) -> dict[Vital, float]:
        return {v: x for v in Vital if (x := self.value(v)) is not None}


def reading_check(reading: VitalReading, monitoring: MonitoringSection) -> VitalReading:
    """Refuse a reading with a physiologically impossible value, naming the vital and the range."""
    values = reading.values()
    if not values:
        raise ValidationError(READING_EMPTY, field="reading", value=None)
    for vital, value in values.items():
        if not math.isfinite(value):
            raise ValidationError(
                NOT_A_NUMBER.format(label=vital.label, value=value), field=vital.value, value=value
            )
        if value != math.floor(value):
            raise ValidationError(
                NOT_WHOLE.format(label=vital.label, value=value, unit=vital.unit),
                field=vital.value,
                value=value,
            )
        rng = monitoring.plausible_for(vital)
        if rng is not None and not rng.low <= value <= rng.high:
            raise ValidationError(
                IMPLAUSIBLE.format(
                    label=vital.label, value=value, unit=vital.unit, low=rng.low, high=rng.high
                ),
                field=vital.value,
                value=value,
            )
    sys_, dia = reading.systolic_mmhg, reading.diastolic_mmhg
    if sys_ is not None and dia is not None and dia >= sys_:
        raise ValidationError(
            DIASTOLIC_ABOVE_SYSTOLIC.format(dia=dia, sys=sys_), field="diastolic_mmhg", value=dia
        )
    return reading


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    vital: Vital
    value: float
    limit: float
    action: SuggestedAction
    message: str
    level: AlertLevel = AlertLevel.HOLD


ALERT_ABOVE = "{label} {value:g} {unit} is above {limit:g} {unit}: {advice}"
ALERT_BELOW = "{label} {value:g} {unit} is below {limit:g} {unit}: {advice}"


def _breach(t: Threshold, value: float) -> float | None:
    if t.above is not None and value > t.above:
        return t.above
    if t.below is not None and value < t.below:
        return t.below
    return None


def alerts_for(reading: VitalReading, monitoring: MonitoringSection) -> tuple[Alert, ...]:
    """Every threshold the reading crosses, critical ones first, with the protocol's suggested action.

    Where a critical threshold on a vital is crossed, the hold threshold on the same side of that vital is not
    repeated: one alert per vital and side, the loudest.
    """
    out = []
    critical_sides = set()
    ordered = sorted(monitoring.thresholds, key=lambda t: t.level is not AlertLevel.CRITICAL)
    for t in ordered:
        value = reading.value(t.vital)
        if value is None:
            continue
        limit = _breach(t, value)
        side = (t.vital, t.above is not None)
        if limit is None or side in critical_sides:
            continue
        if t.level is AlertLevel.CRITICAL:
            critical_sides.add(side)
        template = ALERT_ABOVE if t.above is not None else ALERT_BELOW
        text = template.format(
            label=t.vital.label, value=value, unit=t.vital.unit, limit=limit, advice=t.advice
        )
        out.append(
            Alert(
                t.code,
                t.vital,
                value,
                limit,
                t.action,
                (CRITICAL_PREFIX + text) if t.level is AlertLevel.CRITICAL else text,
                t.level,
            )
        )
    return tuple(out)


CRITICAL_PREFIX = "CRITICAL: "
OPEN_ALERTS_BLOCK = "The infusion cannot {action} while {count} alert(s) are not acknowledged: {alerts}."


def open_alerts_problem(action: str, open_alert_messages: tuple[str, ...]) -> str | None:
    """Why the pump may not (re)start: every open alert must be acknowledged first (None when none is
    open)."""
    if not open_alert_messages:
        return None
    return OPEN_ALERTS_BLOCK.format(
        action=action, count=len(open_alert_messages), alerts="; ".join(open_alert_messages)
    )


BASELINE_ABOVE = "baseline {label} {value:g} {unit} is above the starting limit {limit:g} {unit}"
BASELINE_BELOW = "baseline {label} {value:g} {unit} is below the starting limit {limit:g} {unit}"
BASELINE_MISSING = "no baseline vital signs recorded"


def baseline_problems(reading: VitalReading | None, monitoring: MonitoringSection) -> tuple[str, ...]:
    """Why the baseline reading does not allow starting (empty when it does)."""
    if reading is None:
        return (BASELINE_MISSING,)
    out = []
    for lim in monitoring.baseline_limits:
        value = reading.value(lim.vital)
        if value is None:
            out.append(f"baseline {lim.vital.label} not recorded")
        elif lim.above is not None and value > lim.above:
            out.append(
                BASELINE_ABOVE.format(
                    label=lim.vital.label, value=value, unit=lim.vital.unit, limit=lim.above
                )
            )
        elif lim.below is not None and value < lim.below:
            out.append(
                BASELINE_BELOW.format(
                    label=lim.vital.label, value=value, unit=lim.vital.unit, limit=lim.below
                )
            )
    return tuple(out)


def reading_complete(reading: VitalReading, monitoring: MonitoringSection) -> bool:
    """Whether the reading holds every measurement the protocol requires (a heart rate alone is not a set)."""
    return all(reading.value(v) is not None for v in monitoring.required)


OVERDUE_ALERT = (
    "Vital signs overdue by {late:.0f} min (a complete set was due at {due}): take blood pressure, "
    "heart rate, SpO2 and respiratory rate now."
)


@dataclass(frozen=True, slots=True)
class VitalsDue:
    due_at: datetime
    overdue: bool
    overdue_by_min: float


def vitals_due(
    *, since: datetime, last_reading_at: datetime | None, now: datetime, interval_min: float, grace_min: float
) -> VitalsDue:
    """The next reading is due ``interval_min`` after the last one taken since ``since`` (or after ``since``).

    It shows as overdue once ``grace_min`` has passed beyond that.
    """
    anchor = since if last_reading_at is None or last_reading_at < since else last_reading_at
    due = anchor + timedelta(minutes=interval_min)
    late = (now - due).total_seconds() / 60.0
    return VitalsDue(due_at=due, overdue=late > grace_min, overdue_by_min=max(late, 0.0))
