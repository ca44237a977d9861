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

NO_UNIT = "{field} {value} needs a unit: {units}."
BAD_UNIT = "{field} unit {unit!r} is unknown: allowed units are {units}."
OUT_OF_RANGE = "{field} {value} {unit} is outside the allowed range {low}–{high} {si}."
NOT_A_NUMBER = "{field} {value!r} is not a number."


@dataclass(frozen=True, slots=True)
class Measurement:
    value_si: Decimal  # kg or cm, rounded to 0.01
    entered_value: Decimal
    entered_unit: str


def _measure(
    field: str,
    value: object,
    unit: str | None,
    units: dict[str, Decimal],
    limits: tuple[Decimal, Decimal],
    si: str,
) -> Measurement:
    allowed = " or ".join(units)
    if unit is None or str(unit).strip() == "":
        raise ValidationError(
            NO_UNIT.format(field=field, value=value, units=allowed), field=field.lower(), value=value
        )
    unit = str(unit).strip().lower()
    if unit not in units:
        raise ValidationError(
            BAD_UNIT.format(field=field, unit=unit, units=allowed), field=field.lower(), value=unit
        )
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            NOT_A_NUMBER.format(field=field, value=value), field=field.lower(), value=value
        ) from None
    if not number.is_finite() or math.isnan(float(number)):
        raise ValidationError(NOT_A_NUMBER.format(field=field, value=value), field=field.lower(), value=value)
    low, high = limits
    # Compare before any arithmetic: a huge number (1e308, 1e999999999) cannot be converted or rounded to
    # 0.01 and must be refused, not crash. No unit is more than 3 times its SI value.
    if number.copy_abs() > high * 3:  # copy_abs: no context, so no overflow
        si_value = number
    else:
        si_value = (number * units[unit]).quantize(Decimal("0.01"))
    if not low <= si_value <= high:
        shown_low, shown_high = (
            (low / units[unit]).quantize(Decimal("0.1")),
            (high / units[unit]).quantize(Decimal("0.1")),
        )
        raise ValidationError(
            OUT_OF_RANGE.format(
                field=field, value=number, unit=unit, low=shown_low, high=shown_high, si=unit
            ),
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


WEIGHT_CHANGED = (
    "Weight {new} kg differs from the last recorded weight {previous} kg by {percent:.1f}% (more than "
    "{limit:g}%): check the scale and the unit (kg or lb), then confirm the weight."
)
BMI_IMPLAUSIBLE = (
    "Weight {new} kg with height {height} cm gives a BMI of {bmi:.1f}, outside {low:g}–{high:g}: check the "
    "weight and the unit (kg or lb), then confirm the weight."
)
ORDER_WEIGHT_CHANGED = (
    "the order was calculated for {ordered} kg but today's weight is now {today} kg: a new order "
    "must be calculated and signed"
)


def weight_change_percent(new_kg: Decimal, previous_kg: Decimal) -> Decimal:
    """|new − previous| / previous × 100 (previous > 0, as every stored weight is)."""
    return abs(new_kg - previous_kg) / previous_kg * 100


def bmi(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """Body-mass index, kg/m² (WHO)."""
    metres = height_cm / 100
    return weight_kg / (metres * metres)


def weight_confirmations(
    new_kg: Decimal,
    *,
    previous_kg: Decimal | None,
    height_cm: Decimal | None,
    change_percent: float,
    bmi_low: float,
    bmi_high: float,
) -> tuple[str, ...]:
    """What a nurse must explicitly confirm before this weight is used (empty when nothing): a change from the
    patient's last recorded weight beyond ``change_percent``, or a BMI outside ``bmi_low``–``bmi_high`` when
    the height is known. Each message shows both weights (or the weight and height) so a unit slip is
    visible."""
    out = []
    if previous_kg is not None and previous_kg > 0:
        pct = weight_change_percent(new_kg, previous_kg)
        if pct > Decimal(str(change_percent)):
            out.append(
                WEIGHT_CHANGED.format(new=new_kg, previous=previous_kg, percent=pct, limit=change_percent)
            )
    if height_cm is not None and height_cm > 0:
        value = bmi(new_kg, height_cm)
        if not Decimal(str(bmi_low)) <= value <= Decimal(str(bmi_high)):
            out.append(
                BMI_IMPLAUSIBLE.format(new=new_kg, height=height_cm, bmi=value, low=bmi_low, high=bmi_high)
            )
    return tuple(out)


def order_weight_problem(ordered_kg: Decimal, today_kg: Decimal | None) -> str | None:
    """Why a signed order no longer fits today's weight (None when it does): any change voids it."""
    if today_kg is None or today_kg != ordered_kg:
        return ORDER_WEIGHT_CHANGED.format(
            ordered=ordered_kg, today="not recorded" if today_kg is None else today_kg
        )
    return None
