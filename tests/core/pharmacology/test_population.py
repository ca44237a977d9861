from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology import population as pop_module
from ketaclinic.core.pharmacology.models import PK_MODELS
from ketaclinic.core.pharmacology.population import population_simulate
from ketaclinic.core.pharmacology.regimen import Bolus, Infusion, Pause, Regimen
from ketaclinic.core.pharmacology.simulation import simulate

STANDARD = Regimen.of([Infusion.dose_over(duration_min=40, dose_mg_per_kg=0.5)])
MIXED = Regimen.of(
    [
        Bolus(dose_mg=5),
        Infusion.dose_over(duration_min=40.5, dose_mg_per_kg=0.5),
        Pause(10),
        Infusion(30, rate_mg_per_kg_per_min=0.002),
    ]
)


@pytest.mark.parametrize("name", list(PK_MODELS))
def test_without_variability_equals_the_single_patient_engine(name: str) -> None:
    weights = np.array([55.0, 70.0, 123.4])
    pop = population_simulate(PK_MODELS[name], MIXED, weights_kg=weights, until_min=180, step_min=1)
    for i, w in enumerate(weights):
        single = simulate(PK_MODELS[name], float(w), MIXED, until_min=180, step_min=1)
        np.testing.assert_allclose(pop.plasma_ng_per_ml[i], single.plasma_ng_per_ml, rtol=1e-10, atol=1e-10)
        assert (
            single.plasma_ng_per_ml.max() * (1 - 1e-10)
            <= pop.cmax_ng_per_ml[i]
            <= single.summary.cmax_ng_per_ml * (1 + 1e-10)
        )


def test_seed_reproduces_and_differs() -> None:
    kw: dict[str, Any] = {
        "n": 500,
        "weight_mean_kg": 80,
        "weight_sd_kg": 15,
        "cv": 0.3,
        "until_min": 120,
        "step_min": 1,
    }
    a = population_simulate(PK_MODELS["domino"], STANDARD, seed=1, **kw)
    b = population_simulate(PK_MODELS["domino"], STANDARD, seed=1, **kw)
    c = population_simulate(PK_MODELS["domino"], STANDARD, seed=2, **kw)
    np.testing.assert_array_equal(a.plasma_ng_per_ml, b.plasma_ng_per_ml)
    assert not np.array_equal(a.plasma_ng_per_ml, c.plasma_ng_per_ml)


def test_percentiles_ordered_and_share_consistent() -> None:
    p = population_simulate(
        PK_MODELS["domino"],
        STANDARD,
        n=2000,
        weight_mean_kg=80,
        weight_sd_kg=15,
        cv=0.3,
        seed=3,
        until_min=180,
        step_min=1,
        threshold_ng_per_ml=300,
    )
    assert (p.percentiles[5.0] <= p.percentiles[50.0]).all()
    assert (p.percentiles[50.0] <= p.percentiles[95.0]).all()
    assert (p.plasma_ng_per_ml >= 0).all()
    assert p.share_ever_above == pytest.approx(float((p.cmax_ng_per_ml >= 300).mean()))
    assert p.share_above_by_time.max() <= p.share_ever_above
    # the median individual has the typical parameters: the population median at end of infusion is near 240
    assert 200 < p.percentiles[50.0][40] < 280


def test_lognormal_cv_is_the_parameter_cv() -> None:
    """omega^2 = ln(1 + CV^2): with CV 0.3 and no weight variability, V1 has CV 0.3 (checked via C at a
    bolus)."""
    p = population_simulate(
        PK_MODELS["hijazi"],
        Regimen.of([Bolus(dose_mg=70)]),
        weights_kg=np.full(20000, 70.0),
        cv=0.3,
        seed=5,
        until_min=1,
        step_min=1,
    )
    v1 = 70 / p.plasma_ng_per_ml[:, 0] * 1000  # C(0) = dose / V1
    assert np.std(v1) / np.mean(v1) == pytest.approx(0.3, abs=0.01)
    assert np.median(v1) == pytest.approx(PK_MODELS["hijazi"].v1_l_per_kg * 70, rel=0.02)


def test_weights_are_truncated_to_the_plausible_range() -> None:
    p = population_simulate(
        PK_MODELS["domino"],
        STANDARD,
        n=5000,
        weight_mean_kg=25,
        weight_sd_kg=30,
        seed=1,
        until_min=60,
        step_min=1,
    )
    assert p.weights_kg.min() >= 20
    assert p.weights_kg.max() <= 350


