"""Exact plasma and effect-site concentrations for one patient, and their summary.

The model is the linear system ``dx/dt = A x + b u(t)`` (amounts in mg; Gibaldi & Perrier,
*Pharmacokinetics*, 2nd ed., ch. 2-3) with, for a three-compartment mammillary model,

    dx1/dt = -(k10 + k12 + k13) x1 + k21 x2 + k31 x3 + u
    dx2/dt = k12 x1 - k21 x2
    dx3/dt = k13 x1 - k31 x3
    dCe/dt = ke0 (x1 / V1 - Ce)   (effect site; Sheiner et al., Clin Pharmacol Ther 1979;25:358)

and plasma concentration ``Cp = x1 / V1``. Over an interval where the input rate ``u`` is constant the
solution is exact: ``x(t + h) = Phi(h) x(t) + Gamma(h) u`` with ``Phi = exp(A h)`` and
``Gamma = int_0^h exp(A s) b ds``, both read off one matrix exponential of the augmented matrix
``[[A, b], [0, 0]] h`` (Van Loan, IEEE Trans Autom Control 1978;23:395). ``scipy.linalg.expm`` computes
it by scaling and squaring with a Padé approximant (Al-Mohy & Higham, SIAM J Matrix Anal Appl
2009;31:970), accurate to machine precision here. A bolus adds its dose to ``x1`` instantly. No time
stepping error exists: a 1-min output grid and a 1-s grid give the same values at shared times.

Concentrations are reported in ng/mL: mg / L = µg/mL = 1000 ng/mL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import expm
from scipy.optimize import brentq, minimize_scalar

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.models import MicroConstants, PkModel
from ketaclinic.core.pharmacology.regimen import Phase, Regimen

NG_PER_ML_PER_MG_PER_L = 1000.0
MAX_SIMULATION_MIN = 20160.0  # 14 days
MAX_POINTS = 200_001

BAD_UNTIL = "Simulation end {value!r} min is outside the allowed range above 0–{high:g} min."
ENDS_BEFORE_REGIMEN = (
    "The simulation ends at {value:g} min, before the dosing segments end at {end:g} min: "
    "simulate until at least {end:g} min."
)
BAD_STEP = (
    "Output step {value!r} min is outside the allowed range above 0–{high:g} min (the simulation length)."
)
TOO_MANY_POINTS = (
    "Simulating {until:g} min every {step:g} min gives {value} points; the most allowed is {high}."
)
BAD_THRESHOLD = "Threshold {value!r} ng/mL is outside the allowed range above 0–100000 ng/mL."


def system_matrices(m: MicroConstants) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``b`` of the module docstring; state ``[x1, x2, (x3), (Ce)]``, x in mg, Ce in mg/L."""
    n = m.compartments
    size = n + (1 if m.ke0_per_min is not None else 0)
    a = np.zeros((size, size))
    a[0, 0] = -(m.k10_per_min + m.k12_per_min + m.k13_per_min)
    a[0, 1], a[1, 0], a[1, 1] = m.k21_per_min, m.k12_per_min, -m.k21_per_min
    if n == 3:
        a[0, 2], a[2, 0], a[2, 2] = m.k31_per_min, m.k13_per_min, -m.k31_per_min
    if m.ke0_per_min is not None:
        a[n, 0], a[n, n] = m.ke0_per_min / m.v1_l, -m.ke0_per_min
    b = np.zeros(size)
    b[0] = 1.0
    return a, b


class Propagator:
    """``Phi(h)`` and ``Gamma(h)`` for a model, cached per interval length (Van Loan's method)."""

    def __init__(self, m: MicroConstants) -> None:
        self.micro = m
        self.a, self.b = system_matrices(m)
        self._cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def step(self, h: float) -> tuple[np.ndarray, np.ndarray]:
        key = round(h, 12)
        hit = self._cache.get(key)
        if hit is None:
            size = self.a.shape[0]
            aug = np.zeros((size + 1, size + 1))
            aug[:size, :size] = self.a * h
            aug[:size, size] = self.b * h
            e = expm(aug)
            hit = (e[:size, :size], e[:size, size])
            self._cache[key] = hit
        return hit

    def advance(self, x: np.ndarray, h: float, rate_mg_per_min: float) -> np.ndarray:
        if h == 0:
            return x
        phi, gamma = self.step(h)
        out: np.ndarray = phi @ x + gamma * rate_mg_per_min
        return out


