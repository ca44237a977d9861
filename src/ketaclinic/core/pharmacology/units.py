"""Quantities with units: the only way a number enters the dose and PK engine.

A small typed layer rather than pint, for three reasons (docs/pharmacology.md, "Units"):

* the clinic accepts a *short, named* list of units per kind of quantity (a weight is kg or lb, never
  stone or grain) and every refusal names that list — pint accepts anything dimensionally compatible;
* the core does no I/O, and pint's registry reads its definition file when it is built;
* the population simulation runs on plain float arrays; canonical units are fixed here (kg, cm, mg,
  mg/min, min, ng/mL, mL, mg/mL) and written into every field name (``weight_kg``, ``rate_mg_per_min``).

Conversion factors are exact by definition: 1 lb = 0.45359237 kg (international yard and pound
agreement, 1959); 1 in = 2.54 cm (same agreement). The tests check every factor against pint.

A number without a unit is refused, never guessed (ARCHITECTURE.md rule 4).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.core.errors import ValidationError

KG_PER_LB = 0.45359237  # exact, international yard and pound agreement (1959)
CM_PER_INCH = 2.54  # exact, same agreement

UNITLESS = "{field} {value!r} has no unit: write it with one of {allowed} (e.g. {example})."
UNKNOWN_UNIT = "{field} {value!r} has unit {unit!r}, which is not allowed here: use one of {allowed}."
NOT_A_NUMBER = "{field} {value!r} is not a number followed by a unit: use one of {allowed} (e.g. {example})."
NOT_FINITE = "{field} {value!r} is not a finite number."
OUT_OF_RANGE = "{field} {value} {unit} is outside the allowed range {low}–{high} {unit}."
NOT_POSITIVE = "{field} {value} {unit} must be greater than zero (allowed range {low}–{high} {unit})."


class Kind(StrEnum):
    """What a quantity measures; each kind has a canonical unit and a short list of accepted units."""

    BODY_WEIGHT = "body weight"
    HEIGHT = "height"
    DOSE = "dose"
    RATE = "dose rate"
    DURATION = "duration"
    CONCENTRATION = "concentration"
    VOLUME = "volume"
    VIAL_STRENGTH = "vial strength"


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """One accepted spelling: factor to the canonical unit, and whether it is per kg of body weight."""

    factor: float
    canonical: str
    per_kg: bool = False


_TIME_TO_MIN = {"s": 1 / 60, "min": 1.0, "h": 60.0}

UNITS: dict[Kind, dict[str, UnitSpec]] = {
    Kind.BODY_WEIGHT: {"kg": UnitSpec(1.0, "kg"), "lb": UnitSpec(KG_PER_LB, "kg")},
    Kind.HEIGHT: {"cm": UnitSpec(1.0, "cm"), "in": UnitSpec(CM_PER_INCH, "cm"), "m": UnitSpec(100.0, "cm")},
    Kind.DOSE: {"mg": UnitSpec(1.0, "mg"), "mg/kg": UnitSpec(1.0, "mg/kg", per_kg=True)},
    Kind.RATE: {
        "mg/min": UnitSpec(1.0, "mg/min"),
        "mg/h": UnitSpec(1 / 60, "mg/min"),
        "mg/kg/min": UnitSpec(1.0, "mg/kg/min", per_kg=True),
        "mg/kg/h": UnitSpec(1 / 60, "mg/kg/min", per_kg=True),
    },
    Kind.DURATION: {k: UnitSpec(v, "min") for k, v in _TIME_TO_MIN.items()},
    Kind.CONCENTRATION: {
        "ng/mL": UnitSpec(1.0, "ng/mL"),
        "ug/mL": UnitSpec(1000.0, "ng/mL"),
        "µg/mL": UnitSpec(1000.0, "ng/mL"),
        "mg/L": UnitSpec(1000.0, "ng/mL"),
    },
    Kind.VOLUME: {"mL": UnitSpec(1.0, "mL"), "L": UnitSpec(1000.0, "mL")},
    Kind.VIAL_STRENGTH: {"mg/mL": UnitSpec(1.0, "mg/mL")},
}

_EXAMPLES = {
    Kind.BODY_WEIGHT: "82kg or 180lb",
    Kind.HEIGHT: "175cm or 69in",
    Kind.DOSE: "0.5mg/kg or 40mg",
    Kind.RATE: "0.35mg/kg/h or 20mg/h",
    Kind.DURATION: "40min or 2h",
    Kind.CONCENTRATION: "300ng/mL",
    Kind.VOLUME: "100mL",
    Kind.VIAL_STRENGTH: "50mg/mL",
}

# Plausibility ranges: typo guards for a dosing engine, not clinical rules (those live in protocols).
BODY_WEIGHT_RANGE_KG = (20.0, 350.0)
HEIGHT_RANGE_CM = (100.0, 250.0)

_NUMBER = re.compile(
    r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?nan|[+-]?inf(?:inity)?)\s*(.*?)\s*$",
    re.IGNORECASE,
)


def allowed_units(kind: Kind) -> str:
    return ", ".join(UNITS[kind])


@dataclass(frozen=True, slots=True)
class Quantity:
    """A parsed quantity in its canonical unit: ``value`` in ``unit`` (e.g. 0.5 in mg/kg)."""

    value: float
    unit: str
    kind: Kind
    per_kg: bool = False
    text: str = ""


def quantity_parse(text: str, kind: Kind, *, field: str | None = None) -> Quantity:
    """Parse ``"82kg"``, ``"0.5 mg/kg"``, ``"40min"`` into the canonical unit of ``kind``.

    Refuses: no unit (``"82"``), a unit not listed for the kind, NaN and infinities.
    """
    name = field or kind.value
    allowed = allowed_units(kind)
    raw = str(text)
    match = _NUMBER.match(raw)
    if not match:
        raise ValidationError(
            NOT_A_NUMBER.format(field=name, value=raw, allowed=allowed, example=_EXAMPLES[kind]),
            field=name,
            value=raw,
        )
    number_text, unit_text = match.group(1), match.group(2)
    number = float(number_text)
    if not math.isfinite(number):
        raise ValidationError(NOT_FINITE.format(field=name, value=raw), field=name, value=raw)
    if unit_text == "":
        raise ValidationError(
            UNITLESS.format(field=name, value=raw, allowed=allowed, example=_EXAMPLES[kind]),
            field=name,
            value=raw,
        )
    spec = UNITS[kind].get(unit_text) or _case_insensitive(kind, unit_text)
    if spec is None:
        raise ValidationError(
            UNKNOWN_UNIT.format(field=name, value=raw, unit=unit_text, allowed=allowed), field=name, value=raw
        )
    return Quantity(number * spec.factor, spec.canonical, kind, spec.per_kg, raw)


def unit_text(text: str) -> str:
    """The unit part of ``"0.5 mg/kg"`` (``"mg/kg"``), or ``""`` when the text is not number-then-unit."""
    match = _NUMBER.match(str(text))
    return match.group(2) if match else ""


def unit_known(unit: str, kind: Kind) -> bool:
    return unit in UNITS[kind] or _case_insensitive(kind, unit) is not None


def _case_insensitive(kind: Kind, unit_text: str) -> UnitSpec | None:
    """Accept ``ml``/``ML`` for ``mL`` and ``KG`` for ``kg``: unit spellings differ only in case."""
    folded = {k.lower(): v for k, v in UNITS[kind].items()}
    return folded.get(unit_text.lower())


def check_range(value: float, low: float, high: float, *, field: str, unit: str) -> float:
    """Return ``value`` if it is finite, above zero and within ``[low, high]`` (inclusive); refuse
    otherwise."""
    if not math.isfinite(value):
        raise ValidationError(NOT_FINITE.format(field=field, value=value), field=field, value=value)
    if value <= 0:
        raise ValidationError(
            NOT_POSITIVE.format(field=field, value=_fmt(value), unit=unit, low=_fmt(low), high=_fmt(high)),
            field=field,
            value=value,
        )
    if value < low or value > high:
        raise ValidationError(
            OUT_OF_RANGE.format(field=field, value=_fmt(value), unit=unit, low=_fmt(low), high=_fmt(high)),
            field=field,
            value=value,
        )
    return value


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def body_weight_kg(text: str) -> float:
    """A patient's weight from ``"82kg"`` or ``"180lb"``, in kg, within the plausibility range."""
    q = quantity_parse(text, Kind.BODY_WEIGHT, field="weight")
    return check_range(q.value, *BODY_WEIGHT_RANGE_KG, field="weight", unit="kg")


def height_cm(text: str) -> float:
    """A patient's height from ``"175cm"``, ``"69in"`` or ``"1.75m"``, in cm."""
    q = quantity_parse(text, Kind.HEIGHT, field="height")
    return check_range(q.value, *HEIGHT_RANGE_CM, field="height", unit="cm")
