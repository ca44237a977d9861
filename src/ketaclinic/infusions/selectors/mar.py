"""The medication administration record of a session or a patient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from ketaclinic.accounts.models import User
from ketaclinic.audit.services import audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion.medications import INFUSED_DRUG
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, MedicationAdministration, RateEvent
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient


@dataclass(frozen=True)
class MarEntry:
    """One line of the medication administration record."""

    session: InfusionSession
    medication: str
    rxnorm: str
    dose: str
    unit: str
    route: str
    at: datetime
    ended_at: datetime | None
    given_by: str
    reason: str
    rates: list[dict[str, Any]]
    bag: str = ""  # for the ketamine infusion: the bag it came from (the order is the bag)


def _mar_entries(sessions: list[InfusionSession]) -> list[MarEntry]:
    out = []
    for s in sessions:
        rates = [
            {
                "kind": e.kind,
                "at": e.at,
                "rate_mg_per_h": e.rate_mg_per_h,
                "rate_ml_per_h": e.rate_ml_per_h,
                "reason": e.reason,
                "signer": str(e.signer) if e.signer else "",
            }
            for e in s.rate_events.all()
        ]
        order = next((o for o in s.orders.all() if o.signed_at is not None), None)
        for m in s.administrations.all():
            infusion = m.medication == INFUSED_DRUG and m.ended_at is not None
            out.append(
                MarEntry(
                    session=s,
                    medication=m.medication,
                    rxnorm=m.rxnorm,
                    dose=f"{m.dose.normalize():f}",
                    unit=m.unit,
                    route=m.route,
                    at=m.at,
                    ended_at=m.ended_at,
                    given_by=str(m.created_by),
                    reason=m.reason,
                    rates=rates if infusion else [],
                    bag=bag_summary(order) if infusion and order is not None else "",
                )
            )
    return out


def bag_summary(order: InfusionOrder) -> str:
    """The bag of a signed order, in words: what was drawn into what, and the volume the pump gives."""
    if (
        order.vtbi_ml is None
        or order.vial_mg_per_ml is None
        or order.drug_volume_ml is None
        or order.bag_ml is None
    ):
        return ""
    return (
        f"Bag: {order.dose_mg:.1f} mg ({order.drug_volume_ml:.2f} mL of {order.vial_mg_per_ml:g} mg/mL) in "
        f"{order.bag_ml:g} mL; volume to be infused {order.vtbi_ml:.1f} mL"
    )


def _mar_queryset() -> QuerySet[InfusionSession]:
    return InfusionSession.objects.select_related("patient", "location").prefetch_related(
        Prefetch("administrations", queryset=MedicationAdministration.objects.select_related("created_by")),
        Prefetch("rate_events", queryset=RateEvent.objects.select_related("signer").order_by("at", "id")),
        "orders",
    )


def mar_for_session(*, user: User, session: InfusionSession) -> list[MarEntry]:
    patient_for(user, session.patient, Permission.MAR_VIEW)
    audit_read(session.patient, "medication administration record")
    return _mar_entries(list(_mar_queryset().filter(pk=session.pk)))


def mar_for_patient(*, user: User, patient: Patient) -> list[MarEntry]:
    patient_for(user, patient, Permission.MAR_VIEW)
    audit_read(patient, "medication administration record")
    return _mar_entries(list(_mar_queryset().filter(patient=patient).order_by("scheduled_start")))
