"""Benchmark: 10,000 virtual patients, Domino, 0.5 mg/kg over 40 min, 180 min at 1-min steps.

Same population for every engine: weights Normal(80, 15) kg truncated to 20-350 kg, log-normal IIV with
CV 0.3 on V1 and each rate constant, seed 1 (``ketaclinic.core.pharmacology.population``).

* ketaclinic: ``population_simulate`` (all patients at once, exact).
* opentiva 1.1.2 (compiled Cython ``pkpd.PkPdModel``, the engine of its ``Pump``): per patient, the
  closed-form ``calculate_cp`` at the 181 output times (its fastest path; ``Pump.run`` would compute
  every second and the effect site too, and is also timed on a sample).
* PyTCI 1.2.0 exact mode (``Three`` with ``set_integrator('exact')``, matrix exponentials): per patient,
  ``giveoverseconds(rate, 60)`` for 40 min then ``wait_time(60)`` for 140 min.

ketaclinic is timed three ways: the whole run (draw, simulate, percentiles, share above the threshold), the
same run with ``np.percentile`` for the bands as before (the named baseline of the percentile step; timed
alternately with it), and the kernel alone (concentrations only — what the peers compute); the per-patient
ratio uses the kernel, and the whole run is reported against the same peers too. Peers are slow, so they
run on a sample of patients (``--peer-sample``, default 500) and the time per patient is compared; every
sampled patient is checked against ketaclinic to 1e-6 relative. Install the peers (benchmark-only):
``make bench-deps``.

Growing sizes (``--sizes``, default 1,000, 10,000 and 100,000 patients): the whole run and its percentile
step with ``percentiles.row_percentiles`` (now) against the named baseline **np.percentile** (the same run
with ``np.percentile(plasma, PERCENTILES, axis=1)`` for the bands, as before), timed alternately in the same
process (wall clock, best of ``--repeat``; CPU time of this process too, which the other jobs on a shared
machine disturb less). The bands must be equal bit for bit or the benchmark fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from ketaclinic.core.pharmacology import population
from ketaclinic.core.pharmacology.models import PK_MODELS
from ketaclinic.core.pharmacology.percentiles import row_percentiles
from ketaclinic.core.pharmacology.population import (
    PERCENTILES,
    VirtualPatients,
    event_times,
    plasma_concentrations,
    population_simulate,
    virtual_patients_draw,
)
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen
from ketaclinic.core.pharmacology.simulation import output_grid

N, UNTIL, STEP, DOSE, DUR = 10_000, 180, 1, 0.5, 40
RTOL = 1e-6


REGIMEN = Regimen.of([Infusion.dose_over(duration_min=DUR, dose_mg_per_kg=DOSE)])
POPULATION = {"n": N, "weight_mean_kg": 80, "weight_sd_kg": 15, "cv": 0.3, "seed": 1}


def best_of(fn, repeat: int = 7) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def ketaclinic_runs() -> tuple[tuple[float, float], tuple[float, float], float, object, VirtualPatients]:
    """Whole run (draw + simulate + percentiles + summary) now and with np.percentile bands as before (timed
    alternately), and the kernel alone (concentrations only)."""
    model = PK_MODELS["domino"]

    def whole_run() -> object:
        return population_simulate(
            model, REGIMEN, until_min=UNTIL, step_min=STEP, threshold_ng_per_ml=300, **POPULATION
        )

    def whole_run_before() -> object:
        with numpy_percentiles():
            return whole_run()

    best = alternately({"now": whole_run, "before": whole_run_before}, 7)
    patients = virtual_patients_draw(model, **POPULATION)
    times = event_times(REGIMEN, output_grid(UNTIL, STEP))
    kernel, _ = best_of(lambda: plasma_concentrations(REGIMEN, patients, times))
    return best["now"], best["before"], kernel, whole_run(), patients


def individual_parameters(p: VirtualPatients) -> tuple[np.ndarray, np.ndarray]:
    """Per-patient (v1, k10, k12, k21, k13, k31) rows of the very population ketaclinic simulated."""
    rows = np.stack(
        [p.v1_l, p.k10_per_min, p.k12_per_min, p.k21_per_min, p.k13_per_min, p.k31_per_min], axis=1
    )
    return p.weights_kg, rows


class _Params:
    def __init__(self, row: np.ndarray) -> None:
        self.v1, self.k10, self.k12, self.k21, self.k13, self.k31 = (float(v) for v in row)
        self.compartments, self.ke0 = 3, 0.652


def opentiva_run(w: np.ndarray, p: np.ndarray, idx: np.ndarray) -> tuple[float, np.ndarray]:
    from opentiva import pkpd

    out = np.empty((idx.size, UNTIL // STEP + 1))
    t0 = time.perf_counter()
    for j, i in enumerate(idx):
        model = pkpd.PkPdModel(_Params(p[i]))
        mg_per_s = DOSE * w[i] / (DUR * 60)
        infusions = np.array([[0.0, mg_per_s, DUR * 60.0, DUR * 60.0]])
        for k, t in enumerate(range(0, UNTIL * 60 + 1, STEP * 60)):
            out[j, k] = model.calculate_cp(infusions, t)
    return time.perf_counter() - t0, out * 1000.0  # mg/L -> ng/mL


def opentiva_pump_run(w: np.ndarray, p: np.ndarray, idx: np.ndarray) -> float:
    """opentiva's user-facing Pump.run() (per-second grid, effect site too), on a few patients."""
    from opentiva import pkpd
    from opentiva.pump import Pump

    t0 = time.perf_counter()
    for i in idx:
        params = _Params(p[i])
        pump = Pump.__new__(Pump)  # Pump needs a model object; give it ours without anthropometric checks
        pump.model, pump.end_time = params, UNTIL * 60 + 1
        pump.target_concentrations, pump.user_infusion_list = np.empty((0, 9)), np.empty((0, 4))
        pump.infusion_list, pump.mi_delta = np.empty((0, 4)), np.zeros(1)
        pump.pkpd_model = pkpd.PkPdModel(params)
        pump.add_infusion(0, DOSE * w[i] / (DUR * 60), DUR * 60)
        pump.run()
    return time.perf_counter() - t0


