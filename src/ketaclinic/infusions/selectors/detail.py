"""One session for the live page and the API: the session itself, its detail, its pump events by number.

Each checks its permission (and the patient's location) and keeps its query count bounded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.services import audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion.checklist import ChecklistResult
from ketaclinic.core.infusion.delivery import Delivery, RateEventKind, RatePoint
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.core.infusion.vitals import VitalsDue, reading_complete, vitals_due
from ketaclinic.core.protocols.monitoring import MonitoringSection
from ketaclinic.infusions.models import (
    AdverseEvent,
    DischargeAssessment,
    InfusionOrder,
    InfusionSession,
    MedicationAdministration,
    RateEvent,
    VialCheck,
    VitalAlert,
    VitalSigns,
)
from ketaclinic.infusions.selectors.checklist import checklist_result, interacting_medications, reading_of
from ketaclinic.infusions.selectors.orders import bag_delivery, current_order, signed_order
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient


def session_get(
    *, user: User, external_id: str, permission: Permission = Permission.SESSION_VIEW
) -> InfusionSession:
    """One session by its public id, if the user may see it (404 when unknown, 403 outside their
    locations)."""
    require(user, permission)
    session = InfusionSession.objects.select_related(
        "patient", "patient__location", "protocol_version", "location", "chair", "updated_by"
    ).get(external_id=external_id)
    patient_for(user, session.patient, permission)
    return session


def sessions_for_patient(*, user: User, patient: Patient) -> QuerySet[InfusionSession]:
    patient_for(user, patient, Permission.SESSION_VIEW)
    audit_read(patient, "infusion sessions")
    return (
        InfusionSession.objects.filter(patient=patient)
        .select_related("patient", "location", "chair", "protocol_version")
        .order_by("-scheduled_start")
    )


def last_complete_taken_at(vitals: list[VitalSigns], monitoring: MonitoringSection | None) -> datetime | None:
    """When the last COMPLETE set of vital signs was taken (a partial reading does not reset the clock)."""
    if monitoring is None:
        return max((v.taken_at for v in vitals), default=None)
    return max((v.taken_at for v in vitals if reading_complete(reading_of(v), monitoring)), default=None)


def _due(session: InfusionSession, last_taken_at: datetime | None, now: datetime) -> VitalsDue | None:
    """When the next reading is due while infusing or recovering (None in other states)."""
    doc = session.protocol_version.parsed
    if doc.monitoring is None:
        return None
    m = doc.monitoring
    state = session.state_enum
    if state.infusing and session.started_at is not None:
        return vitals_due(
            since=session.started_at,
            last_reading_at=last_taken_at,
            now=now,
            interval_min=m.vitals_interval_min,
            grace_min=m.overdue_grace_min,
        )
    if state is SessionState.RECOVERING and session.ended_at is not None:
        return vitals_due(
            since=session.ended_at,
            last_reading_at=last_taken_at,
            now=now,
            interval_min=m.recovery_interval_min,
            grace_min=m.overdue_grace_min,
        )
    return None


@dataclass(frozen=True)
class SessionDetail:
    session: InfusionSession
    order: InfusionOrder | None
    signed_order: InfusionOrder | None
    checklist: ChecklistResult | None
    delivery: Delivery
    vitals_due: VitalsDue | None
    open_alerts: list[VitalAlert]
    vitals: list[VitalSigns]
    rate_events: list[RateEvent]
    observation_remaining_min: float | None
    discharge_assessment: DischargeAssessment | None
    now: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    interacting_medications: list[str] = field(default_factory=list)  # for the "medications reviewed" item
    vial_check: VialCheck | None = None  # the latest independent check of the signed order's bag


def session_detail(*, user: User, session: InfusionSession, now: datetime | None = None) -> SessionDetail:
    """Everything the live page shows: delivered dose, elapsed time, vitals due/overdue, open alerts."""
    patient_for(user, session.patient, Permission.SESSION_VIEW)
    audit_read(session.patient, "infusion session")
    now = now or timezone.now()
    vitals = list(session.vitals.all())
    events = list(session.rate_events.select_related("recorded_by", "signer", "cosigned_by"))
    points = [RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h) for e in events]
    doc = session.protocol_version.parsed
    last_taken = last_complete_taken_at(vitals, doc.monitoring)
    remaining = None
    if (
        session.ended_at is not None
        and doc.discharge is not None
        and session.state == SessionState.RECOVERING
    ):
        remaining = max(doc.discharge.observation_min - (now - session.ended_at).total_seconds() / 60.0, 0.0)
    closed = session.state_enum in (SessionState.SCHEDULED, SessionState.CANCELLED)
    signed = signed_order(session)
    return SessionDetail(
        session=session,
        order=current_order(session),
        signed_order=signed,
        checklist=None if closed or doc.checklist is None else checklist_result(session),
        delivery=bag_delivery(points, now, signed),
        vitals_due=_due(session, last_taken, now),
        open_alerts=[a for a in session.alerts.all() if a.open],
        vitals=vitals,
        rate_events=events,
        observation_remaining_min=remaining,
        discharge_assessment=session.discharge_assessments.order_by("-assessed_at", "-id").first(),
        now=now,
        interacting_medications=interacting_medications(session.patient),
        vial_check=None
        if signed is None
        else signed.vial_checks.select_related("checked_by").order_by("-checked_at", "-id").first(),
    )


def rate_event_get(*, session: InfusionSession, number: int) -> RateEvent | None:
    """The session's ``number``-th pump event (1-based, in time order), or None."""
    if number < 1:
        return None
    return (
        session.rate_events.order_by("at", "id")
        .select_related("signer", "cosigned_by")[number - 1 : number]
        .first()
    )


def rate_event_number(event: RateEvent) -> int:
    """The 1-based position of ``event`` among its session's pump events (time order)."""
    earlier = RateEvent.objects.filter(session_id=event.session_id).filter(
        models.Q(at__lt=event.at) | models.Q(at=event.at, id__lt=event.pk)
    )
    return earlier.count() + 1


@dataclass(frozen=True)
class LogEntry:
    """One line of the session's "what happened" list: ``kind`` is rate, alert, adverse or given; ``index``
    is a rate event's position in the session's rate events (its co-signature form names it)."""

    at: datetime
    kind: str
    item: Any
    index: int = 0


_LOG_ORDER = {"rate": 0, "alert": 1, "adverse": 2, "given": 3}


def session_log(
    rate_events: list[RateEvent],
    alerts: list[VitalAlert],
    adverse_events: list[AdverseEvent],
    administrations: list[MedicationAdministration],
) -> list[LogEntry]:
    """What happened in the session, in the order it happened (an acknowledged alert at the time it was
    raised); entries at the same moment keep the order rate change, alert, adverse event, medication."""
    entries = [LogEntry(e.at, "rate", e, i) for i, e in enumerate(rate_events, 1)]
    entries += [LogEntry(a.raised_at, "alert", a) for a in alerts if a.acknowledged_at]
    entries += [LogEntry(e.at, "adverse", e) for e in adverse_events]
    entries += [LogEntry(m.at, "given", m) for m in administrations]
    return sorted(entries, key=lambda e: (e.at, _LOG_ORDER[e.kind]))
