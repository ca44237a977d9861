"""The population's percentile bands are exactly numpy's: ``row_percentiles`` against ``np.percentile``.

The bands are shown to prescribers next to a concentration limit, so "close" is not enough: every value must
be the very float ``np.percentile(a, q, axis=1)`` gives (method "linear"), NaN where numpy gives NaN.
``sample`` is made small here so that rows of a few values go through the sampled selection, its retries and
its sorting, not only numpy itself.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.core.pharmacology import percentiles as pct_module
from ketaclinic.core.pharmacology.models import PK_MODELS
from ketaclinic.core.pharmacology.percentiles import row_percentiles
from ketaclinic.core.pharmacology.population import (
    PERCENTILES,
    effect_site_concentrations,
    event_times,
    population_simulate,
    virtual_patients_draw,
)
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen
from ketaclinic.core.pharmacology.simulation import output_grid

STANDARD = Regimen.of([Infusion.dose_over(duration_min=40, dose_mg_per_kg=0.5)])

TIES = st.sampled_from([0.0, 1.0, 2.5, 300.0, 300.0000000000001])
FINITE = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
ANY = st.one_of(TIES, FINITE, st.sampled_from([np.nan, np.inf, -np.inf]))
QUANTILES = st.one_of(
    st.just(PERCENTILES),
    st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=5).map(tuple),
    st.lists(st.sampled_from([0.0, 0.1, 5.0, 50.0, 95.0, 99.9, 100.0]), min_size=1, max_size=4).map(tuple),
)


def assert_same_as_numpy(a: np.ndarray, q: tuple[float, ...], sample: int) -> None:
    with np.errstate(invalid="ignore"):  # inf - inf in the interpolation: numpy warns the same way
        ours = row_percentiles(a, q, sample=sample)
        numpy = np.percentile(a, q, axis=1)
    assert ours.shape == numpy.shape and ours.dtype == numpy.dtype == np.float64
    # bit for bit: equal values (0.0 == -0.0 included) and NaN in the same places
    assert np.array_equal(ours, numpy, equal_nan=True), (a, q, ours, numpy)


@st.composite
def arrays(draw: st.DrawFn, values: st.SearchStrategy[float]) -> np.ndarray:
    rows = draw(st.integers(min_value=1, max_value=5))
    n = draw(st.integers(min_value=1, max_value=90))
    flat = draw(st.lists(values, min_size=rows * n, max_size=rows * n))
    return np.array(flat, dtype=np.float64).reshape(rows, n)


@settings(max_examples=400)
@given(arrays(st.one_of(TIES, FINITE)), QUANTILES, st.integers(min_value=2, max_value=9))
def test_finite_values_with_ties_equal_numpy(a: np.ndarray, q: tuple[float, ...], sample: int) -> None:
    assert_same_as_numpy(a, q, sample)


@settings(max_examples=300)
@given(arrays(ANY), QUANTILES, st.integers(min_value=2, max_value=9))
def test_nan_and_infinities_equal_numpy(a: np.ndarray, q: tuple[float, ...], sample: int) -> None:
    assert_same_as_numpy(a, q, sample)


@settings(max_examples=200)
@given(
    st.integers(min_value=1, max_value=2),
    st.lists(ANY, min_size=8, max_size=8),
    QUANTILES,
    st.integers(min_value=2, max_value=4),
)
def test_one_or_two_patients_equal_numpy(
    n: int, flat: list[float], q: tuple[float, ...], sample: int
) -> None:
    assert_same_as_numpy(np.array(flat[: 4 * n]).reshape(4, n), q, sample)


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
@pytest.mark.parametrize("sample", [2, 3, 16, pct_module.SAMPLE])
def test_long_rows_with_heavy_ties_and_sorted_rows_equal_numpy(order: str, sample: int) -> None:
    """Sorted rows defeat a systematic sample's guess and ties make brackets of one value: both stay exact."""
    rng = np.random.default_rng(7)
    rows = [
        np.zeros(3001),  # time zero: nobody has drug yet
        np.where(rng.random(3001) < 0.6, 0.0, rng.lognormal(5, 1, 3001)),  # most values tied at zero
        np.round(rng.lognormal(5, 0.3, 3001), 0),  # whole ng/mL: many ties
        rng.lognormal(5, 0.3, 3001),
        np.full(3001, 300.0),
    ]
    a = np.stack(
        [
            np.sort(r) if order == "ascending" else np.sort(r)[::-1] if order == "descending" else r
            for r in rows
        ]
    )
    assert_same_as_numpy(a, PERCENTILES, sample)
    assert_same_as_numpy(a, (0.0, 0.01, 33.3, 50.0, 66.7, 99.99, 100.0), sample)


def test_nan_in_one_row_gives_nan_there_only_as_numpy_does() -> None:
    a = np.random.default_rng(3).lognormal(5, 0.3, (4, 2000))
    a[2, 17] = np.nan
    out = row_percentiles(a, PERCENTILES)
    assert np.isnan(out[:, 2]).all() and not np.isnan(np.delete(out, 2, axis=1)).any()
    assert_same_as_numpy(a, PERCENTILES, pct_module.SAMPLE)


def test_population_bands_are_numpys_percentiles_of_the_simulated_patients() -> None:
    """The grey band a prescriber sees: 10,000 patients, every minute, the very floats numpy would give."""
    model = PK_MODELS["domino"]
    population: dict[str, Any] = {"n": 10_000, "weight_mean_kg": 80, "weight_sd_kg": 15, "cv": 0.3, "seed": 1}
    pop = population_simulate(model, STANDARD, until_min=180, step_min=1, effect_site=True, **population)
    expected = np.percentile(pop.plasma_ng_per_ml, PERCENTILES, axis=0)
    assert model.ke0_per_min is not None and pop.effect_site_percentiles is not None
    times = event_times(STANDARD, output_grid(180, 1))
    _, effect = effect_site_concentrations(
        STANDARD, virtual_patients_draw(model, **population), times, model.ke0_per_min
    )
    expected_effect = np.percentile(effect, PERCENTILES, axis=1)
    for j, p in enumerate(PERCENTILES):
        assert np.array_equal(pop.percentiles[p], expected[j])
        assert np.array_equal(pop.effect_site_percentiles[p], expected_effect[j])


@pytest.mark.parametrize(
    ("a", "q", "message"),
    [
        (np.zeros(5), PERCENTILES, pct_module.BAD_ARRAY.format(ndim=1, dtype="float64")),
        (
            np.zeros((2, 5), dtype=np.float32),
            PERCENTILES,
            pct_module.BAD_ARRAY.format(ndim=2, dtype="float32"),
        ),
        (np.zeros((2, 5)), (101.0,), pct_module.BAD_PERCENTILES.format(value=(101.0,))),
        (np.zeros((2, 5)), (-1.0,), pct_module.BAD_PERCENTILES.format(value=(-1.0,))),
        (np.zeros((2, 5)), (float("nan"),), pct_module.BAD_PERCENTILES.format(value=(float("nan"),))),
    ],
)
def test_refuses_what_numpy_refuses_or_the_engine_never_passes(
    a: np.ndarray, q: tuple[float, ...], message: str
) -> None:
    """A 1-D or float32 array, or a percentile outside 0-100 (numpy refuses those too), is an error."""
    with pytest.raises(ValueError, match=re.escape(message)):
        row_percentiles(a, q)