@dataclass(frozen=True, slots=True)
class ThresholdSummary:
    threshold_ng_per_ml: float
    minutes_above: float
    first_above_min: float | None
    below_from_min: float | None  # from then on below until the end; None = still above at the end
    minutes_after_end_of_infusion_until_below: float | None


@dataclass(frozen=True, slots=True)
class Summary:
    """Summary of one simulated curve: times to 1e-7 min (peak search) and 1e-10 min (threshold crossings)."""

    cmax_ng_per_ml: float
    tmax_min: float
    end_of_infusion_min: float
    plasma_at_end_of_infusion_ng_per_ml: float
    effect_site_max_ng_per_ml: float | None
    effect_site_tmax_min: float | None
    threshold: ThresholdSummary | None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "cmax_ng_per_ml": self.cmax_ng_per_ml,
            "tmax_min": self.tmax_min,
            "end_of_infusion_min": self.end_of_infusion_min,
            "plasma_at_end_of_infusion_ng_per_ml": self.plasma_at_end_of_infusion_ng_per_ml,
            "effect_site_max_ng_per_ml": self.effect_site_max_ng_per_ml,
            "effect_site_tmax_min": self.effect_site_tmax_min,
        }
        t = self.threshold
        out["threshold"] = (
            None
            if t is None
            else {
                "threshold_ng_per_ml": t.threshold_ng_per_ml,
                "minutes_above": t.minutes_above,
                "first_above_min": t.first_above_min,
                "below_from_min": t.below_from_min,
                "minutes_after_end_of_infusion_until_below": t.minutes_after_end_of_infusion_until_below,
            }
        )
        return out


@dataclass(frozen=True)
class Simulation:
    model: PkModel
    weight_kg: float
    regimen: Regimen
    t_min: np.ndarray
    plasma_ng_per_ml: np.ndarray
    effect_site_ng_per_ml: np.ndarray | None
    summary: Summary
    trajectory: Trajectory = field(repr=False, compare=False)


def output_grid(until_min: float, step_min: float) -> np.ndarray:
    """``0, step, 2 step, ... until`` (``until`` appended when it is not a multiple of ``step``)."""
    if not (
        isinstance(until_min, int | float)
        and math.isfinite(until_min)
        and 0 < until_min <= MAX_SIMULATION_MIN
    ):
        raise ValidationError(
            BAD_UNTIL.format(value=until_min, high=MAX_SIMULATION_MIN), field="until", value=until_min
        )
    if not (isinstance(step_min, int | float) and math.isfinite(step_min) and 0 < step_min <= until_min):
        raise ValidationError(BAD_STEP.format(value=step_min, high=until_min), field="step", value=step_min)
    k = math.floor(until_min / step_min + 1e-9)
    count = k + 1 + (0 if abs(k * step_min - until_min) <= 1e-9 * until_min else 1)
    if count > MAX_POINTS:
        raise ValidationError(
            TOO_MANY_POINTS.format(until=until_min, step=step_min, value=count, high=MAX_POINTS),
            field="step",
            value=step_min,
        )
    grid = np.arange(k + 1) * float(step_min)
    if count > k + 1:
        grid = np.append(grid, until_min)
    grid[-1] = until_min if abs(grid[-1] - until_min) <= 1e-9 * until_min else grid[-1]
    return grid


def check_covers_regimen(regimen: Regimen, until_min: float) -> None:
    end = regimen.end_min
    if until_min < end - 1e-9:
        raise ValidationError(
            ENDS_BEFORE_REGIMEN.format(value=until_min, end=end), field="until", value=until_min
        )