def pytci_run(w: np.ndarray, p: np.ndarray, idx: np.ndarray) -> tuple[float, np.ndarray]:
    from PyTCI.models.base import Three

    out = np.empty((idx.size, UNTIL // STEP + 1))
    t0 = time.perf_counter()
    for j, i in enumerate(idx):
        m = Three()
        m.v1, m.k10, m.k12, m.k21, m.k13, m.k31 = (float(v) for v in p[i])
        m.keo = 0.652
        m.setup()
        m.set_integrator("exact")
        mg_per_s = DOSE * w[i] / (DUR * 60)
        out[j, 0] = m.x1
        for k in range(1, UNTIL // STEP + 1):
            if k <= DUR // STEP:
                m.giveoverseconds(mg_per_s, STEP * 60)
            else:
                m.wait_time(STEP * 60)
            out[j, k] = m.x1
    return time.perf_counter() - t0, out * 1000.0


def opentiva_formula_numpy(w: np.ndarray, p: np.ndarray) -> np.ndarray:
    """opentiva's closed-form three-compartment formula (``PkPdModel.three_compartment``, ``cp_increment``,
    ``cp_decrement``: trigonometric cubic roots alpha, beta, gamma; coefficients A, B, C), written with numpy
    arrays over every patient at once: one infusion of ``rate`` from 0 to DUR, concentrations (N, T)."""
    v1, k10, k12, k21, k13, k31 = (p[:, j][:, None] for j in range(6))
    a0 = k10 * k21 * k31
    a1 = k10 * k31 + k21 * k31 + k21 * k13 + k10 * k21 + k31 * k12
    a2 = k10 + k12 + k13 + k21 + k31
    pp = a1 - a2**2 / 3
    q = 2 * a2**3 / 27 - a1 * a2 / 3 + a0
    r1 = np.sqrt(-(pp**3) / 27)
    r2 = 2 * r1 ** (1 / 3.0)
    theta = np.arccos(-(q / (2 * r1))) / 3
    alpha = -(np.cos(theta) * r2 - a2 / 3)
    beta = -(np.cos(theta + 2 * np.pi / 3) * r2 - a2 / 3)
    gamma = -(np.cos(theta + 4 * np.pi / 3) * r2 - a2 / 3)
    a = (1 / v1) * ((k21 - alpha) / (alpha - beta)) * ((k31 - alpha) / (alpha - gamma))
    b = (1 / v1) * ((k21 - beta) / (beta - alpha)) * ((k31 - beta) / (beta - gamma))
    c = (1 / v1) * ((k21 - gamma) / (gamma - beta)) * ((k31 - gamma) / (gamma - alpha))
    t = np.arange(0, UNTIL + STEP, STEP, dtype=float)[None, :]
    on = np.minimum(t, DUR)
    off = np.maximum(t - DUR, 0.0)
    rate = (DOSE * w / DUR)[:, None]  # mg/min
    cp = rate * sum(
        (k / lam) * (1 - np.exp(-lam * on)) * np.exp(-lam * off)
        for k, lam in ((a, alpha), (b, beta), (c, gamma))
    )
    return np.asarray(cp) * 1000.0  # mg/L -> ng/mL


def pytci_method_numpy(w: np.ndarray, p: np.ndarray) -> np.ndarray:
    """PyTCI's exact integrator (the amounts advanced by the matrix exponential of the rate matrix over each
    60-second step, a constant infusion added exactly) written with numpy over every patient at once: one
    batched eigen-decomposition, then 180 steps of (N, 3, 3) x (N, 3)."""
    v1, k10, k12, k21, k13, k31 = (p[:, j] for j in range(6))
    n = w.size
    m = np.zeros((n, 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = -(k10 + k12 + k13), k21, k31
    m[:, 1, 0], m[:, 1, 1] = k12, -k21
    m[:, 2, 0], m[:, 2, 2] = k13, -k31
    lam, vec = np.linalg.eig(m)
    lam, vec = lam.real, vec.real
    inv = np.linalg.inv(vec)
    decay = np.einsum("nij,nj,njk->nik", vec, np.exp(lam * STEP), inv)
    gain = np.einsum("nij,nj,nj->ni", vec, np.expm1(lam * STEP) / lam, inv[:, :, 0])  # per mg/min
    rate = DOSE * w / DUR
    x = np.zeros((n, 3))
    out = np.empty((n, UNTIL // STEP + 1))
    out[:, 0] = 0.0
    for k in range(1, UNTIL // STEP + 1):
        x = np.einsum("nij,nj->ni", decay, x)
        if k <= DUR // STEP:
            x += gain * rate[:, None]
        out[:, k] = x[:, 0] / v1
    return out * 1000.0


def ketaclinic_one_at_a_time(patients: VirtualPatients, idx: np.ndarray) -> tuple[float, np.ndarray]:
    """The same kernel called once per patient (a population of one), as the peers are called."""
    times = event_times(REGIMEN, output_grid(UNTIL, STEP))
    rates = patients.rates()
    out = np.empty((idx.size, times.size))
    t0 = time.perf_counter()
    for j, i in enumerate(idx):
        one = VirtualPatients(
            patients.weights_kg[i : i + 1],
            patients.v1_l[i : i + 1],
            *(None if v is None else v[i : i + 1] for v in rates.values()),  # type: ignore[arg-type]
        )
        out[j] = plasma_concentrations(REGIMEN, one, times)[:, 0]
    return time.perf_counter() - t0, out


def check(name: str, peer: np.ndarray, ours: np.ndarray) -> float:
    scale = np.maximum(np.abs(ours), 1e-12)
    worst = float(np.max(np.abs(peer - ours)[:, 1:] / scale[:, 1:]))
    zero_ok = bool(np.all(np.abs(peer[:, 0]) < 1e-9) and np.all(np.abs(ours[:, 0]) < 1e-9))
    status = "OK" if worst <= RTOL and zero_ok else "DISAGREE"
    print(f"  agreement {name}: max relative difference {worst:.2e} (limit {RTOL:g}) -> {status}")
    if status != "OK":
        raise SystemExit(f"{name} disagrees with ketaclinic beyond {RTOL:g}")
    return worst


@contextmanager
def numpy_percentiles() -> Iterator[None]:
    """population_simulate as it was: np.percentile for the bands (the named baseline)."""
    saved = population.row_percentiles
    population.row_percentiles = lambda a, q: np.percentile(a, q, axis=1)  # type: ignore[assignment]
    try:
        yield
    finally:
        population.row_percentiles = saved


def alternately(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """Best wall-clock and best CPU time of each function, run in turn ``repeat`` times."""
    best = {name: (float("inf"), float("inf")) for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def one_size(n: int, repeat: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Whole run and percentile step at ``n`` patients, before (np.percentile) and now; bands must agree."""
    model, kw = PK_MODELS["domino"], {**POPULATION, "n": n}

    def run() -> object:
        return population_simulate(
            model, REGIMEN, until_min=UNTIL, step_min=STEP, threshold_ng_per_ml=300, **kw
        )

    def run_before() -> object:
        with numpy_percentiles():
            return run()

    now, before = run(), run_before()
    for p in PERCENTILES:
        if not np.array_equal(now.percentiles[p], before.percentiles[p]):  # type: ignore[attr-defined]
            raise SystemExit(f"{n} patients: the p{p:g} band differs from np.percentile's")
    times = event_times(REGIMEN, output_grid(UNTIL, STEP))
    plasma = plasma_concentrations(REGIMEN, virtual_patients_draw(model, **kw), times)
    return {
        "whole run": alternately({"before": run_before, "now": run}, repeat),
        "percentiles": alternately(
            {
                "before": lambda: np.percentile(plasma, PERCENTILES, axis=1),
                "now": lambda: row_percentiles(plasma, PERCENTILES),
            },
            repeat,
        ),
    }


def growing_sizes(sizes: list[int], repeat: int) -> None:
    print(
        f"\n3. GROWING SIZES: baseline np.percentile (before) vs row_percentiles (now), same run, "
        f"alternating, best of {repeat}"
    )
    print(
        f"  {'patients':>9}  {'step':<12} {'np.percentile':>14} {'row_percentiles':>16} {'ratio':>6}   "
        f"{'cpu before':>10} {'cpu now':>8} {'ratio':>6}"
    )
    for n in sizes:
        for step, t in one_size(n, repeat).items():
            (wb, cb), (wn, cn) = t["before"], t["now"]
            print(
                f"  {n:>9,}  {step:<12} {wb * 1000:11.1f} ms {wn * 1000:13.1f} ms {wn / wb:6.2f}   "
                f"{cb * 1000:7.1f} ms {cn * 1000:5.1f} ms {cn / cb:6.2f}"
            )
    print("  bands equal to np.percentile's bit for bit at every size -> OK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-sample", type=int, default=500)
    ap.add_argument("--sizes", default="1000,10000,100000", help="patients for the growing-sizes table")
    ap.add_argument("--repeat", type=int, default=7, help="runs of each in the growing-sizes table")
    ap.add_argument("--only-sizes", action="store_true", help="only the growing-sizes table (no peers)")
    args = ap.parse_args()
    load = os.getloadavg()
    print(
        f"cores available: {os.cpu_count()}; load average {load[0]:.2f}; python {sys.version.split()[0]}; "
        f"numpy {np.__version__}"
    )
    if args.only_sizes:
        growing_sizes([int(v) for v in args.sizes.split(",")], args.repeat)
        return 0
    (total, total_cpu), (total_before, before_cpu), kernel, res, patients = ketaclinic_runs()
    per_ours = kernel / N
    print(
        f"ketaclinic whole run (draw, simulate, percentiles, summary): {N} patients in {total * 1000:.1f} ms "
        f"(best of 7)  [target: < 1 s -> {'MET' if total < 1 else 'NOT MET'}]"
    )
    print(
        f"ketaclinic kernel (concentrations only, what the peers compute): {kernel * 1000:.1f} ms "
        f"= {per_ours * 1e6:.3f} µs per patient"
    )
    w, p = individual_parameters(patients)
    full = res.plasma_ng_per_ml  # type: ignore[attr-defined]
    print(f"\n1. VECTORISED: all {N:,} patients in one call (numpy arrays over the patients), best of 7")
    vec: dict[str, float] = {
        "ketaclinic plasma_concentrations (kernel)": kernel,
        "ketaclinic population_simulate (whole run, percentiles incl.)": total,
        "  the same with np.percentile for the bands (before)": total_before,
    }
    for name, fn in (
        ("opentiva's closed-form formula, in numpy", opentiva_formula_numpy),
        ("PyTCI's exact (matrix exponential) method, in numpy", pytci_method_numpy),
    ):
        t, cp = best_of(lambda f=fn: f(w, p))  # type: ignore[misc]
        check(name, np.asarray(cp), full)
        vec[name] = t
    for name, t in vec.items():
        print(f"  {name:<62} {t * 1000:9.1f} ms  {t / kernel:6.1f}x the kernel")
    met = {True: "MET", False: "NOT MET"}
    print(
        f"  target: whole run < 50 ms -> wall clock {met[total < 0.05]} ({total * 1000:.1f} ms at load "
        f"{load[0]:.1f}), CPU time {met[total_cpu < 0.05]} ({total_cpu * 1000:.1f} ms; "
        f"{before_cpu * 1000:.1f} ms with np.percentile)"
    )
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(N, size=min(args.peer_sample, N), replace=False))
    ours = full[idx]
    t_one, one = ketaclinic_one_at_a_time(patients, idx)
    check("ketaclinic one at a time", one, ours)
    peers: dict[str, float] = {"ketaclinic plasma_concentrations, a population of one": t_one / idx.size}
    missing: list[str] = []
    try:
        t, cp = opentiva_run(w, p, idx)
        check("opentiva calculate_cp", cp, ours)
        peers["opentiva 1.1.2 compiled PkPdModel.calculate_cp"] = t / idx.size
        few = idx[:20]
        peers["opentiva 1.1.2 Pump.run (per-second grid + effect site)"] = (
            opentiva_pump_run(w, p, few) / few.size
        )
    except ImportError as exc:
        missing.append(f"opentiva ({exc})")
    try:
        t, cp = pytci_run(w, p, idx)
        check("PyTCI exact", cp, ours)
        peers["PyTCI 1.2.0 exact (matrix exponential)"] = t / idx.size
    except ImportError as exc:
        missing.append(f"PyTCI ({exc})")
    for m in missing:
        print(f"!!! PEER NOT INSTALLED, NOT MEASURED: {m}. Run `make bench-deps`. !!!")
    base = peers["ketaclinic plasma_concentrations, a population of one"]
    print(f"\n2. ONE PATIENT AT A TIME: each engine called per patient ({idx.size} patients), per patient")
    for name, t in sorted(peers.items(), key=lambda kv: kv[1]):
        print(f"  {name:<62} {t * 1e6:10.1f} µs  {t / base:8.1f}x ketaclinic's")
    growing_sizes([int(v) for v in args.sizes.split(",")], args.repeat)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
