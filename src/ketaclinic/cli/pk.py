"""``ketaclinic pk``: predicted ketamine concentrations (simulate, population, target, plot, models).

Dosing segments are given as repeated flags and run one after another in command-line order:
``--bolus 0.1mg/kg``, ``--infusion 0.5mg/kg/40min`` (dose over duration) or ``--infusion 20mg/h/120min``
(rate for a duration), ``--pause 10min``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ketaclinic.core.pharmacology.models import PK_MODELS

RUN = "ketaclinic.cli.pk_run"  # the handlers, imported only when a pk command runs


class _Segment(argparse.Action):
    """Collect --bolus/--infusion/--pause into one list, in command-line order."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        items = list(getattr(namespace, "segments", None) or [])
        items.append((self.dest, values))
        namespace.segments = items


def _cmd_models(args: argparse.Namespace) -> int:
    rows = [m.as_dict() for m in PK_MODELS.values()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for m in PK_MODELS.values():
        ke0 = "none" if m.ke0_per_min is None else f"{m.ke0_per_min:g}/min (derived)"
        print(f"{m.name:<9} {m.label}; V1 {m.v1_l_per_kg:.4g} L/kg; ke0 {ke0}\n          {m.reference}")
    return 0


def _add_segments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bolus", action=_Segment, metavar="DOSE", help="A bolus: 0.1mg/kg or 10mg.")
    p.add_argument("--infusion", action=_Segment, metavar="SPEC", help="0.5mg/kg/40min or 20mg/h/120min.")
    p.add_argument("--pause", action=_Segment, metavar="DURATION", help="No drug for a while: 10min.")
    p.add_argument("--until", required=True, help="Simulate until, e.g. 180min.")
    p.add_argument("--step", default="1min", help="Output step, e.g. 1min (default).")
    p.add_argument("--threshold", help="A concentration to report time above, e.g. 300ng/mL.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(segments=[])


def _add_population(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--n", type=int, help="Number of virtual patients.")
    p.add_argument("--weight-mean", help="Mean weight, e.g. 80kg.")
    if required:
        p.add_argument("--weights", help="Or the patients' weights as a list: 62kg,80kg,210lb.")
    p.add_argument("--weight-sd", default="0kg", help="Weight SD, e.g. 15kg.")
    p.add_argument(
        "--cv",
        type=float,
        default=0.3 if not required else 0.0,
        help="Log-normal CV on V1 and each rate constant (default 0 here; 0.3 for plot bands).",
    )
    p.add_argument("--seed", type=int, default=1)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pk = sub.add_parser("pk", help="Predicted ketamine concentrations (PK models).")
    psub = pk.add_subparsers(dest="pk_command", required=True)
    sim = psub.add_parser("simulate", help="One patient: plasma and effect-site curves and a summary.")
    sim.add_argument("--model", help=f"One of {', '.join(PK_MODELS)} (default: the protocol's).")
    sim.add_argument("--protocol", help="Simulate this protocol's default session (instead of segments).")
    sim.add_argument("--weight", required=True, help="Body weight with unit: 70kg or 154lb.")
    _add_segments(sim)
    sim.set_defaults(func=f"{RUN}:cmd_simulate")
    pop = psub.add_parser(
        "population", help="N virtual patients: percentile bands and share above a threshold."
    )
    pop.add_argument("--model", required=True)
    pop.add_argument("--effect-site", action="store_true", help="Also effect-site percentiles (derived ke0).")
    _add_population(pop, required=True)
    _add_segments(pop)
    pop.set_defaults(func=f"{RUN}:cmd_population")
    plot = psub.add_parser("plot", help="Concentration-time picture (PNG or SVG).")
    plot.add_argument("--model", help="PK model (default: the protocol's).")
    plot.add_argument("--protocol", help="Plot this protocol's default session (instead of segments).")
    plot.add_argument("--weight", required=True)
    plot.add_argument("--out", required=True, help="FILE.png or FILE.svg")
    _add_population(plot, required=False)
    _add_segments(plot)
    plot.set_defaults(func=f"{RUN}:cmd_plot")
    tgt = psub.add_parser("target", help="Rate schedule reaching and holding a target plasma concentration.")
    tgt.add_argument("--model", required=True)
    tgt.add_argument("--weight", required=True)
    tgt.add_argument("--target", required=True, help="e.g. 150ng/mL")
    tgt.add_argument("--max-rate", required=True, help="e.g. 25mg/h or 0.35mg/kg/h")
    tgt.add_argument("--duration", required=True, help="e.g. 4h")
    tgt.add_argument("--period", default="10min", help="Rate changes every this long (default 10min).")
    tgt.add_argument("--json", action="store_true")
    tgt.set_defaults(func=f"{RUN}:cmd_target")
    mod = psub.add_parser("models", help="The PK models with parameters and sources.")
    mod.add_argument("--json", action="store_true")
    mod.set_defaults(func=_cmd_models)
