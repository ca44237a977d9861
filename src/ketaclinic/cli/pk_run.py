"""The work behind ``ketaclinic pk`` (its parser is ketaclinic.cli.pk): numpy and the PK engine load
only when a pk command runs, never for ``--help``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.dosing import dose_calculate
from ketaclinic.core.pharmacology.models import PK_MODELS, pk_model_get
from ketaclinic.core.pharmacology.population import PopulationResult, population_simulate
from ketaclinic.core.pharmacology.regimen import (
    Infusion,
    Regimen,
    Segment,
    bolus_parse,
    infusion_parse,
    pause_parse,
)
from ketaclinic.core.pharmacology.simulation import Simulation, simulate
from ketaclinic.core.pharmacology.target import target_schedule
from ketaclinic.core.pharmacology.units import Kind, body_weight_kg, quantity_parse
from ketaclinic.core.protocols.dosing import DoseBasis, Route
from ketaclinic.protocols.files import shipped_protocol

NO_IV_DOSING = "Protocol {value!r} has no IV dosing section to simulate."
PROTOCOL_OR_SEGMENTS = "Give either --protocol (its default session) or dosing segments, not both."
WEIGHTS_OR_DISTRIBUTION = (
    "Give the virtual patients' weights either as a list (--weights 62kg,80kg,95kg) or as a distribution "
    "(--n and --weight-mean, optionally --weight-sd), not both."
)
NO_MODEL = "No PK model: give --model (one of {allowed}) or a --protocol that names one."

_PARSERS: dict[str, Callable[[str], Segment]] = {
    "bolus": bolus_parse,
    "infusion": infusion_parse,
    "pause": pause_parse,
}


def _regimen(args: argparse.Namespace) -> Regimen:
    return Regimen.of([_PARSERS[kind](text) for kind, text in (args.segments or [])])


def _minutes(text: str, field: str) -> float:
    return quantity_parse(text, Kind.DURATION, field=field).value


def _threshold(args: argparse.Namespace) -> float | None:
    return (
        quantity_parse(args.threshold, Kind.CONCENTRATION, field="threshold").value
        if args.threshold
        else None
    )


def _list(a: np.ndarray | None) -> list[float] | None:
    return None if a is None else [float(v) for v in a]


def _protocol_regimen(args: argparse.Namespace, weight_kg: float) -> tuple[Regimen, str | None]:
    """The protocol's default session for this weight, at the rate the pump actually delivers."""
    doc = shipped_protocol(args.protocol)
    section = doc.dosing
    if section is None or section.route is not Route.IV:
        raise ValidationError(NO_IV_DOSING.format(value=doc.id), field="protocol", value=doc.id)
    calc = dose_calculate(section, weight_kg=weight_kg)
    if calc.pump is None or calc.duration_min is None:  # the schema requires both for IV protocols
        raise ValidationError(NO_IV_DOSING.format(value=doc.id), field="protocol", value=doc.id)
    rate_mg_per_min = calc.pump.delivered_rate_mg_per_h / 60.0
    if section.basis is DoseBasis.MG_PER_KG:
        # per-kg protocol: virtual patients of other weights get the same mg/kg (as delivered to this patient)
        infusion = Infusion(
            calc.pump.run_time_min, rate_mg_per_kg_per_min=rate_mg_per_min / calc.dosing_weight.actual_kg
        )
    else:  # fixed mg, or a per-kg rate capped in mg/h: every virtual patient gets this patient's mg/h
        infusion = Infusion(calc.pump.run_time_min, rate_mg_per_min=rate_mg_per_min)
    return Regimen.of([infusion]), section.pk_model


def _simulate(args: argparse.Namespace) -> Simulation:
    weight = body_weight_kg(args.weight)
    model_name = args.model
    if getattr(args, "protocol", None):
        if args.segments:
            raise ValidationError(PROTOCOL_OR_SEGMENTS, field="protocol", value=args.protocol)
        regimen, protocol_model = _protocol_regimen(args, weight)
        model_name = model_name or protocol_model
    else:
        regimen = _regimen(args)
    if not model_name:
        raise ValidationError(NO_MODEL.format(allowed=", ".join(PK_MODELS)), field="model", value=None)
    return simulate(
        pk_model_get(model_name),
        weight,
        regimen,
        until_min=_minutes(args.until, "until"),
        step_min=_minutes(args.step, "step"),
        threshold_ng_per_ml=_threshold(args),
    )


def _population(args: argparse.Namespace, *, regimen: Regimen | None = None) -> PopulationResult:
    weights = getattr(args, "weights", None)
    if weights:
        if args.weight_mean is not None or args.n is not None:
            raise ValidationError(WEIGHTS_OR_DISTRIBUTION, field="weights", value=weights)
        listed = np.array([body_weight_kg(w) for w in weights.split(",") if w.strip()])
        sample: dict[str, Any] = {"weights_kg": listed}
    else:
        if args.n is None or args.weight_mean is None:
            raise ValidationError(WEIGHTS_OR_DISTRIBUTION, field="weights", value=None)
        sample = {
            "n": args.n,
            "weight_mean_kg": body_weight_kg(args.weight_mean),
            "weight_sd_kg": _weight_sd(args.weight_sd),
        }
    return population_simulate(
        pk_model_get(args.model),
        regimen or _regimen(args),
        cv=args.cv,
        seed=args.seed,
        until_min=_minutes(args.until, "until"),
        step_min=_minutes(args.step, "step"),
        threshold_ng_per_ml=_threshold(args),
        effect_site=bool(getattr(args, "effect_site", False)),
        **sample,
    )


def _weight_sd(text: str) -> float:
    return quantity_parse(text, Kind.BODY_WEIGHT, field="weight SD").value


