"""A session's dose checked against the protocol's soft and hard limits, and the pump program.

The dosing weight (Devine, adjusted body weight, BMI, the obese rule) is in
:mod:`ketaclinic.core.pharmacology.body_weight`. Formulas here, each a clinic-visible default from
DOMAIN.md §2:

* Pump: concentration = dose / (bag volume + drug volume drawn from the vial); rate (mL/h) = total
  volume / duration (h), rounded half-up to the pump's precision; dose delivered = rounded rate x
  duration x concentration (DOMAIN.md §2: rate = dose / concentration / duration).

Limits work like a smart pump's drug library: every limit is inclusive (a value *at* a limit is within
it); beyond a soft limit the calculation carries a warning that needs a prescriber's override reason;
beyond a hard limit it is refused with :class:`HardLimitError`. Comparisons allow a relative 1e-9 so
that a dose entered *at* a limit in another unit (mg instead of mg/kg) is not refused for a rounding
error in the last binary digit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.body_weight import DosingWeight, Sex, dosing_weight_compute
from ketaclinic.core.pharmacology.units import (
    Kind,
    Quantity,
    check_range,
)
from ketaclinic.core.protocols.dosing import (
    DoseBasis,
    DosingSection,
    LimitQuantity,
    Route,
)

LIMIT_RTOL = 1e-9
MIN_OVERRIDE_REASON_CHARS = 15  # a sentence saying why, not "ok" or a 12-character token

HARD_ABOVE = (
    "{what} {value:.4g} {unit} is above the hard limit of {bound:g} {unit} ({source}); allowed range "
    "{range}. Refused."
)
HARD_BELOW = (
    "{what} {value:.4g} {unit} is below the hard limit of {bound:g} {unit} ({source}); allowed range "
    "{range}. Refused."
)
SOFT_ABOVE = (
    "{what} {value:.4g} {unit} is above the soft limit of {bound:g} {unit} ({source}): a prescriber must "
    "give an override reason."
)
SOFT_BELOW = (
    "{what} {value:.4g} {unit} is below the soft limit of {bound:g} {unit} ({source}): a prescriber must "
    "give an override reason."
)
WRONG_DOSE_UNIT = (
    "Dose {value!r} is a {kind}, but the protocol doses in {basis}: give it in one of {allowed}."
)
NOT_AN_INTRANASAL_DOSE = "Intranasal dose {value:g} mg is not one of the allowed doses {allowed} mg. Refused."
NO_PUMP = "Protocol route {route} has no pump program."
VIAL_NOT_ALLOWED = (
    "Vial strength {value:g} mg/mL is not one the protocol allows: allowed are {allowed} mg/mL."
)
BAG_RANGE = "Bag volume {value!r} mL is outside the allowed range 10–1000 mL."
RATE_ROUNDS_TO_ZERO = (
    "Pump rate {value:.4g} mL/h rounds to zero at precision {precision:g} mL/h: use a weaker dilution or "
    "a longer infusion."
)
RATE_ABOVE_PUMP = (
    "Pump rate {value:.4g} mL/h is above the pump maximum of {high:g} mL/h: use a stronger dilution or a "
    "longer infusion."
)
RATE_CAPPED = (
    "Rate capped at the protocol maximum of {cap:g} mg/h (weight-based rate would be {uncapped:.4g} mg/h)."
)
OVERRIDE_TOO_SHORT = "An override reason needs at least {low} characters saying why; got {value!r}."
NO_WARNINGS_TO_OVERRIDE = "This dose breaches no soft limit, so there is nothing to override."
NO_DURATION = "A rate-based protocol needs an infusion duration."
NO_DEVICE = "An intranasal protocol needs its device (mg per device, allowed doses)."


class HardLimitError(ValidationError):
    """A dose, rate or duration beyond a protocol's hard limit: the calculation is refused."""


@dataclass(frozen=True, slots=True)
class LimitWarning:
    """A soft-limit breach: needs a prescriber's override reason before the dose can be signed."""

    quantity: LimitQuantity
    bound: str  # "soft_min" | "soft_max"
    limit: float
    value: float
    message: str


