"""Population simulation: N virtual patients at once, with inter-individual variability (IIV).

Variability (the usual exponential IIV model of population PK, e.g. Mould & Upton, CPT Pharmacometrics
Syst Pharmacol 2013;2:e38): each patient's V1 and each rate constant is ``typical x exp(eta)`` with
``eta ~ Normal(0, omega^2)`` drawn independently per parameter and ``omega^2 = ln(1 + CV^2)`` so that
the parameter's coefficient of variation is ``CV`` and its median the typical value. ke0 is not varied
and the effect site (on request) is indicative only, like every derived ke0. Weights come from a list or from
a normal distribution truncated to the plausibility range (redrawn outside it). All draws come from
``numpy.random.Generator (PCG64(seed))`` in a fixed order (weights, then etas), so a seed reproduces a
population exactly.

Solver (exact, vectorised, no ODE stepping). The plasma amount after input ``u(t)`` into the central
compartment is the convolution of ``u`` with the unit impulse response ``g(t) = sum_j w_j exp(lambda_j t)``
(Gibaldi & Perrier, *Pharmacokinetics*, 2nd ed., ch. 3; the "sum of exponentials" of every mammillary
model). The ``lambda_j`` are the eigenvalues of the amount matrix ``A``, roots of
``lambda^3 + a2 lambda^2 + a1 lambda + a0`` with ``a2 = k10+k12+k13+k21+k31``,
``a1 = k10 k21 + k10 k31 + k12 k31 + k13 k21 + k21 k31``, ``a0 = k10 k21 k31`` (two-compartment: the
quadratic with ``k13 = k31 = 0``), found by the trigonometric cubic formula and polished by two Newton
steps; ``w_j = prod_p (lambda_j + kp1) / prod_{i != j} (lambda_j - lambda_i)`` over the peripheral
compartments ``p``. Each mode ``y_j = int exp(lambda_j (t - s)) u(s) ds`` obeys ``y_j' = lambda_j y_j + u``,
so over a step ``h`` at constant rate ``u`` exactly ``y_j <- exp(lambda_j h) y_j + u expm1(lambda_j h) /
lambda_j`` and a bolus adds its dose to every ``y_j``; ``x1 = sum_j w_j y_j``. All patients advance at
once (arrays of shape modes x N). Where two eigenvalues of a patient lie within a relative 1e-6 of each
other (the closed-form weights lose digits), that patient's ``lambda_j`` and ``w_j`` come instead from a
symmetric eigen-decomposition: ``A`` is similar to ``S = W^(-1/2) A W^(1/2)``, ``W = diag(V1, V2, V3)``
(``k1p V1 = kp1 Vp``), ``S = Q diag(lambda) Q^T`` and ``w_j = Q[0, j]^2``. The tests check this kernel
against ``simulation.py`` (matrix exponential) to 1e-10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.models import PkModel
from ketaclinic.core.pharmacology.percentiles import row_percentiles
from ketaclinic.core.pharmacology.regimen import Phase, Regimen
from ketaclinic.core.pharmacology.simulation import NG_PER_ML_PER_MG_PER_L, check_covers_regimen, output_grid
from ketaclinic.core.pharmacology.units import BODY_WEIGHT_RANGE_KG

MAX_PATIENTS = 1_000_000
# Concentrations held at once (patients x time points): the (T, N) float64 array is 400 MB at this size; the
# percentile step adds scratch for one block of rows (``percentiles.BLOCK_VALUES``), not a copy of it all.
# Fewer patients are allowed on a long grid: ``max_patients``.
MAX_VALUES = 50_000_000
MAX_CV = 2.0
PERCENTILES = (5.0, 50.0, 95.0)

BAD_N = "Number of virtual patients {value!r} is outside the allowed range 1–{high:,}."
BAD_N_FOR_GRID = (
    "Number of virtual patients {value!r} is outside the allowed range 1–{high:,} for {t:,} time points "
    "(at most {values:,} concentrations at once: fewer time points allow more patients, up to {most:,})."
)
BAD_CV = "Variability CV {value!r} is outside the allowed range 0–{high:g}."
BAD_WEIGHT_SD = "Weight SD {value!r} kg is outside the allowed range 0–100 kg."
BAD_WEIGHTS = "Weights must be between {low:g} and {high:g} kg; got {value!r}."
BAD_SEED = "Seed {value!r} must be a whole number 0 or above."


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
    effect_site_percentiles: dict[float, np.ndarray] | None = None  # derived ke0, not varied: indicative only

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


def max_patients(time_points: int) -> int:
    """The most virtual patients one run may hold on a grid of ``time_points`` (``MAX_VALUES`` in all)."""
    return max(1, min(MAX_PATIENTS, MAX_VALUES // max(1, time_points)))


def population_weights(*, n: int, mean_kg: float, sd_kg: float, rng: np.random.Generator) -> np.ndarray:
    """Normal weights truncated to the plausibility range by redrawing (not clipping)."""
    low, high = BODY_WEIGHT_RANGE_KG
    if not (math.isfinite(mean_kg) and low <= mean_kg <= high):
        raise ValidationError(
            BAD_WEIGHTS.format(low=low, high=high, value=mean_kg), field="weight_mean", value=mean_kg
        )
    if not (math.isfinite(sd_kg) and 0 <= sd_kg <= 100):
        raise ValidationError(BAD_WEIGHT_SD.format(value=sd_kg), field="weight_sd", value=sd_kg)
    w = rng.normal(mean_kg, sd_kg, n)
    for _ in range(1000):
        bad = (w < low) | (w > high)
        if not bad.any():
            break
        w[bad] = rng.normal(mean_kg, sd_kg, int(bad.sum()))
    return w


@dataclass(frozen=True)
class VirtualPatients:
    """N patients' weights and individual parameters (arrays of shape (N,)); k13/k31 None for 2
    compartments."""

    weights_kg: np.ndarray
    v1_l: np.ndarray
    k10_per_min: np.ndarray
    k12_per_min: np.ndarray
    k21_per_min: np.ndarray
    k13_per_min: np.ndarray | None
    k31_per_min: np.ndarray | None

    def rates(self) -> dict[str, np.ndarray | None]:
        return {
            "k10": self.k10_per_min,
            "k12": self.k12_per_min,
            "k21": self.k21_per_min,
            "k13": self.k13_per_min,
            "k31": self.k31_per_min,
        }


def virtual_patients_draw(
    model: PkModel,
    *,
    n: int | None = None,
    weights_kg: np.ndarray | None = None,
    weight_mean_kg: float | None = None,
    weight_sd_kg: float = 0.0,
    cv: float = 0.0,
    seed: int = 0,
) -> VirtualPatients:
    """Draw (or take) weights, then log-normal IIV, from ``PCG64(seed)`` in that fixed order."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValidationError(BAD_SEED.format(value=seed), field="seed", value=seed)
    if not (isinstance(cv, int | float) and math.isfinite(cv) and 0 <= cv <= MAX_CV):
        raise ValidationError(BAD_CV.format(value=cv, high=MAX_CV), field="cv", value=cv)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    if weights_kg is not None:
        w = np.asarray(weights_kg, dtype=float).ravel()
        low, high = BODY_WEIGHT_RANGE_KG
        if w.size == 0 or not np.all(np.isfinite(w)) or w.min() < low or w.max() > high:
            raise ValidationError(
                BAD_WEIGHTS.format(low=low, high=high, value=w.tolist()[:5]), field="weights", value=None
            )
        n = w.size
    if n is None or isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_PATIENTS:
        raise ValidationError(BAD_N.format(value=n, high=MAX_PATIENTS), field="n", value=n)
    if weights_kg is None:
        if weight_mean_kg is None:
            raise ValidationError(
                "Give either weights or a weight mean (and SD).", field="weight_mean", value=None
            )
        w = population_weights(n=int(n), mean_kg=weight_mean_kg, sd_kg=weight_sd_kg, rng=rng)
    three = model.compartments == 3
    omega = math.sqrt(math.log1p(cv * cv))
    names = ["v1", "k10", "k12", "k21"] + (["k13", "k31"] if three else [])
    eta = rng.normal(0.0, omega, (w.size, len(names))) if cv > 0 else np.zeros((w.size, len(names)))
    f = {nm: np.exp(eta[:, i]) for i, nm in enumerate(names)}
    return VirtualPatients(
        weights_kg=w,
        v1_l=model.v1_l_per_kg * w * f["v1"],
        k10_per_min=model.k10_per_min * f["k10"],
        k12_per_min=model.k12_per_min * f["k12"],
        k21_per_min=model.k21_per_min * f["k21"],
        k13_per_min=model.k13_per_min * f["k13"] if three else None,
        k31_per_min=model.k31_per_min * f["k31"] if three else None,
    )