class Trajectory:
    """The exact state at every event time (output grid plus segment boundaries) and between them."""

    def __init__(self, m: MicroConstants, phases: tuple[Phase, ...], grid: np.ndarray) -> None:
        self.micro = m
        self.prop = Propagator(m)
        boundaries = {p.start_min for p in phases} | {p.end_min for p in phases}
        times = np.unique(np.concatenate([grid, np.fromiter(boundaries, float)]))
        times = times[times <= grid[-1] + 1e-12]
        size = self.prop.a.shape[0]
        states = np.zeros((times.size, size))
        x = np.zeros(size)
        i, t = 0, 0.0  # i: next event time to record; phases are contiguous from 0
        for p in phases:
            if p.bolus_mg:
                x = x.copy()
                x[0] += p.bolus_mg
                if i > 0 and abs(times[i - 1] - p.start_min) <= 1e-12:
                    states[i - 1] = x  # right-continuous: the value just after the bolus
            while i < times.size and times[i] <= p.start_min + 1e-12:
                states[i] = x
                i += 1
            while i < times.size and times[i] <= p.end_min + 1e-12:
                x = self.prop.advance(x, times[i] - t, p.rate_mg_per_min)
                t = float(times[i])
                states[i] = x
                i += 1
        while i < times.size:
            x = self.prop.advance(x, times[i] - t, 0.0)
            t = float(times[i])
            states[i] = x
            i += 1
        rates_after = np.zeros(times.size)  # input rate on [times[i], times[i + 1])
        self._fix_rates(phases, times, rates_after)
        self.times = times
        self.states = states
        self.rates_after = rates_after

    @staticmethod
    def _fix_rates(phases: tuple[Phase, ...], times: np.ndarray, rates_after: np.ndarray) -> None:
        """Rate in force just after each event time: that of the phase containing ``(t, t + dt)``."""
        rates_after[:] = 0.0
        for p in phases:
            if p.end_min > p.start_min and p.rate_mg_per_min:
                inside = (times >= p.start_min - 1e-12) & (times < p.end_min - 1e-12)
                rates_after[inside] = p.rate_mg_per_min

    def plasma(self) -> np.ndarray:
        return self.states[:, 0] / self.micro.v1_l * NG_PER_ML_PER_MG_PER_L

    def effect_site(self) -> np.ndarray | None:
        if self.micro.ke0_per_min is None:
            return None
        return self.states[:, -1] * NG_PER_ML_PER_MG_PER_L

    def state_at(self, t: float) -> np.ndarray:
        """The exact state at any time in the simulated span (right-continuous at a bolus)."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        i = min(max(i, 0), self.times.size - 1)
        return self.prop.advance(self.states[i], t - self.times[i], self.rates_after[i])

    def value_at(self, t: float, *, effect: bool = False) -> float:
        s = self.state_at(t)
        if effect:
            return float(s[-1] * NG_PER_ML_PER_MG_PER_L)
        return float(s[0] / self.micro.v1_l * NG_PER_ML_PER_MG_PER_L)


def _refined_extrema(
    traj: Trajectory, values: np.ndarray, *, effect: bool, minima: bool = True, near_fraction: float = 0.0
) -> list[tuple[float, float]]:
    """Local maxima (and minima) of the sampled curve, each refined by bounded Brent minimisation inside
    the two sample intervals around it (each interval has a constant input, so the curve is smooth there).

    Maxima whose sampled value is below ``near_fraction`` x the sampled maximum are not refined: between two
    samples a peak cannot rise far above its neighbours at the output steps used here.
    """
    out: list[tuple[float, float]] = []
    times = traj.times
    n = values.size
    top = float(values.max()) if n else 0.0
    for i in range(n):
        left = values[i - 1] if i > 0 else None
        right = values[i + 1] if i < n - 1 else None
        neighbours = [v for v in (left, right) if v is not None]
        if not neighbours:
            continue
        is_max = all(values[i] >= v for v in neighbours) and any(values[i] > v for v in neighbours)
        is_min = all(values[i] <= v for v in neighbours) and any(values[i] < v for v in neighbours)
        if is_max and values[i] < near_fraction * top:
            continue
        if not (is_max or (minima and is_min)):
            continue
        sign = -1.0 if is_max else 1.0
        for lo, hi in ((times[max(i - 1, 0)], times[i]), (times[i], times[min(i + 1, n - 1)])):
            if hi - lo <= 1e-9:
                continue
            res = minimize_scalar(
                lambda t, sign=sign: sign * traj.value_at(t, effect=effect),
                bounds=(lo, hi),
                method="bounded",
                options={"xatol": 1e-7},
            )
            out.append((float(res.x), float(sign * res.fun)))
    return out


def _extremum(traj: Trajectory, values: np.ndarray, *, effect: bool) -> tuple[float, float]:
    i = int(np.argmax(values))
    best = (float(values[i]), float(traj.times[i]))
    for t, v in _refined_extrema(traj, values, effect=effect, minima=False, near_fraction=0.5):
        if v > best[0]:
            best = (v, t)
    return best


def _threshold(traj: Trajectory, values: np.ndarray, thr: float, end_infusion: float) -> ThresholdSummary:
    """Crossings of ``thr`` found by Brent's method between samples, with refined extrema as extra samples."""
    extra = _refined_extrema(traj, values, effect=False)
    ts = np.concatenate([traj.times, [t for t, _ in extra]])
    vs = np.concatenate([values, [v for _, v in extra]])
    order = np.argsort(ts, kind="stable")
    ts, vs = ts[order], vs[order]
    above = vs >= thr
    crossings: list[tuple[float, bool]] = []  # (time, going up)
    for k in range(ts.size - 1):
        if above[k] != above[k + 1] and ts[k + 1] > ts[k]:
            root = brentq(lambda t: traj.value_at(t) - thr, ts[k], ts[k + 1], xtol=1e-10)
            crossings.append((float(root), bool(above[k + 1])))
    minutes_above, start = 0.0, (float(ts[0]) if above[0] else None)
    first_above = start
    for t, up in crossings:
        if up:
            start = t
            first_above = t if first_above is None else first_above
        elif start is not None:
            minutes_above += t - start
            start = None
    if start is not None:
        minutes_above += float(ts[-1]) - start
    if not above.any():
        below_from: float | None = 0.0
    elif above[-1]:
        below_from = None
    else:
        downs = [t for t, up in crossings if not up]
        below_from = downs[-1] if downs else 0.0
    after = None if below_from is None else max(0.0, below_from - end_infusion)
    return ThresholdSummary(thr, minutes_above, first_above, below_from, after)