@dataclass(frozen=True, slots=True)
class PumpProgram:
    """What to prepare and what to key into the pump."""

    vial_mg_per_ml: float
    drug_volume_ml: float
    bag_ml: float
    total_volume_ml: float
    concentration_mg_per_ml: float
    exact_rate_ml_per_h: float
    rate_ml_per_h: float
    precision_ml_per_h: float
    vtbi_ml: float
    duration_min: float
    run_time_min: (
        float  # how long the pump runs to deliver vtbi_ml (shorter than duration if the bag empties first)
    )
    delivered_mg: float
    delivered_rate_mg_per_h: float
    residual_ml: float
    residual_mg: float


def _round_half_up(value: float, precision: float) -> float:
    """Round ``value`` to a multiple of ``precision`` half-up, in decimal (no binary artefacts: 151.25 →
    151.3)."""
    q = Decimal(str(precision))
    steps = (Decimal(repr(value)) / q).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return float(steps * q)


def pump_program(
    *,
    dose_mg: float,
    duration_min: float,
    vial_mg_per_ml: float,
    bag_ml: float,
    precision_ml_per_h: float = 0.1,
    max_rate_ml_per_h: float = 999.0,
) -> PumpProgram:
    """The dose drawn from the vial into the bag; the whole mixture is the reservoir (line dead space
    ignored).

    The pump runs ``rate_ml_per_h`` (rounded) for the prescribed duration: ``vtbi_ml`` = rounded rate x
    duration (never more than the bag holds); what stays in the bag is ``residual_ml`` (waste to record).
    """
    check_range(dose_mg, 1e-3, 10000, field="dose", unit="mg")
    check_range(duration_min, 1e-3, 10080, field="infusion duration", unit="min")
    check_range(vial_mg_per_ml, 0.1, 1000, field="vial strength", unit="mg/mL")
    if not (math.isfinite(bag_ml) and 10 <= bag_ml <= 1000):
        raise ValidationError(BAG_RANGE.format(value=bag_ml), field="bag", value=bag_ml)
    drug_ml = dose_mg / vial_mg_per_ml
    total_ml = bag_ml + drug_ml
    conc = dose_mg / total_ml
    hours = duration_min / 60.0
    exact_rate = total_ml / hours
    rate = _round_half_up(exact_rate, precision_ml_per_h)
    if rate <= 0:
        raise ValidationError(
            RATE_ROUNDS_TO_ZERO.format(value=exact_rate, precision=precision_ml_per_h),
            field="rate",
            value=exact_rate,
        )
    if rate > max_rate_ml_per_h:
        raise ValidationError(
            RATE_ABOVE_PUMP.format(value=rate, high=max_rate_ml_per_h), field="rate", value=rate
        )
    vtbi = min(rate * hours, total_ml)
    delivered = vtbi * conc
    return PumpProgram(
        vial_mg_per_ml=vial_mg_per_ml,
        drug_volume_ml=drug_ml,
        bag_ml=bag_ml,
        total_volume_ml=total_ml,
        concentration_mg_per_ml=conc,
        exact_rate_ml_per_h=exact_rate,
        rate_ml_per_h=rate,
        precision_ml_per_h=precision_ml_per_h,
        vtbi_ml=vtbi,
        duration_min=duration_min,
        run_time_min=vtbi / rate * 60.0,
        delivered_mg=delivered,
        delivered_rate_mg_per_h=rate * conc,
        residual_ml=total_ml - vtbi,
        residual_mg=(total_ml - vtbi) * conc,
    )


