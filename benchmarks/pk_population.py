"""Benchmark: 10,000 virtual patients, Domino, 0.5 mg/kg over 40 min, 180 min at 1-min steps.

Same population for every engine: weights Normal(80, 15) kg truncated to 20-350 kg, log-normal IIV with
CV 0.3 on V1 and each rate constant, seed 1 (``ketaclinic.core.pharmacology.population``).

* ketaclinic: ``population_simulate`` (all patients at once, exact).
* opentiva 1.1.2 (compiled Cython ``pkpd.PkPdModel``, the engine of its ``Pump``): per patient, the
  closed-form ``calculate_cp`` at the 181 output times (its fastest path; ``Pump.run`` would compute
  every second and the effect site too, and is also timed on a sample).
* PyTCI 1.2.0 exact mode (``Three`` with ``set_integrator('exact')``, matrix exponentials): per patient,
  ``giveoverseconds(rate, 60)`` for 40 min then ``wait_time(60)`` for 140 min.

ketaclinic is timed twice: the whole run (draw, simulate, percentiles, summary) and the kernel alone
(concentrations only — what the peers compute); the per-patient ratio uses the kernel, and the whole run
is reported against the same peers too. Peers are slow, so they run on a sample of patients
(``--peer-sample``, default 500) and the time per patient is compared; every sampled patient is checked
against ketaclinic to 1e-6 relative. Install the peers (benchmark-only): ``make bench-deps``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from ketaclinic.core.pharmacology.models import PK_MODELS
from ketaclinic.core.pharmacology.population import (
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


def ketaclinic_runs() -> tuple[float, float, object, VirtualPatients]:
    """Whole run (draw + simulate + percentiles + summary) and the kernel alone (concentrations only)."""
    model = PK_MODELS["domino"]
    whole, res = best_of(
        lambda: population_simulate(
            model, REGIMEN, until_min=UNTIL, step_min=STEP, threshold_ng_per_ml=300, **POPULATION
        )
    )
    patients = virtual_patients_draw(model, **POPULATION)
    times = event_times(REGIMEN, output_grid(UNTIL, STEP))
    kernel, _ = best_of(lambda: plasma_concentrations(REGIMEN, patients, times))
    return whole, kernel, res, patients


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


def check(name: str, peer: np.ndarray, ours: np.ndarray) -> float:
    scale = np.maximum(np.abs(ours), 1e-12)
    worst = float(np.max(np.abs(peer - ours)[:, 1:] / scale[:, 1:]))
    zero_ok = bool(np.all(np.abs(peer[:, 0]) < 1e-9) and np.all(np.abs(ours[:, 0]) < 1e-9))
    status = "OK" if worst <= RTOL and zero_ok else "DISAGREE"
    print(f"  agreement {name}: max relative difference {worst:.2e} (limit {RTOL:g}) -> {status}")
    if status != "OK":
        raise SystemExit(f"{name} disagrees with ketaclinic beyond {RTOL:g}")
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-sample", type=int, default=500)
    args = ap.parse_args()
    load = os.getloadavg()
    print(
        f"cores available: {os.cpu_count()}; load average {load[0]:.2f}; python {sys.version.split()[0]}; "
        f"numpy {np.__version__}"
    )
    total, kernel, res, patients = ketaclinic_runs()
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
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(N, size=min(args.peer_sample, N), replace=False))
    ours = res.plasma_ng_per_ml[idx]  # type: ignore[attr-defined]
    peers: dict[str, float] = {}
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
    print(f"\nper simulated patient (peers timed on {idx.size} patients of the same population):")
    print(f"  {'ketaclinic plasma_concentrations (kernel)':<58} {per_ours * 1e6:12.3f} µs  1.0x")
    print(f"  {'ketaclinic population_simulate (whole run)':<58} {total / N * 1e6:12.3f} µs")
    for name, t in sorted(peers.items(), key=lambda kv: kv[1]):
        print(f"  {name:<58} {t * 1e6:12.2f} µs  ketaclinic is {t / per_ours:,.0f}x faster")
    if peers:
        fastest = min(peers.values())
        ratio = fastest / per_ours
        print(
            f"\nvs the fastest peer: {ratio:,.0f}x per patient "
            f"[target >= 100x -> {'MET' if ratio >= 100 else 'NOT MET'}]"
        )
        print(f"whole run vs the fastest peer: {fastest / (total / N):,.0f}x per patient")
        print(
            f"fastest peer extrapolated to {N} patients: "
            f"{fastest * N:.2f} s; ketaclinic whole run: {total:.3f} s"
        )
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
