"""The order's PK regimen that the predicted-peak ceiling is checked on: a pump program that runs for any
time above zero, even under a minute, is a regimen; one that does not run is none (no peak to predict)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ketaclinic.core.pharmacology.ceiling import (
    PEAK_ABOVE_CEILING,
    PeakAboveCeilingError,
    order_peak_check,
    order_regimen,
    peak_check,
    predicted_peak,
)
from ketaclinic.core.pharmacology.dosing import dose_calculate
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen
from ketaclinic.core.protocols.dosing import DosingSection
from ketaclinic.protocols.files import shipped_protocol

DEPRESSION = shipped_protocol("depression-standard").dosing
assert DEPRESSION is not None
CALC = dose_calculate(DEPRESSION, weight_kg=80, height_cm=180, sex="male")
assert CALC.pump is not None


def test_the_default_order_runs_its_pump_program_as_one_infusion() -> None:
    assert CALC.pump is not None
    assert order_regimen(CALC) == Regimen.of(
        [Infusion(CALC.pump.run_time_min, rate_mg_per_min=CALC.pump.delivered_rate_mg_per_h / 60.0)]
    )


@pytest.mark.parametrize("minutes", [0.5, 1.0])
def test_a_pump_running_a_minute_or_less_is_still_a_regimen(minutes: float) -> None:
    assert CALC.pump is not None
    calc = replace(CALC, pump=replace(CALC.pump, run_time_min=minutes))
    rate = CALC.pump.delivered_rate_mg_per_h / 60.0
    assert order_regimen(calc) == Regimen.of([Infusion(minutes, rate_mg_per_min=rate)])


def test_a_pump_that_does_not_run_has_no_regimen() -> None:
    assert CALC.pump is not None
    assert order_regimen(replace(CALC, pump=replace(CALC.pump, run_time_min=0.0))) is None
    assert order_regimen(replace(CALC, pump=None)) is None


# --- the ceiling itself: a prediction exactly at it is allowed, above it refused with field and value -------
def _with_ceiling(ng_per_ml: float) -> DosingSection:
    assert DEPRESSION.max_predicted_peak is not None
    ceiling = DEPRESSION.max_predicted_peak.model_copy(update={"ng_per_ml": ng_per_ml})
    return DEPRESSION.model_copy(update={"max_predicted_peak": ceiling})


def test_a_predicted_peak_exactly_at_the_ceiling_is_allowed() -> None:
    regimen = order_regimen(CALC)
    assert DEPRESSION.pk_model is not None and regimen is not None
    peak = predicted_peak(DEPRESSION.pk_model, CALC.dosing_weight.actual_kg, regimen)
    assert order_peak_check(_with_ceiling(peak), CALC) == peak


def test_a_predicted_peak_above_the_ceiling_is_refused_naming_peak_ceiling_and_source() -> None:
    regimen = order_regimen(CALC)
    assert DEPRESSION.pk_model is not None and regimen is not None
    peak = predicted_peak(DEPRESSION.pk_model, CALC.dosing_weight.actual_kg, regimen)
    section = _with_ceiling(peak * 0.999)
    assert section.max_predicted_peak is not None
    with pytest.raises(PeakAboveCeilingError) as err:
        order_peak_check(section, CALC)
    assert err.value.message == PEAK_ABOVE_CEILING.format(
        value=peak, ceiling=peak * 0.999, source=section.max_predicted_peak.source
    )
    assert section.max_predicted_peak.source in err.value.message
    assert err.value.field == "predicted_peak_ng_per_ml"
    assert err.value.value == round(peak, 1) and err.value.value != round(peak, 2)


def test_without_a_pk_model_or_a_regimen_nothing_is_predicted() -> None:
    no_model = DEPRESSION.model_copy(update={"pk_model": None, "max_predicted_peak": None})
    assert peak_check(no_model, weight_kg=80, regimen=order_regimen(CALC)) is None
    assert peak_check(DEPRESSION, weight_kg=80, regimen=None) is None