@dataclass(frozen=True, slots=True)
class DoseCalculation:
    """One session's dose. ``ready_to_sign`` is False while a soft-limit warning has no override reason."""

    route: Route
    basis: DoseBasis
    dosing_weight: DosingWeight
    dose_mg: float
    dose_mg_per_kg: float
    duration_min: float | None
    rate_mg_per_h: float | None
    rate_mg_per_kg_per_h: float | None
    warnings: tuple[LimitWarning, ...]
    notes: tuple[str, ...]
    pump: PumpProgram | None
    devices: int | None
    override_reason: str | None = None

    @property
    def requires_override(self) -> bool:
        return bool(self.warnings)

    @property
    def ready_to_sign(self) -> bool:
        return not self.warnings or self.override_reason is not None

    def as_dict(self) -> dict[str, object]:
        w = self.dosing_weight
        p = self.pump
        return {
            "route": self.route.value,
            "basis": self.basis.value,
            "dose_mg": self.dose_mg,
            "dose_mg_per_kg": self.dose_mg_per_kg,
            "dosing_weight_kg": w.kg,
            "dosing_weight_basis": w.basis.value,
            "actual_weight_kg": w.actual_kg,
            "ideal_weight_kg": w.ideal_kg,
            "adjusted_weight_kg": w.adjusted_kg,
            "bmi_kg_per_m2": w.bmi_kg_per_m2,
            "duration_min": self.duration_min,
            "rate_mg_h": self.rate_mg_per_h,
            "rate_mg_kg_h": self.rate_mg_per_kg_per_h,
            "rate_ml_h": None if p is None else p.rate_ml_per_h,
            "pump": None
            if p is None
            else {
                "vial_mg_per_ml": p.vial_mg_per_ml,
                "drug_volume_ml": p.drug_volume_ml,
                "bag_ml": p.bag_ml,
                "total_volume_ml": p.total_volume_ml,
                "concentration_mg_per_ml": p.concentration_mg_per_ml,
                "exact_rate_ml_h": p.exact_rate_ml_per_h,
                "rate_ml_h": p.rate_ml_per_h,
                "precision_ml_h": p.precision_ml_per_h,
                "vtbi_ml": p.vtbi_ml,
                "run_time_min": p.run_time_min,
                "delivered_mg": p.delivered_mg,
                "delivered_rate_mg_h": p.delivered_rate_mg_per_h,
                "residual_ml": p.residual_ml,
                "residual_mg": p.residual_mg,
            },
            "devices": self.devices,
            "warnings": [w.message for w in self.warnings],
            "requires_override": self.requires_override,
            "ready_to_sign": self.ready_to_sign,
            "override_reason": self.override_reason,
            "notes": list(self.notes) + list(self.dosing_weight.notes),
        }


def allowed_range(low: float, high: float | None, unit: str) -> str:
    """The hard range in words: "0–50 mg", or "40 mg or more (no upper hard limit)" without a maximum."""
    if high is None:
        return f"{low:g} {unit} or more (no upper hard limit)"
    return f"{low:g}–{high:g} {unit}"


def _check_limits(section: DosingSection, values: dict[LimitQuantity, float]) -> tuple[LimitWarning, ...]:
    warnings: list[LimitWarning] = []
    for limit in section.limits:
        value = values.get(limit.quantity)
        if value is None:
            continue
        unit, what = limit.quantity.unit, limit.quantity.label
        low = limit.hard_min if limit.hard_min is not None else 0
        allowed = allowed_range(low, limit.hard_max, unit)
        fmt = {"what": what, "value": value, "unit": unit, "source": limit.source, "range": allowed}
        if limit.hard_max is not None and value > limit.hard_max * (1 + LIMIT_RTOL):
            raise HardLimitError(
                HARD_ABOVE.format(bound=limit.hard_max, **fmt), field=limit.quantity.value, value=value
            )
        if limit.hard_min is not None and value < limit.hard_min * (1 - LIMIT_RTOL):
            raise HardLimitError(
                HARD_BELOW.format(bound=limit.hard_min, **fmt), field=limit.quantity.value, value=value
            )
        if limit.soft_max is not None and value > limit.soft_max * (1 + LIMIT_RTOL):
            warnings.append(
                LimitWarning(
                    limit.quantity,
                    "soft_max",
                    limit.soft_max,
                    value,
                    SOFT_ABOVE.format(bound=limit.soft_max, **fmt),
                )
            )
        if limit.soft_min is not None and value < limit.soft_min * (1 - LIMIT_RTOL):
            warnings.append(
                LimitWarning(
                    limit.quantity,
                    "soft_min",
                    limit.soft_min,
                    value,
                    SOFT_BELOW.format(bound=limit.soft_min, **fmt),
                )
            )
    return tuple(warnings)


_ALLOWED_FOR_BASIS = {
    DoseBasis.MG_PER_KG: (Kind.DOSE, "mg/kg, mg"),
    DoseBasis.MG: (Kind.DOSE, "mg, mg/kg"),
    DoseBasis.MG_PER_KG_PER_H: (Kind.RATE, "mg/kg/h, mg/h, mg/kg/min, mg/min"),
    DoseBasis.MG_PER_H: (Kind.RATE, "mg/h, mg/kg/h, mg/min, mg/kg/min"),
}