def event_times(regimen: Regimen, grid: np.ndarray) -> np.ndarray:
    """The output grid plus every segment boundary (sorted, unique)."""
    phases = regimen.phases_for(1.0)
    boundaries = np.array(sorted({p.start_min for p in phases} | {p.end_min for p in phases}))
    times: np.ndarray = np.unique(np.concatenate([grid, boundaries]))
    kept: np.ndarray = times[times <= grid[-1] + 1e-12]
    return kept


def plasma_concentrations(regimen: Regimen, patients: VirtualPatients, times: np.ndarray) -> np.ndarray:
    """Exact plasma concentrations (ng/mL), shape (len(times), N): the vectorised kernel."""
    k = patients.rates()
    lam, wts = _modes(k)
    coef = wts / patients.v1_l * NG_PER_ML_PER_MG_PER_L  # (m, N): ng/mL per mg in each mode
    plasma, _ = _modal_march(
        lam, coef, times, regimen.phases_for(1.0), regimen.phases_for(0.0), patients.weights_kg
    )
    return plasma


def effect_site_concentrations(
    regimen: Regimen, patients: VirtualPatients, times: np.ndarray, ke0_per_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact plasma and effect-site concentrations (ng/mL), each (len(times), N); ke0 is not varied."""
    lam, wts = _modes(patients.rates())
    coef = wts / patients.v1_l * NG_PER_ML_PER_MG_PER_L
    plasma, effect = _modal_march(
        lam, coef, times, regimen.phases_for(1.0), regimen.phases_for(0.0), patients.weights_kg, ke0_per_min
    )
    if effect is None:  # cannot happen: ke0 was given
        raise ValidationError("effect site not computed", field="ke0_per_min", value=ke0_per_min)
    return plasma, effect


def population_simulate(
    model: PkModel,
    regimen: Regimen,
    *,
    n: int | None = None,
    weights_kg: np.ndarray | None = None,
    weight_mean_kg: float | None = None,
    weight_sd_kg: float = 0.0,
    cv: float = 0.0,
    seed: int = 0,
    until_min: float,
    step_min: float,
    threshold_ng_per_ml: float | None = None,
    effect_site: bool = False,
) -> PopulationResult:
    """Simulate N patients exactly and return percentile bands and the share above a threshold."""
    grid = output_grid(until_min, step_min)
    check_covers_regimen(regimen, until_min)
    times = event_times(regimen, grid)
    high = max_patients(times.size)
    asked = np.asarray(weights_kg).size if weights_kg is not None else n
    if isinstance(asked, int | np.integer) and not isinstance(asked, bool) and asked > high:
        raise ValidationError(
            BAD_N_FOR_GRID.format(value=asked, high=high, t=times.size, values=MAX_VALUES, most=MAX_PATIENTS),
            field="n",
            value=asked,
        )
    patients = virtual_patients_draw(
        model,
        n=n,
        weights_kg=weights_kg,
        weight_mean_kg=weight_mean_kg,
        weight_sd_kg=weight_sd_kg,
        cv=cv,
        seed=seed,
    )
    if threshold_ng_per_ml is not None and not (
        math.isfinite(threshold_ng_per_ml) and 0 < threshold_ng_per_ml <= 1e5
    ):
        raise ValidationError(
            f"Threshold {threshold_ng_per_ml!r} ng/mL is outside the allowed range above 0–100000 ng/mL.",
            field="threshold",
            value=threshold_ng_per_ml,
        )
    w = patients.weights_kg
    effect_pct = None
    if effect_site and model.ke0_per_min is not None:
        conc, effect = effect_site_concentrations(regimen, patients, times, model.ke0_per_min)
        on = np.searchsorted(times, grid - 1e-12)
        epct = row_percentiles(effect[on], PERCENTILES)
        effect_pct = {p: epct[j] for j, p in enumerate(PERCENTILES)}
    else:
        conc = plasma_concentrations(regimen, patients, times)  # (T, N)
    on_grid = np.searchsorted(times, grid - 1e-12)
    plasma_t = conc if on_grid.size == times.size else conc[on_grid]  # (T, N), contiguous per time point
    end_inf = float(regimen.last_infusion_end_min or 0.0)
    end_idx = int(np.searchsorted(times, end_inf - 1e-12))
    pct = row_percentiles(plasma_t, PERCENTILES)  # exactly np.percentile(plasma_t, PERCENTILES, axis=1)
    cmax = conc.max(axis=0)
    share_t = share = None
    if threshold_ng_per_ml is not None:
        share_t = (plasma_t >= threshold_ng_per_ml).mean(axis=1)
        share = float((cmax >= threshold_ng_per_ml).mean())
    return PopulationResult(
        model=model,
        t_min=grid,
        weights_kg=w,
        plasma_ng_per_ml=plasma_t.T,
        percentiles={p: pct[j] for j, p in enumerate(PERCENTILES)},
        cmax_ng_per_ml=cmax,
        plasma_at_end_of_infusion_ng_per_ml=conc[end_idx],
        threshold_ng_per_ml=threshold_ng_per_ml,
        share_above_by_time=share_t,
        share_ever_above=share,
        effect_site_percentiles=effect_pct,
    )


def _required(k: dict[str, np.ndarray | None], name: str) -> np.ndarray:
    value = k[name]
    if value is None:
        raise ValidationError(f"{name} is required for this model.", field=f"{name}_per_min")
    return value


def _eigenvalues(k: dict[str, np.ndarray | None]) -> np.ndarray:
    """Eigenvalues of the amount matrix (module docstring), shape (modes, N), all negative."""
    k10, k12, k21 = _required(k, "k10"), _required(k, "k12"), _required(k, "k21")
    if k["k13"] is None:
        b = k10 + k12 + k21
        c = k10 * k21
        big = -(b + np.sqrt(b * b - 4 * c)) / 2  # stable quadratic roots: the product of the roots is c
        return np.stack([big, c / big])
    k13, k31 = _required(k, "k13"), _required(k, "k31")
    a2 = k10 + k12 + k13 + k21 + k31
    a1 = k10 * k21 + k10 * k31 + k12 * k31 + k13 * k21 + k21 * k31
    a0 = k10 * k21 * k31
    p = a1 - a2 * a2 / 3
    q = 2 * a2**3 / 27 - a1 * a2 / 3 + a0
    m = 2 * np.sqrt(-p / 3)
    phi = np.arccos(np.clip(3 * q / (p * m), -1.0, 1.0)) / 3
    lam = np.stack([m * np.cos(phi - 2 * np.pi * j / 3) - a2 / 3 for j in range(3)])
    for _ in range(2):  # Newton polish of each root of the characteristic cubic
        f = ((lam + a2) * lam + a1) * lam + a0
        lam = lam - f / ((3 * lam + 2 * a2) * lam + a1)
    return lam


def _modes(k: dict[str, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and impulse-response weights (module docstring), with an eigh fallback per patient."""
    lam = _eigenvalues(k)
    periph = [_required(k, "k21")] + ([_required(k, "k31")] if k["k13"] is not None else [])
    m = lam.shape[0]
    wts = np.empty_like(lam)
    gap = np.full(lam.shape[1], np.inf)
    for j in range(m):
        num = np.ones_like(lam[j])
        den = np.ones_like(lam[j])
        for kp in periph:
            num = num * (lam[j] + kp)
        for i in range(m):
            if i != j:
                den = den * (lam[j] - lam[i])
                gap = np.minimum(gap, np.abs(lam[j] - lam[i]) / np.abs(lam).max(axis=0))
        wts[j] = num / den
    bad = gap < 1e-6
    if bad.any():
        lam[:, bad], wts[:, bad] = _modes_by_eigh({n: (None if v is None else v[bad]) for n, v in k.items()})
    return lam, wts


def _modes_by_eigh(k: dict[str, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    three = k["k13"] is not None
    n = 3 if three else 2
    k10, k12, k21 = k["k10"], k["k12"], k["k21"]
    if k10 is None or k12 is None or k21 is None:
        raise ValidationError("k10, k12 and k21 are required.", field="k10_per_min")
    vol = [np.ones_like(k10), k12 / k21] + ([k["k13"] / k["k31"]] if three else [])  # type: ignore[operator]
    sq = np.sqrt(np.stack(vol, axis=1))
    a = np.zeros((k10.size, n, n))
    a[:, 0, 0] = -(k10 + k12 + (k["k13"] if three else 0.0))
    a[:, 0, 1], a[:, 1, 0], a[:, 1, 1] = k21, k12, -k21
    if three:
        a[:, 0, 2], a[:, 2, 0], a[:, 2, 2] = k["k31"], k["k13"], -k["k31"]  # type: ignore[operator]
    s = a * (1.0 / sq)[:, :, None] * sq[:, None, :]
    s = 0.5 * (s + np.swapaxes(s, 1, 2))
    lam, q = np.linalg.eigh(s)
    return lam.T, (q[:, 0, :] ** 2).T


def _modal_march(
    lam: np.ndarray,
    coef: np.ndarray,
    times: np.ndarray,
    phases: tuple[Phase, ...],
    fixed: tuple[Phase, ...],
    w: np.ndarray,
    ke0_per_min: float | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Plasma (and effect-site) concentrations (T, N) at every event time, exactly, all patients together.

    Effect site (when ``ke0_per_min`` is given): ``dCe/dt = ke0 (Cp - Ce)`` with ``Cp(t + s) = sum_j c_j
    (exp(lambda_j s) y_j + u (exp(lambda_j s) - 1) / lambda_j)`` over a step, so exactly
    ``Ce <- exp(-ke0 h) Ce + ke0 sum_j c_j (y_j phi_j + u / lambda_j (phi_j - psi))`` with
    ``phi_j = int_0^h exp(-ke0 (h - s) + lambda_j s) ds = exp(-ke0 h) expm1(d h) / d``, ``d = lambda_j + ke0``
    (``h exp(-ke0 h)`` when ``d = 0``), and ``psi = (1 - exp(-ke0 h)) / ke0``.
    """
    m, n = lam.shape
    y = np.zeros((m, n))
    ce = np.zeros(n)
    plasma = np.empty((times.size, n))
    effect = np.empty((times.size, n)) if ke0_per_min is not None else None
    steps: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    effect_steps: dict[float, tuple[np.ndarray, float, float]] = {}

    def record(i: int) -> None:
        np.einsum("jn,jn->n", coef, y, out=plasma[i])
        if effect is not None:
            effect[i] = ce

    def step(h: float) -> tuple[np.ndarray, np.ndarray]:
        if h not in steps:
            steps[h] = (np.exp(lam * h), np.expm1(lam * h) / lam)
        return steps[h]

    def effect_update(h: float, rate: np.ndarray | float) -> None:
        k = float(ke0_per_min)  # type: ignore[arg-type]
        if h not in effect_steps:
            d = lam + k
            dh = d * h
            small = np.abs(dh) < 1e-12
            ratio = np.where(small, h * (1 + dh / 2), np.expm1(dh) / np.where(small, 1.0, d))
            effect_steps[h] = (np.exp(-k * h) * ratio, float(-np.expm1(-k * h) / k), float(np.exp(-k * h)))
        phi, psi, ek = effect_steps[h]
        drive = y * phi + (rate / lam) * (phi - psi)
        ce[:] = ek * ce + k * np.einsum("jn,jn->n", coef, drive)

    t, i = 0.0, 0
    for p_kg, p_fix in zip(phases, fixed, strict=True):
        per_kg_rate = p_kg.rate_mg_per_min - p_fix.rate_mg_per_min
        rate = p_fix.rate_mg_per_min + per_kg_rate * w  # (N,)
        if p_kg.bolus_mg:
            y += p_fix.bolus_mg + (p_kg.bolus_mg - p_fix.bolus_mg) * w
            if i > 0 and abs(times[i - 1] - p_kg.start_min) <= 1e-12:
                record(i - 1)
        while i < times.size and times[i] <= p_kg.start_min + 1e-12:
            record(i)
            i += 1
        gain: dict[float, np.ndarray] = {}
        while i < times.size and times[i] <= p_kg.end_min + 1e-12:
            h = round(float(times[i] - t), 12)
            decay, g = step(h)
            if h not in gain:
                gain[h] = g * rate
            if effect is not None:
                effect_update(h, rate)
            y *= decay
            y += gain[h]
            t = float(times[i])
            record(i)
            i += 1
    while i < times.size:
        h = round(float(times[i] - t), 12)
        if effect is not None:
            effect_update(h, 0.0)
        y *= step(h)[0]
        t = float(times[i])
        record(i)
        i += 1
    return plasma, effect
