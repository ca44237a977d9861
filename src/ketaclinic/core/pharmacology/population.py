"""Population simulation: N virtual patients at once, with inter-individual variability (IIV).

Variability (the usual exponential IIV model of population PK, e.g. Mould & Upton, CPT Pharmacometrics
Syst Pharmacol 2013;2:e38): each patient's V1 and each rate constant is ``typical x exp(eta)`` with
``eta ~ Normal(0, omega^2)`` drawn independently per parameter and ``omega^2 = ln(1 + CV^2)`` so that
the parameter's coefficient of variation is ``CV`` and its median the typical value. ke0 is not varied
and the population result is plasma only. Weights come from a list or from a normal distribution
truncated to the plausibility range (redrawn outside it). All draws come from ``numpy.random.Generator
(PCG64(seed))`` in a fixed order (weights, then etas), so a seed reproduces a population exactly.

Solver (exact, vectorised, no ODE stepping): for a mammillary model the amount-space matrix ``A`` is
similar to a symmetric matrix ``S = W^(-1/2) A W^(1/2)`` with ``W = diag(V1, V2, V3)``, ``Vi = V1 k1i /
ki1`` (because ``k1i V1 = ki1 Vi``). ``numpy.linalg.eigh`` diagonalises all N matrices at once,
``S = Q diag(lambda) Q^T`` (real, negative eigenvalues), so for a step ``h``:
``Phi = W^(1/2) Q diag(exp(lambda h)) Q^T W^(-1/2)`` and
``Gamma = W^(1/2) Q diag(expm1(lambda h) / lambda) Q^T W^(-1/2) e1`` — the same exact propagator as
``simulation.py`` (which uses ``expm``); the tests check the two agree to 1e-10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.models import PkModel
from ketaclinic.core.pharmacology.regimen import Regimen
from ketaclinic.core.pharmacology.simulation import NG_PER_ML_PER_MG_PER_L, check_covers_regimen, output_grid
from ketaclinic.core.pharmacology.units import BODY_WEIGHT_RANGE_KG

MAX_PATIENTS = 1_000_000
MAX_CV = 2.0
PERCENTILES = (5.0, 50.0, 95.0)

BAD_N = "Number of virtual patients {value!r} is outside the allowed range 1–{high}."
BAD_CV = "Variability CV {value!r} is outside the allowed range 0–{high:g}."
BAD_WEIGHT_SD = "Weight SD {value!r} kg is outside the allowed range 0–100 kg."
BAD_WEIGHTS = "Weights must be between {low:g} and {high:g} kg; got {value!r}."
BAD_SEED = "Seed {value!r} must be a whole number 0 or above."
TOO_BIG = "{n} patients x {t} time points is too large to simulate at once (at most 50,000,000 values)."


@dataclass(frozen=True)
class PopulationResult:
    model: PkModel
    t_min: np.ndarray  # (T,)
    weights_kg: np.ndarray  # (N,)
    plasma_ng_per_ml: np.ndarray  # (N, T) on the output grid
    percentiles: dict[float, np.ndarray]  # percentile -> (T,)
    cmax_ng_per_ml: np.ndarray  # (N,) over output grid and segment boundaries
    plasma_at_end_of_infusion_ng_per_ml: np.ndarray  # (N,)
    threshold_ng_per_ml: float | None
    share_above_by_time: np.ndarray | None  # (T,)
    share_ever_above: float | None

    def summary(self) -> dict[str, object]:
        def pct(a: np.ndarray) -> dict[str, float]:
            p = np.percentile(a, PERCENTILES)
            return {f"p{int(k)}": float(v) for k, v in zip(PERCENTILES, p, strict=True)}

        return {
            "n": int(self.weights_kg.size),
            "weight_kg": pct(self.weights_kg),
            "cmax_ng_per_ml": pct(self.cmax_ng_per_ml),
            "plasma_at_end_of_infusion_ng_per_ml": pct(self.plasma_at_end_of_infusion_ng_per_ml),
            "threshold_ng_per_ml": self.threshold_ng_per_ml,
            "share_ever_above_threshold": self.share_ever_above,
        }


def population_weights(*, n: int, mean_kg: float, sd_kg: float, rng: np.random.Generator) -> np.ndarray:
    """Normal weights truncated to the plausibility range by redrawing (not clipping)."""
    low, high = BODY_WEIGHT_RANGE_KG
    if not (math.isfinite(mean_kg) and low <= mean_kg <= high):
        raise ValidationError(BAD_WEIGHTS.format(low=low, high=high, value=mean_kg), field="weight_mean", value=mean_kg)
    if not (math.isfinite(sd_kg) and 0 <= sd_kg <= 100):
        raise ValidationError(BAD_WEIGHT_SD.format(value=sd_kg), field="weight_sd", value=sd_kg)
    w = rng.normal(mean_kg, sd_kg, n)
    for _ in range(1000):
        bad = (w < low) | (w > high)
        if not bad.any():
            break
        w[bad] = rng.normal(mean_kg, sd_kg, int(bad.sum()))
    return w


def _propagators(v1: np.ndarray, k: dict[str, np.ndarray], h: float) -> tuple[np.ndarray, np.ndarray]:
    """Batched exact ``Phi(h)`` (N, n, n) and ``Gamma(h)`` (N, n) by symmetric eigen-decomposition."""
    three = k["k13"] is not None
    n = 3 if three else 2
    N = v1.size
    vol = [v1, v1 * k["k12"] / k["k21"]]
    if three:
        vol.append(v1 * k["k13"] / k["k31"])
    sq = np.sqrt(np.stack(vol, axis=1))  # (N, n) = W^(1/2)
    a = np.zeros((N, n, n))
    a[:, 0, 0] = -(k["k10"] + k["k12"] + (k["k13"] if three else 0.0))
    a[:, 0, 1], a[:, 1, 0], a[:, 1, 1] = k["k21"], k["k12"], -k["k21"]
    if three:
        a[:, 0, 2], a[:, 2, 0], a[:, 2, 2] = k["k31"], k["k13"], -k["k31"]
    s = a * (1.0 / sq)[:, :, None] * sq[:, None, :]  # W^(-1/2) A W^(1/2)
    s = 0.5 * (s + np.swapaxes(s, 1, 2))  # exact symmetry (removes round-off asymmetry)
    lam, q = np.linalg.eigh(s)
    e = np.exp(lam * h)
    g = np.expm1(lam * h) / lam
    left = sq[:, :, None] * q  # W^(1/2) Q
    right = np.swapaxes(q, 1, 2) / sq[:, None, :]  # Q^T W^(-1/2)
    phi = np.einsum("nij,nj,njk->nik", left, e, right)
    gamma = np.einsum("nij,nj,nj->ni", left, g, right[:, :, 0])
    return phi, gamma


def population_simulate(model: PkModel, regimen: Regimen, *, n: int | None = None, weights_kg: np.ndarray | None = None,
                        weight_mean_kg: float | None = None, weight_sd_kg: float = 0.0, cv: float = 0.0,
                        seed: int = 0, until_min: float, step_min: float,
                        threshold_ng_per_ml: float | None = None) -> PopulationResult:
    """Simulate N patients exactly and return percentile bands and the share above a threshold."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValidationError(BAD_SEED.format(value=seed), field="seed", value=seed)
    if not (isinstance(cv, int | float) and math.isfinite(cv) and 0 <= cv <= MAX_CV):
        raise ValidationError(BAD_CV.format(value=cv, high=MAX_CV), field="cv", value=cv)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    if weights_kg is not None:
        w = np.asarray(weights_kg, dtype=float).ravel()
        low, high = BODY_WEIGHT_RANGE_KG
        if w.size == 0 or not np.all(np.isfinite(w)) or w.min() < low or w.max() > high:
            raise ValidationError(BAD_WEIGHTS.format(low=low, high=high, value=w.tolist()[:5]), field="weights", value=None)
        n = w.size
    if n is None or isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_PATIENTS:
        raise ValidationError(BAD_N.format(value=n, high=MAX_PATIENTS), field="n", value=n)
    if weights_kg is None:
        if weight_mean_kg is None:
            raise ValidationError("Give either weights or a weight mean (and SD).", field="weight_mean", value=None)
        w = population_weights(n=int(n), mean_kg=weight_mean_kg, sd_kg=weight_sd_kg, rng=rng)
    grid = output_grid(until_min, step_min)
    check_covers_regimen(regimen, until_min)
    if threshold_ng_per_ml is not None and not (math.isfinite(threshold_ng_per_ml) and 0 < threshold_ng_per_ml <= 1e5):
        raise ValidationError(f"Threshold {threshold_ng_per_ml!r} ng/mL is outside the allowed range above 0–100000 ng/mL.",
                              field="threshold", value=threshold_ng_per_ml)
    N = w.size
    phases = regimen.phases_for(1.0)  # per-kg parts are scaled per patient below
    fixed = regimen.phases_for(0.0)  # the fixed-mg parts only
    boundaries = np.array(sorted({p.start_min for p in phases} | {p.end_min for p in phases}))
    times = np.unique(np.concatenate([grid, boundaries]))
    times = times[times <= grid[-1] + 1e-12]
    if N * times.size > 50_000_000:
        raise ValidationError(TOO_BIG.format(n=N, t=times.size), field="n", value=N)

    omega = math.sqrt(math.log1p(cv * cv))
    names = ["v1", "k10", "k12", "k21"] + (["k13", "k31"] if model.compartments == 3 else [])
    eta = rng.normal(0.0, omega, (N, len(names))) if cv > 0 else np.zeros((N, len(names)))
    factor = {nm: np.exp(eta[:, i]) for i, nm in enumerate(names)}
    v1 = model.v1_l_per_kg * w * factor["v1"]
    k = {
        "k10": model.k10_per_min * factor["k10"], "k12": model.k12_per_min * factor["k12"],
        "k21": model.k21_per_min * factor["k21"],
        "k13": model.k13_per_min * factor["k13"] if model.compartments == 3 else None,
        "k31": model.k31_per_min * factor["k31"] if model.compartments == 3 else None,
    }
    cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    x = np.zeros((N, model.compartments))
    conc = np.empty((N, times.size))
    t, i = 0.0, 0
    for p_kg, p_fix in zip(phases, fixed, strict=True):
        per_kg_rate = p_kg.rate_mg_per_min - p_fix.rate_mg_per_min
        rate = p_fix.rate_mg_per_min + per_kg_rate * w  # (N,)
        bolus = p_fix.bolus_mg + (p_kg.bolus_mg - p_fix.bolus_mg) * w
        if p_kg.bolus_mg:
            x[:, 0] += bolus
            if i > 0 and abs(times[i - 1] - p_kg.start_min) <= 1e-12:
                conc[:, i - 1] = x[:, 0] / v1
        while i < times.size and times[i] <= p_kg.start_min + 1e-12:
            conc[:, i] = x[:, 0] / v1
            i += 1
        while i < times.size and times[i] <= p_kg.end_min + 1e-12:
            x = _advance(x, v1, k, times[i] - t, rate, cache)
            t = float(times[i])
            conc[:, i] = x[:, 0] / v1
            i += 1
    zero = np.zeros(N)
    while i < times.size:
        x = _advance(x, v1, k, times[i] - t, zero, cache)
        t = float(times[i])
        conc[:, i] = x[:, 0] / v1
        i += 1
    conc *= NG_PER_ML_PER_MG_PER_L
    on_grid = np.searchsorted(times, grid - 1e-12)
    plasma = conc[:, on_grid]
    end_inf = float(regimen.last_infusion_end_min or 0.0)
    end_idx = int(np.searchsorted(times, end_inf - 1e-12))
    pct = np.percentile(plasma, PERCENTILES, axis=0)
    share_t = share = None
    if threshold_ng_per_ml is not None:
        share_t = (plasma >= threshold_ng_per_ml).mean(axis=0)
        share = float((conc.max(axis=1) >= threshold_ng_per_ml).mean())
    return PopulationResult(
        model=model, t_min=grid, weights_kg=w, plasma_ng_per_ml=plasma,
        percentiles={p: pct[j] for j, p in enumerate(PERCENTILES)}, cmax_ng_per_ml=conc.max(axis=1),
        plasma_at_end_of_infusion_ng_per_ml=conc[:, end_idx], threshold_ng_per_ml=threshold_ng_per_ml,
        share_above_by_time=share_t, share_ever_above=share,
    )


def _advance(x: np.ndarray, v1: np.ndarray, k: dict[str, np.ndarray], h: float, rate: np.ndarray,
             cache: dict[float, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    if h <= 0:
        return x
    key = round(h, 12)
    if key not in cache:
        cache[key] = _propagators(v1, k, h)
    phi, gamma = cache[key]
    return np.einsum("nij,nj->ni", phi, x) + gamma * rate[:, None]
