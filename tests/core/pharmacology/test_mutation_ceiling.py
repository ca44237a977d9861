"""The order's PK regimen that the predicted-peak ceiling is checked on: a pump program that runs for any
time above zero, even under a minute, is a regimen; one that does not run is none (no peak to predict)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ketaclinic.core.pharmacology.ceiling import order_regimen
from ketaclinic.core.pharmacology.dosing import dose_calculate
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen
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
