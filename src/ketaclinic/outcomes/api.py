"""Outcomes API: questionnaire responses, corrections, trajectories, safety flags, boosters, the dashboard."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Location
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.input_rules import TEXT_MAX
from ketaclinic.outcomes import selectors, services
from ketaclinic.outcomes.models import BoosterProposal, QuestionnaireResponse, SafetyFlag
from ketaclinic.patients.selectors import patient_get

router = Router(tags=["outcomes"])


class ResponseIn(Schema):
    instrument: str = Field(min_length=1, max_length=40, examples=["phq9"])
    answers: list[int | None] = Field(
        max_length=100, description="One answer per item in the instrument's order; null = unanswered."
    )
    authored_at: datetime | None = None
    timepoint: str = Field("ad_hoc", pattern="^(baseline|pre_infusion|follow_up|post_series|monthly|ad_hoc)$")
    infusion_number: int | None = Field(None, ge=1, le=99)


class CorrectionIn(Schema):
    answers: list[int | None] = Field(max_length=100)
    reason: str = Field(min_length=1, max_length=300)


class ResponseOut(Schema):
    id: UUID = Field(alias="external_id")
    patient: UUID = Field(alias="patient.external_id")
    instrument: str
    instrument_version: int
    answers: dict[str, int | None]
    total: float | None
    severity: str
    flags: list[str]
    prorated: bool
    loinc_panel: str
    loinc_result: str
    authored_at: datetime
    source: str
    timepoint: str
    infusion_number: int | None
    replaces: UUID | None = Field(None, alias="replaces.external_id")
    replace_reason: str


class FlagOut(Schema):
    id: UUID = Field(alias="external_id")
    patient: UUID = Field(alias="patient.external_id")
    response: UUID = Field(alias="response.external_id")
    reason: str
    summary: str
    raised_at: datetime
    status: str
    assessment: str
    plan: str
    assessed_at: datetime | None


class AssessIn(Schema):
    assessment: str = Field(min_length=1, max_length=TEXT_MAX)
    plan: str = Field(min_length=1, max_length=TEXT_MAX)


class BoosterDecisionIn(Schema):
    decision: str = Field(pattern="^(accept|decline)$")
    reason: str = Field("", max_length=TEXT_MAX)


class BoosterOut(Schema):
    id: UUID = Field(alias="external_id")
    patient: UUID = Field(alias="patient.external_id")
    instrument: str
    reason: str
    status: str
    decision_reason: str
    planned_infusion: UUID | None = Field(None, alias="planned_infusion.external_id")


class PointOut(Schema):
    authored_at: datetime
    total: float
    infusions_before: int


class TrajectoryInfusionOut(Schema):
    at: datetime
    number: int


class TrajectoryOut(Schema):
    instrument: str
    status: str
    responder: bool | None
    remission: bool | None
    relapsed: bool
    percent_change: float | None
    response_line: float | None
    remission_line: float | None
    points: list[PointOut]
    infusions: list[TrajectoryInfusionOut]


class DashboardQuery(Schema):
    start: date
    end: date
    location: str = Field("", max_length=40)
    indication: str = Field("", max_length=30)


@router.get("/patients/{external_id}/responses", response=list[ResponseOut])
def response_list(request: AuthedRequest, external_id: UUID) -> list[QuestionnaireResponse]:
    patient = patient_get(
        user=request.user, external_id=str(external_id), permission=Permission.CLINICAL_VIEW
    )
    return selectors.responses_for_patient(user=request.user, patient=patient)


@router.post(
    "/patients/{external_id}/responses",
    response={201: ResponseOut},
    summary="Record answers; the core scores them; a risk answer raises an urgent safety flag",
)
def response_record(
    request: AuthedRequest, external_id: UUID, payload: ResponseIn
) -> Status[QuestionnaireResponse]:
    require(request.user, Permission.QUESTIONNAIRE_RECORD)
    patient = patient_get(
        user=request.user, external_id=str(external_id), permission=Permission.QUESTIONNAIRE_RECORD
    )
    return Status(201, services.response_record(user=request.user, patient=patient, **payload.dict()))


@router.post(
    "/responses/{external_id}/correct",
    response={201: ResponseOut},
    summary="Correct a response: a new response replaces it, with a reason (the old one stays)",
)
def response_correct(
    request: AuthedRequest, external_id: UUID, payload: CorrectionIn
) -> Status[QuestionnaireResponse]:
    require(request.user, Permission.QUESTIONNAIRE_RECORD)
    response = selectors.response_get(
        user=request.user, external_id=str(external_id), permission=Permission.QUESTIONNAIRE_RECORD
    )
    return Status(201, services.response_correct(user=request.user, response=response, **payload.dict()))


@router.get("/patients/{external_id}/trajectory/{instrument}", response=TrajectoryOut)
def trajectory_get(request: AuthedRequest, external_id: UUID, instrument: str) -> dict[str, Any]:
    patient = patient_get(
        user=request.user, external_id=str(external_id), permission=Permission.CLINICAL_VIEW
    )
    t = selectors.trajectory_get(user=request.user, patient=patient, instrument=instrument)
    s = t.status
    return {
        "instrument": t.instrument,
        "status": s.words,
        "responder": s.responder,
        "remission": s.remission,
        "relapsed": s.relapsed,
        "percent_change": s.percent_change,
        "response_line": s.response_line,
        "remission_line": s.remission_line,
        "points": [{"authored_at": w, "total": v, "infusions_before": n} for w, v, n in t.points],
        "infusions": [{"at": w, "number": n} for w, n in t.infusions],
    }


@router.get("/flags", response=list[FlagOut], summary="Open (urgent) safety flags at your locations")
def safety_flag_list(request: AuthedRequest) -> list[SafetyFlag]:
    return selectors.safety_flags_open_for(user=request.user)


@router.post(
    "/flags/{external_id}/assess",
    response=FlagOut,
    summary="Close a flag with the clinician's assessment AND a plan (refused without both)",
)
def safety_flag_assess(request: AuthedRequest, external_id: UUID, payload: AssessIn) -> SafetyFlag:
    require(request.user, Permission.SAFETY_ASSESS)
    flag = selectors.safety_flag_get(
        user=request.user, external_id=str(external_id), permission=Permission.SAFETY_ASSESS
    )
    return services.safety_flag_assess(user=request.user, flag=flag, **payload.dict())


@router.post("/boosters/{external_id}/decide", response=BoosterOut)
def booster_decide(request: AuthedRequest, external_id: UUID, payload: BoosterDecisionIn) -> BoosterProposal:
    require(request.user, Permission.BOOSTER_DECIDE)
    proposal = selectors.booster_get(user=request.user, external_id=str(external_id))
    return services.booster_decide(user=request.user, proposal=proposal, **payload.dict())


@router.get(
    "/dashboard", summary="Clinic outcomes for a period, location and indication (aggregates, 95% CIs)"
)
def outcomes_dashboard(request: AuthedRequest, filters: Query[DashboardQuery]) -> dict[str, Any]:
    require(request.user, Permission.OUTCOMES_VIEW)
    location = Location.objects.get(code=filters.location) if filters.location else None
    return selectors.outcomes_dashboard(
        user=request.user,
        filters=selectors.DashboardFilters(
            start=filters.start, end=filters.end, location=location, indication=filters.indication
        ),
    ).as_dict()
