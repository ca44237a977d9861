"""The infusion API from the start: the pump and titration, vital signs and alerts, adverse events and
medications given, discharge, the note and the session's MAR."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import Http404
from ninja import Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import User
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import selectors, services
from ketaclinic.infusions.api._common import _mar, _session, router
from ketaclinic.infusions.models import (
    AdverseEvent,
    DischargeAssessment,
    InfusionSession,
    MedicationAdministration,
    NoteAddendum,
    RateEvent,
    SessionNote,
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
    DischargeIn,
    DischargeOut,
    MarOut,
    NoteOut,
    RateEventOut,
    RateIn,
    SessionOut,
    VersionIn,
    VitalsChartOut,
    VitalsIn,
    VitalsOut,
)

SIGNER_UNKNOWN = "Signer {value} is not a staff member."


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