def simulate(
    model: PkModel,
    weight_kg: float,
    regimen: Regimen,
    *,
    until_min: float,
    step_min: float,
    threshold_ng_per_ml: float | None = None,
) -> Simulation:
    """Plasma (and effect-site, where the model has a ke0) concentrations on the output grid, exactly."""
    micro = model.for_weight(weight_kg)
    grid = output_grid(until_min, step_min)
    check_covers_regimen(regimen, until_min)
    if threshold_ng_per_ml is not None and not (
        math.isfinite(threshold_ng_per_ml) and 0 < threshold_ng_per_ml <= 100000
    ):
        raise ValidationError(
            BAD_THRESHOLD.format(value=threshold_ng_per_ml), field="threshold", value=threshold_ng_per_ml
        )
    traj = Trajectory(micro, regimen.phases_for(weight_kg), grid)
    cp_all = traj.plasma()
    ce_all = traj.effect_site()
    on_grid = np.searchsorted(traj.times, grid - 1e-12)
    cmax, tmax = _extremum(traj, cp_all, effect=False)
    end_inf = float(regimen.last_infusion_end_min or 0.0)
    cp_end = traj.value_at(end_inf)
    ce_max = ce_t = None
    if ce_all is not None:
        ce_max, ce_t = _extremum(traj, ce_all, effect=True)
    thr = None if threshold_ng_per_ml is None else _threshold(traj, cp_all, threshold_ng_per_ml, end_inf)
    summary = Summary(cmax, tmax, end_inf, cp_end, ce_max, ce_t, thr)
    cp = cp_all[on_grid].copy()
    ce = None if ce_all is None else ce_all[on_grid].copy()
    for arr in (grid, cp, ce):
        if arr is not None:
            arr.setflags(write=False)
    return Simulation(model, weight_kg, regimen, grid, cp, ce, summary, traj)