def cmd_simulate(args: argparse.Namespace) -> int:
    sim = _simulate(args)
    summary = sim.summary.as_dict()
    out = {
        "model": sim.model.name,
        "model_label": sim.model.label,
        "parameter_source": sim.model.parameter_source,
        "weight_kg": sim.weight_kg,
        "unit": "ng/mL",
        "t_min": _list(sim.t_min),
        "plasma": _list(sim.plasma_ng_per_ml),
        "effect_site": _list(sim.effect_site_ng_per_ml),
        "effect_site_note": None
        if sim.effect_site_ng_per_ml is None
        else "ke0 derived, not published: indicative only",
        "summary": summary,
    }
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    _print_summary(sim.model.label, sim.weight_kg, summary)
    every = (
        max(1, int(round(10 / max(float(sim.t_min[1] - sim.t_min[0]), 1e-9)))) if sim.t_min.size > 1 else 1
    )
    print("  t (min)   plasma (ng/mL)")
    for t, c in zip(sim.t_min[::every], sim.plasma_ng_per_ml[::every], strict=True):
        print(f"  {t:7.0f}   {c:10.1f}")
    return 0


def _print_summary(label: str, weight: float, s: dict[str, Any]) -> None:
    print(f"{label}, {weight:.1f} kg (model prediction, ng/mL)")
    print(
        f"  peak {s['cmax_ng_per_ml']:.1f} ng/mL at {s['tmax_min']:.1f} min; "
        f"at end of infusion ({s['end_of_infusion_min']:g} min) "
        f"{s['plasma_at_end_of_infusion_ng_per_ml']:.1f} ng/mL"
    )
    t = s.get("threshold")
    if t:
        below = (
            "still above at the end"
            if t["below_from_min"] is None
            else f"below from {t['below_from_min']:.1f} min"
        )
        print(f"  above {t['threshold_ng_per_ml']:g} ng/mL for {t['minutes_above']:.1f} min; {below}")


def cmd_population(args: argparse.Namespace) -> int:
    pop = _population(args)
    out = {
        "model": pop.model.name,
        "unit": "ng/mL",
        "t_min": _list(pop.t_min),
        "percentiles": {f"p{int(k)}": _list(v) for k, v in pop.percentiles.items()},
        "share_above_threshold_by_time": _list(pop.share_above_by_time),
        "effect_site_percentiles": None
        if pop.effect_site_percentiles is None
        else {f"p{int(k)}": _list(v) for k, v in pop.effect_site_percentiles.items()},
        "effect_site_note": None
        if pop.effect_site_percentiles is None
        else "ke0 derived, not published, and not varied between patients: indicative only",
        "summary": pop.summary(),
        "variability": {
            "cv": args.cv,
            "model": "log-normal on V1 and each rate constant, omega^2 = ln(1 + CV^2)",
            "seed": args.seed,
        },
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    s = pop.summary()
    c = s["cmax_ng_per_ml"]
    assert isinstance(c, dict)  # percentile -> ng/mL
    print(f"{pop.model.label}: {s['n']} virtual patients, CV {args.cv:g}, seed {args.seed}")
    print(f"  peak plasma ng/mL: 5th {c['p5']:.0f}, median {c['p50']:.0f}, 95th {c['p95']:.0f}")
    if pop.share_ever_above is not None:
        print(f"  share ever above {pop.threshold_ng_per_ml:g} ng/mL: {100 * pop.share_ever_above:.1f}%")
    return 0


def cmd_target(args: argparse.Namespace) -> int:
    model = pk_model_get(args.model)
    weight = body_weight_kg(args.weight)
    rate = quantity_parse(args.max_rate, Kind.RATE, field="max rate")
    max_rate_mg_h = rate.value * 60.0 * (weight if rate.per_kg else 1.0)
    sched = target_schedule(
        model,
        weight,
        target_ng_per_ml=quantity_parse(args.target, Kind.CONCENTRATION, field="target").value,
        max_rate_mg_per_h=max_rate_mg_h,
        duration_min=_minutes(args.duration, "duration"),
        period_min=_minutes(args.period, "period"),
    )
    t = 0.0
    rows: list[dict[str, float]] = []
    for seg, r in zip(sched.regimen.segments, sched.rates_mg_per_h, strict=True):
        rows.append({"start_min": t, "duration_min": seg.duration_min, "rate_mg_h": r})
        t += seg.duration_min
    out = {
        "model": model.name,
        "weight_kg": weight,
        "target_ng_per_ml": sched.target_ng_per_ml,
        "max_rate_mg_h": sched.max_rate_mg_per_h,
        "reached_at_min": sched.reached_at_min,
        "total_mg": sched.total_mg,
        "schedule": rows,
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(
        f"Target {sched.target_ng_per_ml:g} ng/mL, {model.label}, {weight:.1f} kg, max {max_rate_mg_h:g} "
        f"mg/h; reached at {sched.reached_at_min} min; total {sched.total_mg:.1f} mg"
    )
    for row in rows:
        print(
            f"  from {row['start_min']:6.1f} min for {row['duration_min']:g} min: {row['rate_mg_h']:.2f} mg/h"
        )
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from ketaclinic.pharmacology_plots import concentration_figure, figure_write

    sim = _simulate(args)
    pop = None
    if args.n:
        args.weight_mean = args.weight_mean or args.weight
        args.model = sim.model.name
        pop = _population(args, regimen=sim.regimen)
    fig = concentration_figure(sim, population=pop, threshold_ng_per_ml=_threshold(args))
    path = figure_write(fig, args.out)
    print(json.dumps({"out": str(path)}) if args.json else f"wrote {path}")
    return 0
