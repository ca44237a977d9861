from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology import target as target_module
from ketaclinic.core.pharmacology.models import PK_MODELS
from ketaclinic.core.pharmacology.simulation import simulate
from ketaclinic.core.pharmacology.target import target_schedule


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(list(PK_MODELS)),
    st.floats(40, 150),
    st.floats(50, 400),
    st.floats(10, 60),
    st.sampled_from([5.0, 10.0, 15.0]),
)
def test_reaches_and_holds_without_exceeding_rate_or_target(
    name: str, weight: float, target: float, max_rate: float, period: float
) -> None:
    s = target_schedule(
        PK_MODELS[name],
        weight,
        target_ng_per_ml=target,
        max_rate_mg_per_h=max_rate,
        duration_min=240,
        period_min=period,
    )
    assert all(0 <= r <= max_rate * (1 + 1e-12) for r in s.rates_mg_per_h)
    sim = simulate(PK_MODELS[name], weight, s.regimen, until_min=240, step_min=period / 10)
    assert sim.summary.cmax_ng_per_ml <= target * (1 + 1e-6)
    if s.reached_at_min is not None:
        held = sim.plasma_ng_per_ml[sim.t_min >= s.reached_at_min - 1e-9]
        at_period_ends = held[::10]
        assert at_period_ends == pytest.approx([target] * len(at_period_ends), rel=1e-6)


def test_crps_like_schedule_reaches_150_within_25_mg_h() -> None:
    s = target_schedule(
        PK_MODELS["domino"], 70, target_ng_per_ml=150, max_rate_mg_per_h=25, duration_min=240, period_min=10
    )
    assert s.reached_at_min == 120
    assert s.rates_mg_per_h[0] == 25


@pytest.mark.parametrize(
    ("kwargs", "template"),
    [
        ({"target_ng_per_ml": 0}, target_module.BAD_TARGET),
        ({"target_ng_per_ml": float("nan")}, target_module.BAD_TARGET),
        ({"max_rate_mg_per_h": -1}, target_module.BAD_MAX_RATE),
        ({"duration_min": 0}, target_module.BAD_DURATION),
        ({"period_min": 0.5}, target_module.BAD_PERIOD),
        ({"period_min": 500}, target_module.BAD_PERIOD),
    ],
)
def test_bad_target_input(kwargs: dict, template: str) -> None:
    base = {"target_ng_per_ml": 150, "max_rate_mg_per_h": 25, "duration_min": 240, "period_min": 10}
    with pytest.raises(ValidationError) as exc:
        target_schedule(PK_MODELS["domino"], 70, **{**base, **kwargs})
    assert exc.value.message.startswith(template.split("{")[0])
