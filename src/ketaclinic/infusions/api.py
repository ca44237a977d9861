"""Infusion session API: thin operations over the services and selectors (same permissions as the pages).

Writes that change a session take ``expected_version`` (the ``version`` last read) and answer 400 with
the "changed meanwhile" message when someone else changed it. ``POST .../vitals`` is idempotent by
``client_id``: the first post answers 201, a retry 200 with the same reading.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.http import Http404
from ninja import Router, Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import selectors, services
from ketaclinic.infusions.models import (
    AdverseEvent,
    ChecklistItemResponse,
    DischargeAssessment,
    InfusionOrder,
    InfusionSession,
    MedicationAdministration,
    NoteAddendum,
    RateEvent,
    SessionNote,
    VialCheck,
    VitalAlert,
)
from ketaclinic.infusions.schemas import (
    AckIn,
    AddendumIn,
    AdministrationIn,
    AdministrationOut,
    AdverseIn,
    AdverseOut,
    AdverseReviewIn,
    AlertOut,
    AtIn,
    BoardOut,
    ChecklistIn,
    ChecklistItemOut,
    DetailOut,
    DischargeIn,
    DischargeOut,
    MarOut,
    NoteOut,
    OrderIn,
    OrderOut,
    OrderSignIn,
    OverrideIn,
    RateEventOut,
    RateIn,
    ScheduleIn,
    SessionCancelIn,
    SessionOut,
    VersionIn,
    VialCheckIn,
    VialCheckOut,
    VitalsChartOut,
    VitalsIn,
    VitalsOut,
)
from ketaclinic.patients.selectors import patient_get
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocols_current

router = Router(tags=["infusion sessions"])

LOCATION_UNKNOWN = "Location {value!r} is unknown: use a location code such as 'downtown'."
PROTOCOL_UNKNOWN = "Protocol {value!r} has no active version."
SIGNER_UNKNOWN = "Signer {value} is not a staff member."


def _session(request: AuthedRequest, external_id: UUID, permission: Permission) -> InfusionSession:
    return selectors.session_get(user=request.user, external_id=str(external_id), permission=permission)


def _vitals_out(posted: services.VitalsPosted) -> dict[str, Any]:
    v = posted.reading
    return {
        **{
            f: getattr(v, f)
            for f in (
                "external_id",
                "client_id",
                "phase",
                "taken_at",
                "systolic_mmhg",
                "diastolic_mmhg",
                "heart_rate_bpm",
                "spo2_percent",
                "respiratory_rate_per_min",
                "sedation",
            )
        },
        "alerts": list(posted.alerts),
    }


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
    clinical = request.user.can(Permission.CLINICAL_VIEW)
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
                        "flagged": s.flagged,
                    }
                    for s in c.slots
                ],
            }
            for c in board.chairs
        ],
        "flags": [
            {
                "flag": f.external_id,
                "patient": f.patient.external_id if clinical else None,
                "patient_name": f.patient.display_name if clinical else None,
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


def _mar(e: selectors.MarEntry) -> dict[str, Any]:
    return {
        "session": e.session.external_id,
        "medication": e.medication,
        "rxnorm": e.rxnorm,
        "dose": e.dose,
        "unit": e.unit,
        "route": e.route,
        "at": e.at,
        "ended_at": e.ended_at,
        "given_by": e.given_by,
        "reason": e.reason,
        "rates": [{**r, "at": r["at"].isoformat()} for r in e.rates],
    }


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


@router.post("/{external_id}/start", response=RateEventOut)
def infusion_start(request: AuthedRequest, external_id: UUID, payload: AtIn) -> RateEvent:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return services.infusion_start(
        user=request.user,
        session=session,
        expected_version=payload.expected_version,
        at=payload.at,
        backdate_reason=payload.backdate_reason,
    )


@router.post("/{external_id}/pause", response=RateEventOut)
def infusion_pause(request: AuthedRequest, external_id: UUID, payload: AtIn) -> RateEvent:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return services.infusion_pause(
        user=request.user,
        session=session,
        expected_version=payload.expected_version,
        reason=payload.reason,
        at=payload.at,
        backdate_reason=payload.backdate_reason,
    )


@router.post("/{external_id}/resume", response=RateEventOut)
def infusion_resume(request: AuthedRequest, external_id: UUID, payload: AtIn) -> RateEvent:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return services.infusion_resume(
        user=request.user,
        session=session,
        expected_version=payload.expected_version,
        reason=payload.reason,
        at=payload.at,
        backdate_reason=payload.backdate_reason,
    )


@router.post(
    "/{external_id}/rate", response=RateEventOut, summary="Titration: a new rate with reason and signer"
)
def infusion_rate_change(request: AuthedRequest, external_id: UUID, payload: RateIn) -> RateEvent:
    session = _session(request, external_id, Permission.SESSION_RUN)
    signer = None if payload.signer is None else User.objects.filter(external_id=payload.signer).first()
    if payload.signer is not None and signer is None:
        raise ValidationError(
            SIGNER_UNKNOWN.format(value=payload.signer), field="signer", value=str(payload.signer)
        )
    return services.infusion_rate_change(
        user=request.user,
        session=session,
        expected_version=payload.expected_version,
        rate_mg_per_h=payload.rate_mg_per_h,
        reason=payload.reason,
        signer=signer,
        read_back=payload.read_back,
        override_reason=payload.override_reason,
        at=payload.at,
        backdate_reason=payload.backdate_reason,
    )


@router.post(
    "/{external_id}/rate-events/{number}/cosign",
    response=RateEventOut,
    summary="A prescriber co-signs a verbal titration order (the session's pump event number)",
)
def titration_cosign(request: AuthedRequest, external_id: UUID, number: int) -> RateEvent:
    session = _session(request, external_id, Permission.ORDER_SIGN)
    event = selectors.rate_event_get(session=session, number=number)
    if event is None:
        raise ValidationError(services.NO_SUCH_RATE_EVENT.format(value=number), field="number", value=number)
    return services.titration_cosign(user=request.user, event=event)


@router.post("/{external_id}/stop", response=RateEventOut, summary="Stop the infusion; recovery begins")
def infusion_stop(request: AuthedRequest, external_id: UUID, payload: AtIn) -> RateEvent:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return services.infusion_stop(
        user=request.user,
        session=session,
        expected_version=payload.expected_version,
        reason=payload.reason,
        at=payload.at,
        backdate_reason=payload.backdate_reason,
    )


@router.post(
    "/{external_id}/vitals",
    response={200: VitalsOut, 201: VitalsOut},
    summary="Record vital signs (idempotent by client_id: 201 first, 200 for a retry)",
)
def vitals_record(request: AuthedRequest, external_id: UUID, payload: VitalsIn) -> Status[dict[str, Any]]:
    session = _session(request, external_id, Permission.SESSION_RUN)
    posted = services.vitals_record(user=request.user, session=session, **payload.dict())
    return Status(201 if posted.created else 200, _vitals_out(posted))


@router.get(
    "/{external_id}/vitals",
    response=VitalsChartOut,
    summary="Vitals series and predicted plasma concentration",
)
def vitals_chart(request: AuthedRequest, external_id: UUID) -> selectors.ChartSeries:
    session = _session(request, external_id, Permission.SESSION_VIEW)
    return selectors.vitals_chart(user=request.user, session=session)


@router.post("/{external_id}/alerts/{alert_id}/acknowledge", response=AlertOut)
def alert_acknowledge(
    request: AuthedRequest, external_id: UUID, alert_id: UUID, payload: AckIn
) -> VitalAlert:
    session = _session(request, external_id, Permission.SESSION_RUN)
    alert = VitalAlert.objects.get(external_id=alert_id, session=session)
    return services.alert_acknowledge(user=request.user, alert=alert, note=payload.note)


@router.post("/{external_id}/adverse-events", response={201: AdverseOut})
def adverse_event_record(
    request: AuthedRequest, external_id: UUID, payload: AdverseIn
) -> Status[AdverseEvent]:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return Status(201, services.adverse_event_record(user=request.user, session=session, **payload.dict()))


@router.post(
    "/{external_id}/adverse-events/{event_id}/review",
    response=AdverseOut,
    summary="A prescriber reviews a severe adverse event (discharge waits for it)",
)
def adverse_event_review(
    request: AuthedRequest, external_id: UUID, event_id: UUID, payload: AdverseReviewIn
) -> AdverseEvent:
    session = _session(request, external_id, Permission.ORDER_SIGN)
    event = AdverseEvent.objects.filter(external_id=event_id, session=session).first()
    if event is None:
        raise Http404("No such adverse event in this session.")
    return services.adverse_event_review(user=request.user, event=event, note=payload.note)


@router.post(
    "/{external_id}/administrations",
    response={201: AdministrationOut},
    summary="A rescue medication (or an intranasal dose) given",
)
def administration_record(
    request: AuthedRequest, external_id: UUID, payload: AdministrationIn
) -> Status[MedicationAdministration]:
    session = _session(request, external_id, Permission.SESSION_RUN)
    data = payload.dict()
    event_id = data.pop("adverse_event")
    event = AdverseEvent.objects.get(external_id=event_id, session=session) if event_id else None
    return Status(
        201, services.administration_record(user=request.user, session=session, adverse_event=event, **data)
    )


@router.post(
    "/{external_id}/discharge-assessments",
    response={201: DischargeOut},
    summary="PADSS and discharge criteria",
)
def discharge_assess(
    request: AuthedRequest, external_id: UUID, payload: DischargeIn
) -> Status[DischargeAssessment]:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return Status(201, services.discharge_assess(user=request.user, session=session, **payload.dict()))


@router.post("/{external_id}/discharge", response=SessionOut)
def session_discharge(request: AuthedRequest, external_id: UUID, payload: VersionIn) -> InfusionSession:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return services.session_discharge(
        user=request.user, session=session, expected_version=payload.expected_version
    )


@router.post(
    "/{external_id}/note", response=NoteOut, summary="Generate (or regenerate, while unsigned) the note"
)
def note_generate(request: AuthedRequest, external_id: UUID, payload: VersionIn) -> SessionNote:
    session = _session(request, external_id, Permission.SESSION_RUN)
    return services.note_generate(
        user=request.user, session=session, expected_version=payload.expected_version
    )


@router.post("/{external_id}/note/sign", response=NoteOut)
def note_sign(request: AuthedRequest, external_id: UUID, payload: VersionIn) -> SessionNote:
    session = _session(request, external_id, Permission.NOTE_SIGN)
    return services.note_sign(user=request.user, session=session, expected_version=payload.expected_version)


@router.post(
    "/{external_id}/note/addenda", response={201: NoteOut}, summary="Add an addendum to the signed note"
)
def note_addendum_add(request: AuthedRequest, external_id: UUID, payload: AddendumIn) -> Status[SessionNote]:
    session = _session(request, external_id, Permission.NOTE_SIGN)
    addendum: NoteAddendum = services.note_addendum_add(
        user=request.user, session=session, text=payload.text, reason=payload.reason
    )
    return Status(201, addendum.note)


@router.get(
    "/{external_id}/mar", response=list[MarOut], summary="Medication administration record of a session"
)
def session_mar(request: AuthedRequest, external_id: UUID) -> list[dict[str, Any]]:
    session = _session(request, external_id, Permission.MAR_VIEW)
    return [_mar(e) for e in selectors.mar_for_session(user=request.user, session=session)]
