"""Reads of a session's order and pump: the current and the signed order, the predicted concentration, the
pump events and what the pump delivered (never more than the bag), the independent check of the bag."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from ketaclinic.core.body import order_weight_problem
from ketaclinic.core.infusion.delivery import Delivery, RateEventKind, RatePoint, delivery
from ketaclinic.core.pharmacology.dosing import DoseCalculation
from ketaclinic.core.pharmacology.models import pk_model_get
from ketaclinic.core.pharmacology.regimen import Infusion, Regimen
from ketaclinic.core.pharmacology.simulation import simulate
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, RateEvent, VialCheck


def order_prediction(
    model_name: str | None, calc: DoseCalculation, *, step_min: float = 5.0
) -> dict[str, Any] | None:
    """Predicted plasma concentration for the pump program (the protocol's PK model): summary and curve."""
    if model_name is None or calc.pump is None or calc.duration_min is None:
        return None
    model = pk_model_get(model_name)
    regimen = Regimen.of(
        [Infusion(calc.pump.run_time_min, rate_mg_per_min=calc.pump.delivered_rate_mg_per_h / 60.0)]
    )
    until = max(180.0, calc.pump.run_time_min + 90.0)
    sim = simulate(model, calc.dosing_weight.actual_kg, regimen, until_min=until, step_min=step_min)
    s = sim.summary
    return {
        "model": model.name,
        "unit": "ng/mL",
        "cmax_ng_per_ml": s.cmax_ng_per_ml,
        "tmax_min": s.tmax_min,
        "plasma_at_end_of_infusion_ng_per_ml": s.plasma_at_end_of_infusion_ng_per_ml,
        "note": f"model prediction ({model.label}, {model.parameter_source}) at actual body weight",
        "curve": [
            [round(float(t), 2), round(float(c), 2)]
            for t, c in zip(sim.t_min, sim.plasma_ng_per_ml, strict=True)
        ],
    }


def current_order(session: InfusionSession) -> InfusionOrder | None:
    return (
        session.orders.filter(superseded=False, voided_at__isnull=True).order_by("-created_at", "-id").first()
    )


def signed_order(session: InfusionSession) -> InfusionOrder | None:
    """The signed order in force: not void, and calculated for today's weight (checked again by the core)."""
    order = session.orders.filter(signed_at__isnull=False, voided_at__isnull=True).first()
    if order is None or order_weight_problem(order.weight_kg, session.weight_kg) is not None:
        return None
    return order


def rate_points(session: InfusionSession) -> list[RatePoint]:
    return [
        RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h)
        for e in session.rate_events.all()
    ]


def bag_delivery(points: list[RatePoint], now: datetime, order: InfusionOrder | None) -> Delivery:
    """What the pump delivered by ``now``: never more than the signed order's bag (VTBI); says when the bag
    ran empty and whether the ordered duration has run. The one place the bag caps a delivery."""
    return delivery(
        points,
        now,
        vtbi_ml=order.vtbi_ml if order is not None and order.vtbi_ml else None,
        ordered_duration_min=order.duration_min if order is not None else None,
    )


def session_delivery(session: InfusionSession, now: datetime | None = None) -> Delivery:
    return bag_delivery(rate_points(session), now or timezone.now(), signed_order(session))


def latest_vial_check(session: InfusionSession, order: InfusionOrder) -> VialCheck | None:
    return order.vial_checks.select_related("checked_by").order_by("-checked_at", "-id").first()


def cosign_due(event: RateEvent, hours: float) -> datetime:
    return event.recorded_at + timedelta(hours=hours)
