"""Vital signs over time and the predicted plasma concentration, for the session's chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.services import audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion.delivery import RateEventKind, RatePoint, delivered_regimen
from ketaclinic.core.pharmacology.models import pk_model_get
from ketaclinic.core.pharmacology.simulation import simulate
from ketaclinic.infusions.models import InfusionOrder, InfusionSession
from ketaclinic.infusions.selectors.orders import current_order, signed_order
from ketaclinic.patients.access import patient_for


@dataclass(frozen=True)
class ChartSeries:
    """Vitals over time and the predicted plasma concentration, both in minutes from the infusion start."""

    started_at: datetime | None
    vitals: list[dict[str, Any]]
    predicted: list[tuple[float, float]]  # the signed order's pump program, as planned
    predicted_note: str
    predicted_given: list[tuple[float, float]] = field(default_factory=list)  # from the rate history so far


def vitals_chart(*, user: User, session: InfusionSession, now: datetime | None = None) -> ChartSeries:
    patient_for(user, session.patient, Permission.SESSION_VIEW)
    audit_read(session.patient, "vital signs chart")
    origin = session.started_at or session.checked_in_at or session.scheduled_start
    vitals = [
        {
            "minute": round((v.taken_at - origin).total_seconds() / 60.0, 1),
            "taken_at": v.taken_at,
            "phase": v.phase,
            "systolic_mmhg": v.systolic_mmhg,
            "diastolic_mmhg": v.diastolic_mmhg,
            "heart_rate_bpm": v.heart_rate_bpm,
            "spo2_percent": v.spo2_percent,
            "respiratory_rate_per_min": v.respiratory_rate_per_min,
            "sedation": v.sedation,
        }
        for v in session.vitals.all()
    ]
    order = signed_order(session) or current_order(session)
    prediction = (order.prediction or {}) if order is not None else {}
    curve = [(float(t), float(c)) for t, c in prediction.get("curve", [])]
    return ChartSeries(
        started_at=session.started_at,
        vitals=vitals,
        predicted=curve,
        predicted_note=str(prediction.get("note", "")),
        predicted_given=_given_curve(session, order, now or timezone.now()),
    )


def _given_curve(
    session: InfusionSession, order: InfusionOrder | None, now: datetime
) -> list[tuple[float, float]]:
    """Predicted plasma concentration (ng/mL) for what the pump actually delivered, to an hour past now/the
    stop."""
    dosing = session.protocol_version.parsed.dosing
    if order is None or dosing is None or dosing.pk_model is None:
        return []
    events = list(session.rate_events.all())
    regimen = delivered_regimen(
        [RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h) for e in events],
        now,
        vtbi_ml=order.vtbi_ml or None,
    )
    if regimen is None:
        return []
    sim = simulate(
        pk_model_get(dosing.pk_model),
        float(order.weight_kg),
        regimen,
        until_min=regimen.end_min + 60.0,
        step_min=2.0,
    )
    return [
        (round(float(t), 2), round(float(c), 2)) for t, c in zip(sim.t_min, sim.plasma_ng_per_ml, strict=True)
    ]


def chart_version(session: InfusionSession) -> tuple[Any, ...]:
    """Everything the session's chart is drawn from, as a key: the session's state and times, and the count,
    last id and last change of its readings, pump events and orders (an order is signed by an update). One
    query; the chart itself is only drawn when this changes (or the minute does)."""
    row = (
        InfusionSession.objects.filter(pk=session.pk)
        .annotate(
            vitals_n=Count("vitals", distinct=True),
            vitals_last=Max("vitals__id"),
            events_n=Count("rate_events", distinct=True),
            events_last=Max("rate_events__id"),
            orders_n=Count("orders", distinct=True),
            orders_signed=Max("orders__signed_at"),
            orders_last=Max("orders__id"),
        )
        .values_list(
            "version",
            "state",
            "started_at",
            "ended_at",
            "vitals_n",
            "vitals_last",
            "events_n",
            "events_last",
            "orders_n",
            "orders_signed",
            "orders_last",
        )
        .get()
    )
    return (session.pk, *row)
