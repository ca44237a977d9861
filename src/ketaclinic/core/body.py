"""Body measurements entered with an explicit unit and converted to SI (kg, cm). Never guess a unit.

Allowed ranges are plausibility limits for adults in an outpatient clinic (refusing typos such as
0 kg or 900 kg), not clinical thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ketaclinic.core.errors import ValidationError

LB_PER_KG = Decimal("2.20462262185")
CM_PER_INCH = Decimal("2.54")

WEIGHT_UNITS = {"kg": Decimal(1), "lb": 1 / LB_PER_KG}
HEIGHT_UNITS = {"cm": Decimal(1), "in": CM_PER_INCH}
WEIGHT_RANGE_KG = (Decimal("20"), Decimal("350"))
HEIGHT_RANGE_CM = (Decimal("100"), Decimal("250"))

NO_UNIT = "{field} {value} has no unit: enter it in {units}."
BAD_UNIT = "{field} unit {unit!r} is unknown: allowed units are {units}."
OUT_OF_RANGE = "{field} {value} {unit} is outside the allowed range {low}–{high} {si}."
NOT_A_NUMBER = "{field} {value!r} is not a number."


@dataclass(frozen=True, slots=True)
class Measurement:
    value_si: Decimal  # kg or cm, rounded to 0.01
    entered_value: Decimal
    entered_unit: str


def _measure(
    field: str, value: object, unit: str | None, units: dict[str, Decimal], limits: tuple[Decimal, Decimal], si: str
) -> Measurement:
    allowed = " or ".join(units)
    if unit is None or str(unit).strip() == "":
        raise ValidationError(NO_UNIT.format(field=field, value=value, units=allowed), field=field.lower(), value=value)
    unit = str(unit).strip().lower()
    if unit not in units:
        raise ValidationError(BAD_UNIT.format(field=field, unit=unit, units=allowed), field=field.lower(), value=unit)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(NOT_A_NUMBER.format(field=field, value=value), field=field.lower(), value=value) from None
    if not number.is_finite() or math.isnan(float(number)):
        raise ValidationError(NOT_A_NUMBER.format(field=field, value=value), field=field.lower(), value=value)
    si_value = (number * units[unit]).quantize(Decimal("0.01"))
    low, high = limits
    if not low <= si_value <= high:
        shown_low, shown_high = (low / units[unit]).quantize(Decimal("0.1")), (high / units[unit]).quantize(Decimal("0.1"))
        raise ValidationError(
            OUT_OF_RANGE.format(field=field, value=number, unit=unit, low=shown_low, high=shown_high, si=unit),
            field=field.lower(),
            value=number,
        )
    return Measurement(si_value, number, unit)


def weight_measure(value: object, unit: str | None) -> Measurement:
    """A weight in kg or lb, stored in kg. ``weight_measure(180, "lb").value_si == Decimal("81.65")``."""
    return _measure("Weight", value, unit, WEIGHT_UNITS, WEIGHT_RANGE_KG, "kg")


def height_measure(value: object, unit: str | None) -> Measurement:
    """A height in cm or in, stored in cm."""
    return _measure("Height", value, unit, HEIGHT_UNITS, HEIGHT_RANGE_CM, "cm")
