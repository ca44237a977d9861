"""Target mode: a rate schedule that reaches and holds a target plasma concentration within a maximum rate.

Plasma targeting by exact one-period look-ahead (the principle of computer-controlled infusion pumps
targeting plasma, e.g. Shafer's STANPUMP; here solved with this engine's exact propagator, not Euler):
for each period of length ``h`` with state ``x``, the constant rate that puts the plasma concentration
*exactly* at the target at the period's end is ``u = (C* V1 - (Phi x)_1) / Gamma_1`` (module
``simulation``); it is clipped to ``[0, max rate]``. Until the target is reached the rate is the maximum;
after that the schedule holds the target at every period end. The schedule is a list of ordinary
infusion segments a nurse can key into a pump (one rate per period).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.models import PkModel
from ketaclinic.core.pharmacology.regimen import Infusion, Pause, Regimen
from ketaclinic.core.pharmacology.simulation import NG_PER_ML_PER_MG_PER_L, Propagator

BAD_TARGET = "Target {value!r} ng/mL is outside the allowed range above 0–5000 ng/mL."
BAD_MAX_RATE = "Maximum rate {value!r} mg/h is outside the allowed range above 0–6000 mg/h."
BAD_PERIOD = "Period {value!r} min is outside the allowed range 1–{high:g} min (the duration)."
BAD_DURATION = "Duration {value!r} min is outside the allowed range above 0–10080 min."


@dataclass(frozen=True, slots=True)
class TargetSchedule:
    target_ng_per_ml: float
    max_rate_mg_per_h: float
    period_min: float
    regimen: Regimen
    rates_mg_per_h: tuple[float, ...]
    reached_at_min: float | None  # end of the first period that ended exactly at the target
    total_mg: float


def target_schedule(
    model: PkModel,
    weight_kg: float,
    *,
    target_ng_per_ml: float,
    max_rate_mg_per_h: float,
    duration_min: float,
    period_min: float = 10.0,
) -> TargetSchedule:
    if not (math.isfinite(target_ng_per_ml) and 0 < target_ng_per_ml <= 5000):
        raise ValidationError(
            BAD_TARGET.format(value=target_ng_per_ml), field="target", value=target_ng_per_ml
        )
    if not (math.isfinite(max_rate_mg_per_h) and 0 < max_rate_mg_per_h <= 6000):
        raise ValidationError(
            BAD_MAX_RATE.format(value=max_rate_mg_per_h), field="max_rate", value=max_rate_mg_per_h
        )
    if not (math.isfinite(duration_min) and 0 < duration_min <= 10080):
        raise ValidationError(BAD_DURATION.format(value=duration_min), field="duration", value=duration_min)
    if not (math.isfinite(period_min) and 1 <= period_min <= duration_min):
        raise ValidationError(
            BAD_PERIOD.format(value=period_min, high=duration_min), field="period", value=period_min
        )
    micro = model.for_weight(weight_kg)
    prop = Propagator(micro)
    target_mg_per_l = target_ng_per_ml / NG_PER_ML_PER_MG_PER_L
    max_rate = max_rate_mg_per_h / 60.0
    x = prop.advance(prop.b * 0.0, 0.0, 0.0)
    t, reached, rates, segments = 0.0, None, [], []
    while t < duration_min - 1e-9:
        h = min(period_min, duration_min - t)
        phi, gamma = prop.step(h)
        free = phi @ x
        u = (target_mg_per_l * micro.v1_l - free[0]) / gamma[0]
        u_clipped = float(min(max(u, 0.0), max_rate))
        if reached is None and u <= max_rate:
            reached = t + h
        x = free + gamma * u_clipped
        t += h
        rates.append(float(u_clipped * 60.0))
        segments.append(Infusion(h, rate_mg_per_min=u_clipped) if u_clipped > 0 else Pause(h))
    regimen = Regimen.of(segments)
    return TargetSchedule(
        target_ng_per_ml,
        max_rate_mg_per_h,
        period_min,
        regimen,
        tuple(rates),
        reached,
        regimen.total_mg_for(weight_kg),
    )
