"""A titration checked like an order: the new rate, the dose given so far and the dose projected to the end.

When a rate changes while the infusion runs, four quantities are checked against the protocol's soft and
hard limits (``dosing.limits``, the same limits an order is calculated against):

* the new rate, in mg/h and in mg/kg/h of the order's dosing weight (every side of the limit);
* the dose given so far, in mg and mg/kg (maxima only);
* the dose projected to the ordered end: what was given plus the new rate for the ordered infusion time
  that is left (maxima only: a lower total, because the rate was lowered or paused, is never a hazard).

Beyond a hard limit the titration is refused (:class:`HardLimitError`); beyond a soft limit it carries a
warning and goes ahead only with a prescriber's override reason (:func:`titration_override`). Then the
protocol's PK model predicts the whole session (given so far, then the new rate to the ordered end) for
this patient: above the protocol's ceiling it is refused (``ketaclinic.core.pharmacology.ceiling``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.ceiling import peak_check
from ketaclinic.core.pharmacology.dosing import (
    HARD_ABOVE,
    HARD_BELOW,
    LIMIT_RTOL,
    MIN_OVERRIDE_REASON_CHARS,
    SOFT_ABOVE,
    SOFT_BELOW,
    HardLimitError,
    LimitWarning,
    allowed_range,
)
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen, Segment
from ketaclinic.core.protocols.dosing import DosingSection, Limit, LimitQuantity

MIN_TITRATION_OVERRIDE_CHARS = MIN_OVERRIDE_REASON_CHARS  # the same rule as an order's override
RATE_NOT_POSITIVE = (
    "A new rate must be above 0 mg/h; to stop the pump use pause or stop (got {value!r} mg/h)."
)
BAD_AMOUNT = "{what} {value!r} must be a finite number of at least 0 {unit}."
BAD_WEIGHT = "Dosing weight {value!r} kg must be above 0 kg."
TITRATION_OVERRIDE_TOO_SHORT = (
    "This rate goes beyond a soft limit: the prescriber's override reason needs at least {low} characters "
    "saying why (got {value!r})."
)
TITRATION_NO_WARNINGS = "This rate breaches no soft limit, so there is nothing to override."

GIVEN = "Dose given so far"
PROJECTED = "Dose projected to the ordered end"
NEW_RATE = "New rate"
NEW_RATE_PER_KG = "New rate {rate:g} mg/h on a dosing weight of {weight:g} kg:"  # the nurse typed mg/h


@dataclass(frozen=True, slots=True)
class TitrationCheck:
    """The quantities a titration was checked on; ``warnings`` are soft-limit breaches needing an override."""

    rate_mg_per_h: float
    rate_mg_per_kg_per_h: float
    given_mg: float
    given_mg_per_kg: float
    remaining_min: float
    projected_mg: float
    projected_mg_per_kg: float
    predicted_peak_ng_per_ml: float | None
    warnings: tuple[LimitWarning, ...]
    override_reason: str | None = None

    @property
    def requires_override(self) -> bool:
        return bool(self.warnings)

    @property
    def ready(self) -> bool:
        return not self.warnings or self.override_reason is not None


def _check(limit: Limit, what: str, value: float, *, minima: bool) -> LimitWarning | None:
    unit = limit.quantity.unit
    low = limit.hard_min if limit.hard_min is not None and minima else 0
    fmt = {
        "what": what,
        "value": value,
        "unit": unit,
        "source": limit.source,
        "range": allowed_range(low, limit.hard_max, unit),
    }
    if limit.hard_max is not None and value > limit.hard_max * (1 + LIMIT_RTOL):
        raise HardLimitError(
            HARD_ABOVE.format(bound=limit.hard_max, **fmt), field=limit.quantity.value, value=value
        )
    if minima and limit.hard_min is not None and value < limit.hard_min * (1 - LIMIT_RTOL):
        raise HardLimitError(
            HARD_BELOW.format(bound=limit.hard_min, **fmt), field=limit.quantity.value, value=value
        )
    if limit.soft_max is not None and value > limit.soft_max * (1 + LIMIT_RTOL):
        return LimitWarning(
            limit.quantity, "soft_max", limit.soft_max, value, SOFT_ABOVE.format(bound=limit.soft_max, **fmt)
        )
    if minima and limit.soft_min is not None and value < limit.soft_min * (1 - LIMIT_RTOL):
        return LimitWarning(
            limit.quantity, "soft_min", limit.soft_min, value, SOFT_BELOW.format(bound=limit.soft_min, **fmt)
        )
    return None


def _finite(value: float, what: str, unit: str) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValidationError(BAD_AMOUNT.format(what=what, value=value, unit=unit), field=what, value=value)


def titration_check(
    section: DosingSection,
    *,
    new_rate_mg_per_h: float,
    dosing_weight_kg: float,
    actual_weight_kg: float,
    given_mg: float,
    remaining_min: float,
    history: Regimen | None = None,
) -> TitrationCheck:
    """Check a new rate against the protocol's limits and predicted-peak ceiling.

    ``given_mg`` is what the pump delivered so far; ``remaining_min`` the ordered infusion time that is
    left (ordered duration minus the time the pump ran; 0 when it is over); ``history`` the rate history
    so far as a PK regimen (None when no drug ran yet). Hard breaches raise :class:`HardLimitError`.
    """
    if not (math.isfinite(new_rate_mg_per_h) and new_rate_mg_per_h > 0):
        raise ValidationError(
            RATE_NOT_POSITIVE.format(value=new_rate_mg_per_h), field="rate_mg_per_h", value=new_rate_mg_per_h
        )
    if not (math.isfinite(dosing_weight_kg) and dosing_weight_kg > 0):
        raise ValidationError(
            BAD_WEIGHT.format(value=dosing_weight_kg), field="weight", value=dosing_weight_kg
        )
    _finite(given_mg, GIVEN, "mg")
    _finite(remaining_min, "Remaining infusion time", "min")
    projected_mg = given_mg + new_rate_mg_per_h * remaining_min / 60.0
    values: list[tuple[LimitQuantity, str, float, bool]] = [
        (LimitQuantity.RATE_MG_PER_H, NEW_RATE, new_rate_mg_per_h, True),
        (
            LimitQuantity.RATE_MG_PER_KG_PER_H,
            NEW_RATE_PER_KG.format(rate=new_rate_mg_per_h, weight=dosing_weight_kg),
            new_rate_mg_per_h / dosing_weight_kg,
            True,
        ),
        (LimitQuantity.DOSE_MG, GIVEN, given_mg, False),
        (LimitQuantity.DOSE_MG_PER_KG, GIVEN, given_mg / dosing_weight_kg, False),
        (LimitQuantity.DOSE_MG, PROJECTED, projected_mg, False),
        (LimitQuantity.DOSE_MG_PER_KG, PROJECTED, projected_mg / dosing_weight_kg, False),
    ]
    if section.max_rate_mg_per_h is not None:
        cap = Limit(
            quantity=LimitQuantity.RATE_MG_PER_H,
            hard_max=section.max_rate_mg_per_h,
            source="protocol maximum rate",
        )
        _check(cap, NEW_RATE, new_rate_mg_per_h, minima=False)
    limits = {limit.quantity: limit for limit in section.limits}
    warnings: list[LimitWarning] = []
    for quantity, what, value, minima in values:
        limit = limits.get(quantity)
        if limit is None:
            continue
        warning = _check(limit, what, value, minima=minima)
        if warning is not None:
            warnings.append(warning)
    segments: list[Segment] = [] if history is None else list(history.segments)
    if remaining_min > 0:
        segments.append(Infusion(remaining_min, rate_mg_per_min=new_rate_mg_per_h / 60.0))
    regimen = Regimen.of(segments) if segments else None
    peak = peak_check(section, weight_kg=actual_weight_kg, regimen=regimen)
    return TitrationCheck(
        rate_mg_per_h=new_rate_mg_per_h,
        rate_mg_per_kg_per_h=new_rate_mg_per_h / dosing_weight_kg,
        given_mg=given_mg,
        given_mg_per_kg=given_mg / dosing_weight_kg,
        remaining_min=remaining_min,
        projected_mg=projected_mg,
        projected_mg_per_kg=projected_mg / dosing_weight_kg,
        predicted_peak_ng_per_ml=peak,
        warnings=tuple(warnings),
    )


def override_reason_check(reason: str) -> str:
    """A prescriber's reason for going beyond a soft limit: at least 15 characters that are not spaces."""
    text = " ".join((reason or "").split())
    if len(text) < MIN_TITRATION_OVERRIDE_CHARS:
        raise ValidationError(
            TITRATION_OVERRIDE_TOO_SHORT.format(low=MIN_TITRATION_OVERRIDE_CHARS, value=reason),
            field="override_reason",
            value=reason,
        )
    return text


def titration_override(check: TitrationCheck, reason: str) -> TitrationCheck:
    """Record the prescriber's reason for a titration beyond a soft limit (never beyond a hard one)."""
    if not check.warnings:
        raise ValidationError(TITRATION_NO_WARNINGS, field="override_reason", value=reason)
    return replace(check, override_reason=override_reason_check(reason))
