"""A dosing regimen: consecutive constant-rate segments (bolus, infusion, pause) starting at time 0.

Doses may be per kg of body weight or fixed; ``regimen_for_weight`` turns a regimen into absolute
rates (mg/min) for one patient. Guards below are typo guards for a simulator ("absurd" input), not
clinical limits — clinical limits live in protocol documents (``core/protocols/dosing.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.units import Kind, quantity_parse, unit_known, unit_text

# Simulator plausibility guards (not clinical limits): ten times the largest anaesthetic ketamine
# doses/rates in common use, so that only typos are refused.
MAX_BOLUS_MG_PER_KG = 20.0
MAX_BOLUS_MG = 2000.0
MAX_RATE_MG_PER_KG_PER_MIN = 1.0  # 60 mg/kg/h
MAX_RATE_MG_PER_MIN = 100.0  # 6000 mg/h
MAX_DURATION_MIN = 10080.0  # 7 days (a 4-day continuous CRPS infusion fits)
MAX_SEGMENTS = 1000

NOT_IN_RANGE = "{field} {value!r} {unit} is outside the allowed range {low}–{high} {unit}."
EXACTLY_ONE = "{what} needs exactly one of {a} or {b}."
EMPTY_REGIMEN = "A regimen needs at least one bolus or infusion; got {value!r}."
TOO_MANY_SEGMENTS = "A regimen has at most {high} segments; got {value}."
NO_DRUG = "A regimen needs at least one bolus or infusion; pauses alone give no drug (segments: {value})."


def _positive(value: float | None, *, field: str, unit: str, high: float) -> None:
    if value is None:
        return
    if not (isinstance(value, int | float) and math.isfinite(value) and 0 < value <= high):
        raise ValidationError(
            NOT_IN_RANGE.format(field=field, value=value, unit=unit, low="above 0", high=f"{high:g}"),
            field=field,
            value=value,
        )


@dataclass(frozen=True, slots=True)
class Bolus:
    """An instantaneous dose into the central compartment, in mg or in mg/kg."""

    dose_mg: float | None = None
    dose_mg_per_kg: float | None = None

    def __post_init__(self) -> None:
        if (self.dose_mg is None) == (self.dose_mg_per_kg is None):
            raise ValidationError(
                EXACTLY_ONE.format(what="A bolus", a="dose_mg", b="dose_mg_per_kg"), field="bolus"
            )
        _positive(self.dose_mg, field="bolus dose", unit="mg", high=MAX_BOLUS_MG)
        _positive(self.dose_mg_per_kg, field="bolus dose", unit="mg/kg", high=MAX_BOLUS_MG_PER_KG)

    @property
    def duration_min(self) -> float:
        return 0.0

    def mg_for(self, weight_kg: float) -> float:
        return self.dose_mg if self.dose_mg is not None else float(self.dose_mg_per_kg) * weight_kg  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Infusion:
    """A constant-rate infusion for ``duration_min``, in mg/min or mg/kg/min."""

    duration_min: float
    rate_mg_per_min: float | None = None
    rate_mg_per_kg_per_min: float | None = None

    def __post_init__(self) -> None:
        if (self.rate_mg_per_min is None) == (self.rate_mg_per_kg_per_min is None):
            raise ValidationError(
                EXACTLY_ONE.format(what="An infusion", a="rate_mg_per_min", b="rate_mg_per_kg_per_min"),
                field="infusion",
            )
        _positive(self.duration_min, field="infusion duration", unit="min", high=MAX_DURATION_MIN)
        _positive(self.rate_mg_per_min, field="infusion rate", unit="mg/min", high=MAX_RATE_MG_PER_MIN)
        _positive(
            self.rate_mg_per_kg_per_min,
            field="infusion rate",
            unit="mg/kg/min",
            high=MAX_RATE_MG_PER_KG_PER_MIN,
        )

    @classmethod
    def dose_over(
        cls, *, duration_min: float, dose_mg: float | None = None, dose_mg_per_kg: float | None = None
    ) -> Infusion:
        """A dose given evenly over ``duration_min``: rate = dose / duration."""
        _positive(duration_min, field="infusion duration", unit="min", high=MAX_DURATION_MIN)
        if (dose_mg is None) == (dose_mg_per_kg is None):
            raise ValidationError(
                EXACTLY_ONE.format(what="An infusion dose", a="dose_mg", b="dose_mg_per_kg"), field="infusion"
            )
        _positive(dose_mg, field="infusion dose", unit="mg", high=MAX_BOLUS_MG)
        _positive(dose_mg_per_kg, field="infusion dose", unit="mg/kg", high=MAX_BOLUS_MG_PER_KG)
        if dose_mg is not None:
            return cls(duration_min, rate_mg_per_min=dose_mg / duration_min)
        return cls(duration_min, rate_mg_per_kg_per_min=float(dose_mg_per_kg) / duration_min)  # type: ignore[arg-type]

    def mg_per_min_for(self, weight_kg: float) -> float:
        if self.rate_mg_per_min is not None:
            return self.rate_mg_per_min
        return float(self.rate_mg_per_kg_per_min) * weight_kg  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Pause:
    """No drug for ``duration_min`` (a titration stop, a hold for vital signs)."""

    duration_min: float

    def __post_init__(self) -> None:
        _positive(self.duration_min, field="pause duration", unit="min", high=MAX_DURATION_MIN)


Segment = Bolus | Infusion | Pause


@dataclass(frozen=True, slots=True)
class Phase:
    """One segment placed on the time axis for one patient: ``rate_mg_per_min`` from start to end."""

    start_min: float
    end_min: float
    rate_mg_per_min: float
    bolus_mg: float = 0.0


@dataclass(frozen=True, slots=True)
class Regimen:
    """Segments in order, the first starting at time 0, each starting when the previous one ends."""

    segments: tuple[Segment, ...]

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValidationError(EMPTY_REGIMEN.format(value=list(self.segments)), field="segments", value=())
        if len(self.segments) > MAX_SEGMENTS:
            raise ValidationError(
                TOO_MANY_SEGMENTS.format(high=MAX_SEGMENTS, value=len(self.segments)), field="segments"
            )
        for s in self.segments:
            if not isinstance(s, Bolus | Infusion | Pause):
                raise ValidationError(f"Not a segment: {s!r}.", field="segments", value=s)
        if all(isinstance(s, Pause) for s in self.segments):
            raise ValidationError(NO_DRUG.format(value=len(self.segments)), field="segments")

    @classmethod
    def of(cls, segments: Sequence[Segment]) -> Regimen:
        return cls(tuple(segments))

    @property
    def end_min(self) -> float:
        return math.fsum(s.duration_min for s in self.segments)

    @property
    def last_infusion_end_min(self) -> float | None:
        """When the last drug-giving segment ends (a bolus ends when it is given); None if none."""
        t, last = 0.0, None
        for s in self.segments:
            t += s.duration_min
            if not isinstance(s, Pause):
                last = t
        return last

    def phases_for(self, weight_kg: float) -> tuple[Phase, ...]:
        """The regimen on the time axis for a patient of ``weight_kg``, in absolute mg and mg/min."""
        t, phases = 0.0, []
        for s in self.segments:
            if isinstance(s, Bolus):
                phases.append(Phase(t, t, 0.0, s.mg_for(weight_kg)))
            elif isinstance(s, Infusion):
                phases.append(Phase(t, t + s.duration_min, s.mg_per_min_for(weight_kg)))
                t += s.duration_min
            else:
                phases.append(Phase(t, t + s.duration_min, 0.0))
                t += s.duration_min
        return tuple(phases)

    def total_mg_for(self, weight_kg: float) -> float:
        return math.fsum(
            p.bolus_mg + p.rate_mg_per_min * (p.end_min - p.start_min) for p in self.phases_for(weight_kg)
        )


BAD_INFUSION_SPEC = (
    "Infusion {value!r} is not understood: write a dose over a duration (0.5mg/kg/40min, 80mg/2h) or a rate "
    "for a duration (20mg/h/120min, 0.35mg/kg/h/4h)."
)


def infusion_parse(text: str) -> Infusion:
    """``0.5mg/kg/40min`` (dose over duration) or ``20mg/h/120min`` (rate for duration) →
    :class:`Infusion`."""
    raw = str(text).strip()
    head, sep, tail = raw.rpartition("/")
    if not sep or not head:
        raise ValidationError(BAD_INFUSION_SPEC.format(value=raw), field="infusion", value=raw)
    duration = quantity_parse(tail, Kind.DURATION, field="infusion duration")
    unit = unit_text(head)
    if unit_known(unit, Kind.DOSE):
        dose = quantity_parse(head, Kind.DOSE, field="infusion dose")
        if dose.per_kg:
            return Infusion.dose_over(duration_min=duration.value, dose_mg_per_kg=dose.value)
        return Infusion.dose_over(duration_min=duration.value, dose_mg=dose.value)
    if unit_known(unit, Kind.RATE):
        rate = quantity_parse(head, Kind.RATE, field="infusion rate")
        if rate.per_kg:
            return Infusion(duration.value, rate_mg_per_kg_per_min=rate.value)
        return Infusion(duration.value, rate_mg_per_min=rate.value)
    raise ValidationError(BAD_INFUSION_SPEC.format(value=raw), field="infusion", value=raw)


def bolus_parse(text: str) -> Bolus:
    """``0.1mg/kg`` or ``10mg`` → :class:`Bolus`."""
    q = quantity_parse(text, Kind.DOSE, field="bolus dose")
    return Bolus(dose_mg_per_kg=q.value) if q.per_kg else Bolus(dose_mg=q.value)


def pause_parse(text: str) -> Pause:
    return Pause(quantity_parse(text, Kind.DURATION, field="pause duration").value)