@pytest.mark.parametrize(
    ("kwargs", "template"),
    [
        ({"n": 0}, pop_module.BAD_N),
        ({"n": -3}, pop_module.BAD_N),
        ({"n": 10, "cv": -0.1}, pop_module.BAD_CV),
        ({"n": 10, "cv": float("nan")}, pop_module.BAD_CV),
        ({"n": 10, "seed": -1}, pop_module.BAD_SEED),
        ({"n": 10, "weight_sd_kg": -1}, pop_module.BAD_WEIGHT_SD),
    ],
)
def test_bad_population_input(kwargs: dict, template: str) -> None:
    base = {"weight_mean_kg": 80, "until_min": 60, "step_min": 1}
    with pytest.raises(ValidationError) as exc:
        population_simulate(PK_MODELS["domino"], STANDARD, **{**base, **kwargs})
    assert exc.value.message.startswith(template.split("{")[0])


def test_bad_weight_list() -> None:
    with pytest.raises(ValidationError) as exc:
        population_simulate(
            PK_MODELS["domino"], STANDARD, weights_kg=np.array([70.0, -1.0]), until_min=60, step_min=1
        )
    assert exc.value.message.startswith(pop_module.BAD_WEIGHTS.split("{")[0])


def test_closed_form_modes_agree_with_symmetric_eigendecomposition() -> None:
    from ketaclinic.core.pharmacology.population import _modes, _modes_by_eigh, virtual_patients_draw

    for name in PK_MODELS:
        pts = virtual_patients_draw(
            PK_MODELS[name], n=2000, weight_mean_kg=80, weight_sd_kg=15, cv=0.5, seed=9
        )
        lam, w = _modes(pts.rates())
        lam_e, w_e = _modes_by_eigh(pts.rates())
        order, order_e = np.argsort(lam, axis=0), np.argsort(lam_e, axis=0)
        np.testing.assert_allclose(
            np.take_along_axis(lam, order, 0), np.take_along_axis(lam_e, order_e, 0), rtol=1e-11
        )
        np.testing.assert_allclose(
            np.take_along_axis(w, order, 0), np.take_along_axis(w_e, order_e, 0), rtol=1e-8, atol=1e-12
        )
        np.testing.assert_allclose(w.sum(axis=0), 1.0, rtol=1e-12)  # g(0) = 1: a unit bolus is all in V1


def test_degenerate_peripheral_rates_still_exact() -> None:
    """k21 == k31 makes one eigenvalue coincide with -k21 (weight 0): the kernel must stay exact."""
    import dataclasses

    model = dataclasses.replace(PK_MODELS["domino"], k31_per_min=PK_MODELS["domino"].k21_per_min)
    pop = population_simulate(model, MIXED, weights_kg=np.array([70.0]), until_min=180, step_min=1)
    single = simulate(model, 70.0, MIXED, until_min=180, step_min=1)
    np.testing.assert_allclose(pop.plasma_ng_per_ml[0], single.plasma_ng_per_ml, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", list(PK_MODELS))
def test_population_effect_site_equals_single_patient_engine(name: str) -> None:
    from ketaclinic.core.pharmacology.population import (
        effect_site_concentrations,
        event_times,
        virtual_patients_draw,
    )
    from ketaclinic.core.pharmacology.simulation import output_grid

    model = PK_MODELS[name]
    patients = virtual_patients_draw(model, weights_kg=np.array([55.0, 90.0]))
    times = event_times(MIXED, output_grid(180, 1))
    _, effect = effect_site_concentrations(MIXED, patients, times, model.ke0_per_min)
    on = np.searchsorted(times, np.arange(181.0) - 1e-12)
    for i, w in enumerate((55.0, 90.0)):
        single = simulate(model, w, MIXED, until_min=180, step_min=1)
        np.testing.assert_allclose(effect[on, i], single.effect_site_ng_per_ml, rtol=1e-10, atol=1e-10)


def test_effect_site_exact_when_ke0_equals_a_disposition_rate() -> None:
    """ke0 = -lambda_j makes the convolution degenerate (d = 0): the limit h exp(-ke0 h) must be used."""
    import dataclasses

    from ketaclinic.core.pharmacology.population import _eigenvalues, virtual_patients_draw

    base = PK_MODELS["hijazi"]
    pts = virtual_patients_draw(base, weights_kg=np.array([70.0]))
    lam = _eigenvalues(pts.rates())
    model = dataclasses.replace(base, ke0_per_min=float(-lam[1, 0]))
    pop = population_simulate(
        model, MIXED, weights_kg=np.array([70.0]), until_min=180, step_min=1, effect_site=True
    )
    single = simulate(model, 70.0, MIXED, until_min=180, step_min=1)
    np.testing.assert_allclose(
        pop.effect_site_percentiles[50.0], single.effect_site_ng_per_ml, rtol=1e-8, atol=1e-9
    )
