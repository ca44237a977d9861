"""``ketaclinic dose``: a session's dose, rate and pump program under a protocol, with its limits checked.

Exit status 2 when the input is refused, including a hard-limit breach; a soft-limit breach prints the
warning (and ``"requires_override": true`` in JSON) and exits 0.
"""

from __future__ import annotations

import argparse
import json

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.pharmacology.dosing import DoseCalculation, dose_calculate, dose_override
from ketaclinic.core.pharmacology.models import pk_model_get
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen
from ketaclinic.core.pharmacology.simulation import simulate
from ketaclinic.core.pharmacology.units import Kind, body_weight_kg, height_cm, quantity_parse
from ketaclinic.protocols.files import shipped_protocol

NO_DOSING_SECTION = "Protocol {value!r} has no dosing section."


def _prediction(model_name: str | None, calc: DoseCalculation) -> dict[str, object] | None:
    """Predicted plasma levels for the session as the pump delivers it (model named by the protocol)."""
    if model_name is None or calc.pump is None or calc.duration_min is None:
        return None
    model = pk_model_get(model_name)
    regimen = Regimen.of(
        [Infusion(calc.pump.run_time_min, rate_mg_per_min=calc.pump.delivered_rate_mg_per_h / 60.0)]
    )
    until = max(180.0, calc.pump.run_time_min + 60.0)
    sim = simulate(model, calc.dosing_weight.actual_kg, regimen, until_min=until, step_min=1.0)
    s = sim.summary
    return {
        "model": model.name,
        "unit": "ng/mL",
        "cmax_ng_per_ml": s.cmax_ng_per_ml,
        "tmax_min": s.tmax_min,
        "plasma_at_end_of_infusion_ng_per_ml": s.plasma_at_end_of_infusion_ng_per_ml,
        "note": f"model prediction ({model.label}, {model.parameter_source}) at actual body weight",
    }


def _run(args: argparse.Namespace) -> int:
    doc = shipped_protocol(args.protocol)
    section = doc.dosing
    if section is None:
        raise ValidationError(NO_DOSING_SECTION.format(value=doc.id), field="protocol", value=doc.id)
    dose = None
    if args.dose is not None:
        dose = quantity_parse(args.dose, Kind.RATE if section.basis.is_rate else Kind.DOSE, field="dose")
    calc = dose_calculate(
        section,
        weight_kg=body_weight_kg(args.weight),
        height_cm=height_cm(args.height) if args.height else None,
        sex=args.sex,
        dose=dose,
        duration_min=quantity_parse(args.duration, Kind.DURATION, field="duration").value
        if args.duration
        else None,
        vial_mg_per_ml=quantity_parse(args.vial, Kind.VIAL_STRENGTH, field="vial").value
        if args.vial
        else None,
        bag_ml=quantity_parse(args.bag, Kind.VOLUME, field="bag").value if args.bag else None,
    )
    if args.override_reason:
        calc = dose_override(calc, args.override_reason)
    out = {
        "protocol": doc.id,
        "protocol_version": doc.version,
        "protocol_sha256": doc.sha256(),
        **calc.as_dict(),
        "prediction": _prediction(section.pk_model, calc),
    }
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(f"Protocol {doc.id} v{doc.version}: {doc.title}")
    print(f"Dosing weight {calc.dosing_weight.kg:.1f} kg ({calc.dosing_weight.basis.value})")
    print(f"Dose {calc.dose_mg:.1f} mg ({calc.dose_mg_per_kg:.3g} mg/kg)")
    if calc.duration_min is not None and calc.rate_mg_per_h is not None:
        print(f"Over {calc.duration_min:g} min at {calc.rate_mg_per_h:.1f} mg/h")
    if calc.pump is not None:
        p = calc.pump
        print(
            f"Pump: draw {p.drug_volume_ml:.2f} mL of {p.vial_mg_per_ml:g} mg/mL into {p.bag_ml:g} mL "
            f"(total {p.total_volume_ml:.2f} mL, {p.concentration_mg_per_ml:.4f} mg/mL); "
            f"run {p.rate_ml_per_h:.1f} mL/h, VTBI {p.vtbi_ml:.1f} mL ({p.run_time_min:.1f} min); "
            f"delivers {p.delivered_mg:.2f} mg"
        )
    if calc.devices is not None:
        print(f"Devices: {calc.devices}")
    pred = out["prediction"]
    if isinstance(pred, dict):
        print(
            f"Predicted plasma peak {pred['cmax_ng_per_ml']:.0f} "
            f"ng/mL at {pred['tmax_min']:.0f} min ({pred['note']})"
        )
    for note in [*calc.notes, *calc.dosing_weight.notes]:
        print(f"Note: {note}")
    for w in calc.warnings:
        print(f"WARNING: {w.message}")
    if calc.warnings:
        print(
            "Override reason given: " + calc.override_reason
            if calc.override_reason
            else "Not ready to sign: a prescriber must give an override reason (--override-reason)."
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dose", help="Dose, rate and pump program for a session under a protocol.")
    p.add_argument("--protocol", required=True, help="Protocol id, e.g. depression-standard.")
    p.add_argument("--weight", required=True, help="Body weight with its unit: 82kg or 180lb.")
    p.add_argument("--height", help="Height with its unit (175cm, 69in), for BMI and ideal/adjusted weight.")
    p.add_argument("--sex", choices=["male", "female"], help="For the Devine ideal body weight.")
    p.add_argument(
        "--dose",
        help="Dose (0.5mg/kg, 40mg) or, for rate protocols, rate (0.35mg/kg/h); default: the protocol's.",
    )
    p.add_argument("--duration", help="Infusion duration (40min, 2h); default: the protocol's.")
    p.add_argument("--vial", help="Vial strength, e.g. 50mg/mL; default: the protocol's.")
    p.add_argument("--bag", help="Bag (diluent) volume, e.g. 100mL; default: the protocol's.")
    p.add_argument("--override-reason", help="A prescriber's reason for going beyond a soft limit.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run)