def dose_calculate(
    section: DosingSection,
    *,
    weight_kg: float,
    height_cm: float | None = None,
    sex: Sex | str | None = None,
    dose: Quantity | None = None,
    duration_min: float | None = None,
    vial_mg_per_ml: float | None = None,
    bag_ml: float | None = None,
    require_height: bool = False,
) -> DoseCalculation:
    """A session's dose under a protocol: the protocol default unless ``dose`` is given.

    ``require_height`` refuses a calculation whose protocol has an obese-dosing rule when no height is
    given (orders for patients); without it the rule is noted as unchecked (quick calculations).

    ``dose`` is a parsed quantity (``units.quantity_parse``): a dose (mg, mg/kg) for dose-based protocols,
    a rate (mg/h, mg/kg/h, ...) for rate-based ones. Hard-limit breaches raise :class:`HardLimitError`.
    """
    dw = dosing_weight_compute(
        section.dosing_weight,
        actual_kg=weight_kg,
        height_cm=height_cm,
        sex=sex,
        require_height=require_height,
    )
    notes: list[str] = []
    basis = section.basis
    duration = section.infusion_duration_min if duration_min is None else duration_min
    if duration is not None:
        check_range(duration, 1e-3, 10080, field="infusion duration", unit="min")
    kind, allowed = _ALLOWED_FOR_BASIS[basis]
    if dose is not None and dose.kind is not kind:
        raise ValidationError(
            WRONG_DOSE_UNIT.format(
                value=dose.text or dose.value, kind=dose.kind, basis=basis.unit, allowed=allowed
            ),
            field="dose",
            value=dose.text,
        )
    if dose is not None and not (math.isfinite(dose.value) and dose.value > 0):
        raise ValidationError(
            f"Dose {dose.text or dose.value!r} must be above zero (allowed units {allowed}).",
            field="dose",
            value=dose.text,
        )
    rate_mg_per_h: float | None = None
    capped = False
    if basis.is_rate:
        if duration is None:  # the schema requires a duration for IV protocols; never assume one
            raise ValidationError(NO_DURATION, field="duration", value=None)
        if dose is None:
            rate_mg_per_h = section.default * (dw.kg if basis.per_kg else 1.0)
            if section.max_rate_mg_per_h is not None and rate_mg_per_h > section.max_rate_mg_per_h:
                notes.append(RATE_CAPPED.format(cap=section.max_rate_mg_per_h, uncapped=rate_mg_per_h))
                rate_mg_per_h = section.max_rate_mg_per_h
                capped = True
        else:  # canonical rate unit is mg/min or mg/kg/min
            rate_mg_per_h = dose.value * 60.0 * (dw.kg if dose.per_kg else 1.0)
            if section.max_rate_mg_per_h is not None and rate_mg_per_h > section.max_rate_mg_per_h * (
                1 + LIMIT_RTOL
            ):
                raise HardLimitError(
                    HARD_ABOVE.format(
                        what="Rate",
                        value=rate_mg_per_h,
                        unit="mg/h",
                        bound=section.max_rate_mg_per_h,
                        source="protocol maximum rate",
                        range=f"0–{section.max_rate_mg_per_h:g} mg/h",
                    ),
                    field="rate_mg_per_h",
                    value=rate_mg_per_h,
                )
        dose_mg = rate_mg_per_h * duration / 60.0
    elif dose is None:
        dose_mg = section.default * (dw.kg if basis.per_kg else 1.0)
    else:
        dose_mg = dose.value * (dw.kg if dose.per_kg else 1.0)
    devices = None
    if section.route is Route.INTRANASAL:
        device = section.intranasal
        if device is None:  # the schema requires the device for intranasal protocols
            raise ValidationError(NO_DEVICE, field="intranasal", value=None)
        if not any(abs(dose_mg - d) <= 1e-9 * d for d in device.allowed_doses_mg):
            raise HardLimitError(
                NOT_AN_INTRANASAL_DOSE.format(
                    value=dose_mg, allowed=", ".join(f"{d:g}" for d in device.allowed_doses_mg)
                ),
                field="dose",
                value=dose_mg,
            )
        devices = round(dose_mg / device.mg_per_device)
        notes.append(
            f"{devices} device(s) of {device.mg_per_device:g} mg, {device.minutes_between_devices:g} min "
            f"apart; "
            f"observe at least {device.observation_min:g} min. Recorded only: no pump program."
        )
    if duration is not None and rate_mg_per_h is None:
        rate_mg_per_h = dose_mg * 60.0 / duration
    values: dict[LimitQuantity, float] = {
        LimitQuantity.DOSE_MG: dose_mg,
        LimitQuantity.DOSE_MG_PER_KG: _per_kg_value(dose, basis, dose_mg, dw.kg),
    }
    if rate_mg_per_h is not None and duration is not None:
        values[LimitQuantity.RATE_MG_PER_H] = rate_mg_per_h
        if dose is not None and dose.per_kg and basis.is_rate:
            per_kg_rate = dose.value * 60.0  # as entered: no division round-off at a limit
        elif dose is None and basis is DoseBasis.MG_PER_KG_PER_H and not capped:
            per_kg_rate = section.default
        else:
            per_kg_rate = rate_mg_per_h / dw.kg
        values[LimitQuantity.RATE_MG_PER_KG_PER_H] = per_kg_rate
        values[LimitQuantity.DURATION_MIN] = duration
    warnings = _check_limits(section, values)
    pump = None
    if section.pump is not None and duration is not None:
        vial = section.pump.default_vial_mg_per_ml if vial_mg_per_ml is None else vial_mg_per_ml
        if vial not in section.pump.vial_strengths_mg_per_ml:
            raise ValidationError(
                VIAL_NOT_ALLOWED.format(
                    value=vial, allowed=", ".join(f"{v:g}" for v in section.pump.vial_strengths_mg_per_ml)
                ),
                field="vial",
                value=vial,
            )
        pump = pump_program(
            dose_mg=dose_mg,
            duration_min=duration,
            vial_mg_per_ml=vial,
            bag_ml=section.pump.default_bag_ml if bag_ml is None else bag_ml,
            precision_ml_per_h=section.pump.precision_ml_per_h,
            max_rate_ml_per_h=section.pump.max_rate_ml_per_h,
        )
    return DoseCalculation(
        route=section.route,
        basis=basis,
        dosing_weight=dw,
        dose_mg=dose_mg,
        dose_mg_per_kg=values[LimitQuantity.DOSE_MG_PER_KG],
        duration_min=None if section.route is Route.INTRANASAL else duration,
        rate_mg_per_h=None if section.route is Route.INTRANASAL else rate_mg_per_h,
        rate_mg_per_kg_per_h=values.get(LimitQuantity.RATE_MG_PER_KG_PER_H)
        if section.route is Route.IV
        else None,
        warnings=warnings,
        notes=tuple(notes),
        pump=pump,
        devices=devices,
    )


