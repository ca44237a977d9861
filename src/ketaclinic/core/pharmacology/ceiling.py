"""The protocol's ceiling on the predicted peak plasma concentration: the PK model as a safety net.

A protocol may declare ``dosing.max_predicted_peak`` (ng/mL, with its source). An order or a titration
whose predicted peak for *this* patient (the protocol's PK model at the patient's actual weight, over the
whole regimen: what was given so far and what is about to be given) exceeds it is refused
with :class:`PeakAboveCeilingError`. The prediction is a population model's, not a measurement: the
ceiling is set well above the usual sub-anaesthetic range so that only anaesthetic doses meet it.
"""

from __future__ import annotations

from ketaclinic.core.pharmacology.dosing import DoseCalculation, HardLimitError
from ketaclinic.core.pharmacology.models import pk_model_get
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen
from ketaclinic.core.pharmacology.simulation import simulate
from ketaclinic.core.protocols.dosing import DosingSection

PEAK_ABOVE_CEILING = (
    "Predicted peak plasma ketamine concentration {value:,.0f} ng/mL is above the protocol's ceiling of "
    "{ceiling:,.0f} ng/mL ({source}): this is an anaesthetic level. Refused; choose a lower dose or rate "
    "or a longer infusion."
)
AFTER_END_MIN = 90.0  # minutes simulated after the last drug is given (the peak is at or near the end)
STEP_MIN = 1.0


class PeakAboveCeilingError(HardLimitError):
    """The predicted peak is above the protocol's ceiling (a hard limit)."""


def predicted_peak(model_name: str, weight_kg: float, regimen: Regimen) -> float:
    """Predicted peak plasma concentration (ng/mL) of ``regimen`` for a patient of ``weight_kg``."""
    until = regimen.end_min + AFTER_END_MIN
    sim = simulate(pk_model_get(model_name), weight_kg, regimen, until_min=until, step_min=STEP_MIN)
    return float(sim.summary.cmax_ng_per_ml)


def peak_check(section: DosingSection, *, weight_kg: float, regimen: Regimen | None) -> float | None:
    """The predicted peak (ng/mL), or None without a PK model or regimen; refused above the ceiling."""
    if section.pk_model is None or regimen is None:
        return None
    peak = predicted_peak(section.pk_model, weight_kg, regimen)
    ceiling = section.max_predicted_peak
    if ceiling is not None and peak > ceiling.ng_per_ml:
        raise PeakAboveCeilingError(
            PEAK_ABOVE_CEILING.format(value=peak, ceiling=ceiling.ng_per_ml, source=ceiling.source),
            field="predicted_peak_ng_per_ml",
            value=round(peak, 1),
        )
    return peak


def order_regimen(calc: DoseCalculation) -> Regimen | None:
    """What the pump program of an order gives, as a PK regimen (None without a pump program)."""
    if calc.pump is None or calc.pump.run_time_min <= 0:
        return None
    return Regimen.of(
        [Infusion(calc.pump.run_time_min, rate_mg_per_min=calc.pump.delivered_rate_mg_per_h / 60.0)]
    )


def order_peak_check(section: DosingSection, calc: DoseCalculation) -> float | None:
    """An order's predicted peak for this patient (actual body weight); refused above the protocol's
    ceiling."""
    return peak_check(section, weight_kg=calc.dosing_weight.actual_kg, regimen=order_regimen(calc))
