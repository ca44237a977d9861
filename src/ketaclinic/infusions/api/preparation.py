"""The infusion API before the start: scheduling, the day board, a patient's sessions and MAR, a session as
the live page shows it, check-in and cancel, the checklist, the order and the independent check of the bag."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from ninja import Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Chair, Location
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import selectors, services
from ketaclinic.infusions.api._common import _mar, _session, router
from ketaclinic.infusions.models import ChecklistItemResponse, InfusionOrder, InfusionSession, VialCheck
from ketaclinic.infusions.schemas import (
    AtIn,
    BoardOut,
    ChecklistIn,
    ChecklistItemOut,
    DetailOut,
    MarOut,
    OrderIn,
    OrderOut,
    OrderSignIn,
    OverrideIn,
    ScheduleIn,
    SessionCancelIn,
    SessionOut,
    VersionIn,
    VialCheckIn,
    VialCheckOut,
)
from ketaclinic.patients.selectors import patient_get
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocols_current

LOCATION_UNKNOWN = "Location {value!r} is unknown: use a location code such as 'downtown'."
PROTOCOL_UNKNOWN = "Protocol {value!r} has no active version."


@router.post(
    "/patients/{external_id}/sessions",
    response={201: SessionOut},
    summary="Schedule a session for a patient (from a planned infusion or directly)",
)
def session_schedule(
    request: AuthedRequest, external_id: UUID, payload: ScheduleIn
) -> Status[InfusionSession]:
    require(request.user, Permission.SCHEDULE_MANAGE)
    patient = patient_get(
        user=request.user, external_id=str(external_id), permission=Permission.SCHEDULE_MANAGE
    )
    planned = (
        PlannedInfusion.objects.get(external_id=payload.planned_infusion)
        if payload.planned_infusion
        else None
    )
    pv: ProtocolVersion | None = None
    if payload.protocol_id:
        pv = next((p for p in protocols_current() if p.protocol_id == payload.protocol_id), None)
        if pv is None:
            raise ValidationError(
                PROTOCOL_UNKNOWN.format(value=payload.protocol_id),
                field="protocol_id",
                value=payload.protocol_id,
            )
    location = None
    if payload.location:
        location = Location.objects.filter(code=payload.location).first()
        if location is None:
            raise ValidationError(
                LOCATION_UNKNOWN.format(value=payload.location), field="location", value=payload.location
            )
    chair = Chair.objects.get(external_id=payload.chair) if payload.chair else None
    return Status(
        201,
        services.session_schedule(
            user=request.user,
            patient=patient,
            scheduled_start=payload.scheduled_start,
            location=location,
            chair=chair,
            at_home=payload.at_home,
            planned_infusion=planned,
            protocol_version=pv,
            added_reason=payload.added_reason,
        ),
    )


@router.get("/board", response=BoardOut, summary="The day board of a location (every chair and home visit)")
def day_board(request: AuthedRequest, location: str, day: date | None = None) -> dict[str, Any]:
    require(request.user, Permission.BOARD_VIEW)
    loc = Location.objects.filter(code=location).first()
    if loc is None:
        raise ValidationError(LOCATION_UNKNOWN.format(value=location), field="location", value=location)
    board = selectors.day_board(user=request.user, location=loc, day=day)
    # whose flag it is: only for those who assess flags (not the front desk, whose screen the public sees)
    assesses = request.user.can(Permission.SAFETY_ASSESS)
    return {
        "location": loc.code,
        "day": board.day,
        "chairs": [
            {
                "chair": c.chair.name if c.chair else None,
                "rows": [
                    {
                        "session": r.session,
                        "open_alerts": r.open_alerts,
                        "overdue": r.overdue,
                        "vitals_due": r.vitals_due,
                        "delivered_mg": r.delivery.delivered_mg,
                    }
                    for r in c.rows
                ],
                "slots": [
                    {
                        "planned_infusion": s.planned.external_id,
                        "patient": s.patient.external_id,
                        "patient_name": s.patient.display_name,
                        "scheduled_start": s.planned.scheduled_start,
                        "at_home": s.planned.at_home,
                        "kind": s.planned.kind,
                        "number": s.number,
                        "flagged": s.flagged and assesses,
                    }
                    for s in c.slots
                ],
            }
            for c in board.chairs
        ],
        "flags": [
            {
                "flag": f.external_id,
                "patient": f.patient.external_id if assesses else None,
                "patient_name": f.patient.display_name if assesses else None,
                "summary": f.summary,
                "raised_at": f.raised_at,
            }
            for f in board.flags
        ],
    }


@router.post(
    "/planned/{external_id}/check-in",
    response={201: SessionOut},
    summary="Check a patient in for today's planned infusion (opens the session from the slot)",
)
def planned_check_in(request: AuthedRequest, external_id: UUID) -> Status[InfusionSession]:
    require(request.user, Permission.SCHEDULE_MANAGE)
    planned = PlannedInfusion.objects.get(external_id=external_id)
    return Status(201, services.session_check_in_planned(user=request.user, planned_infusion=planned))


@router.get("/patients/{external_id}/sessions", response=list[SessionOut])
def patient_sessions(request: AuthedRequest, external_id: UUID) -> list[InfusionSession]:
    patient = patient_get(user=request.user, external_id=str(external_id), permission=Permission.SESSION_VIEW)
    return list(selectors.sessions_for_patient(user=request.user, patient=patient))


@router.get(
    "/patients/{external_id}/mar",
    response=list[MarOut],
    summary="Medication administration record of a patient",
)
def patient_mar(request: AuthedRequest, external_id: UUID) -> list[dict[str, Any]]:
    patient = patient_get(user=request.user, external_id=str(external_id), permission=Permission.MAR_VIEW)
    return [_mar(e) for e in selectors.mar_for_patient(user=request.user, patient=patient)]


@router.get("/{external_id}", response=DetailOut, summary="A session as the live page shows it")
def session_detail(request: AuthedRequest, external_id: UUID) -> dict[str, Any]:
    session = _session(request, external_id, Permission.SESSION_VIEW)
    d = selectors.session_detail(user=request.user, session=session)
    return {
        "session": session,
        "actions": [
            {"action": op, "allowed": x.allowed, "reason": x.reason}
            for op, x in selectors.session_actions(request.user, session).items()
        ],
        "order": d.order,
        "checklist": [] if d.checklist is None else list(d.checklist.items),
        "checklist_passed": None if d.checklist is None else d.checklist.passed,
        "delivery": d.delivery,
        "vitals_due": d.vitals_due,
        "open_alerts": d.open_alerts,
        "rate_events": d.rate_events,
        "observation_remaining_min": d.observation_remaining_min,
        "discharge_assessment": d.discharge_assessment,
        "interacting_medications": d.interacting_medications,
    }


@router.post("/{external_id}/check-in", response=SessionOut)
def session_check_in(request: AuthedRequest, external_id: UUID, payload: AtIn) -> InfusionSession:
    session = _session(request, external_id, Permission.SCHEDULE_MANAGE)
    return services.session_check_in(
        user=request.user, session=session, expected_version=payload.expected_version, at=payload.at
    )


@router.post("/{external_id}/cancel", response=SessionOut)
def session_cancel(request: AuthedRequest, external_id: UUID, payload: SessionCancelIn) -> InfusionSession:
    session = _session(request, external_id, Permission.SCHEDULE_MANAGE)
    return services.session_cancel(
        user=request.user, session=session, expected_version=payload.expected_version, reason=payload.reason
    )


@router.post("/{external_id}/checklist", response=ChecklistItemOut, summary="Answer one checklist item")
def checklist_record(
    request: AuthedRequest, external_id: UUID, payload: ChecklistIn
) -> ChecklistItemResponse:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return services.checklist_record(
        user=request.user,
        session=session,
        expected_version=payload.expected_version,
        code=payload.code,
        answer=payload.answer,
        value=payload.value,
        unit=payload.unit,
        confirm_weight=payload.confirm_weight,
    )


@router.post(
    "/{external_id}/checklist/override", response=ChecklistItemOut, summary="A prescriber overrides an item"
)
def checklist_override(
    request: AuthedRequest, external_id: UUID, payload: OverrideIn
) -> ChecklistItemResponse:
    session = _session(request, external_id, Permission.ORDER_SIGN)
    return services.checklist_override(
        user=request.user,
        session=session,
        expected_version=payload.expected_version,
        code=payload.code,
        reason=payload.reason,
    )


@router.post(
    "/{external_id}/checklist/complete", response=SessionOut, summary="Pre-checks done (the checklist passed)"
)
def checklist_complete(request: AuthedRequest, external_id: UUID, payload: VersionIn) -> InfusionSession:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return services.checklist_complete(
        user=request.user, session=session, expected_version=payload.expected_version
    )


@router.post(
    "/{external_id}/orders", response={201: OrderOut}, summary="Calculate the order from today's weight"
)
def order_create(request: AuthedRequest, external_id: UUID, payload: OrderIn) -> Status[InfusionOrder]:
    session = _session(request, external_id, Permission.SESSION_RUN)
    data = payload.dict()
    return Status(201, services.order_create(user=request.user, session=session, **data))


@router.post(
    "/{external_id}/orders/{order_id}/sign", response=OrderOut, summary="A prescriber signs the order"
)
def order_sign(
    request: AuthedRequest, external_id: UUID, order_id: UUID, payload: OrderSignIn
) -> InfusionOrder:
    session = _session(request, external_id, Permission.ORDER_SIGN)
    order = InfusionOrder.objects.get(external_id=order_id, session=session)
    return services.order_sign(
        user=request.user,
        order=order,
        expected_version=payload.expected_version,
        override_reason=payload.override_reason,
    )


@router.post(
    "/{external_id}/vial-check",
    response={201: VialCheckOut},
    summary="A second clinician's independent check of the bag (vial strength, volume drawn); a mismatch "
    "is recorded and blocks the start",
)
def vial_check_record(request: AuthedRequest, external_id: UUID, payload: VialCheckIn) -> Status[VialCheck]:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return Status(
        201,
        services.vial_check_record(
            user=request.user,
            session=session,
            expected_version=payload.expected_version,
            vial_mg_per_ml=payload.vial_mg_per_ml,
            drawn_ml=payload.drawn_ml,
        ),
    )