def _per_kg_value(dose: Quantity | None, basis: DoseBasis, dose_mg: float, kg: float) -> float:
    """mg/kg exactly as entered when it was entered per kg (no division round-off at a limit)."""
    if dose is not None and dose.per_kg and not basis.is_rate:
        return dose.value
    return dose_mg / kg


def dose_override(calc: DoseCalculation, reason: str) -> DoseCalculation:
    """Record a prescriber's reason for going beyond a soft limit (never beyond a hard one)."""
    if not calc.warnings:
        raise ValidationError(NO_WARNINGS_TO_OVERRIDE, field="override_reason", value=reason)
    text = (reason or "").strip()
    if len(text) < MIN_OVERRIDE_REASON_CHARS:
        raise ValidationError(
            OVERRIDE_TOO_SHORT.format(low=MIN_OVERRIDE_REASON_CHARS, value=reason),
            field="override_reason",
            value=reason,
        )
    return replace(calc, override_reason=text)


def titration_next(section: DosingSection, current: float) -> float | None:
    """The next titration step up from ``current`` (in the protocol's basis unit), or None at the range
    maximum."""
    if section.titration_step is None:
        return None
    step = Decimal(repr(section.titration_step))
    nxt = float((Decimal(repr(current)) + step).quantize(step))
    return nxt if nxt <= section.range.max * (1 + LIMIT_RTOL) else None
