"""Treatment plan API: draft (series proposed), read, sign, revise; move, cancel and add booster slots."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from ninja import Field, Router, Schema, Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Chair, Location
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.input_rules import TEXT_MAX
from ketaclinic.patients.selectors import patient_get
from ketaclinic.plans import selectors, services
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.screening.models import Screening

router = Router(tags=["plans"])


class PlaceIn(Schema):
    location: str = Field(
        min_length=1,
        max_length=40,
        description="Location code (a clinic, or a mobile location for home infusions).",
    )
    chair: UUID | None = Field(None, description="Chair id at a clinic location.")
    at_home: bool = False


class PlanIn(PlaceIn):
    screening: UUID = Field(description="The signed eligible screening the plan rests on.")
    start: date
    weekdays: list[int] = Field(min_length=1, description="0 = Monday ... 6 = Sunday")
    at: time = Field(description="Local start time at the location.")
    closed: list[date] = Field(default_factory=list, description="Dates the clinic is closed.")
    notes: str = Field("", max_length=TEXT_MAX)


class ReviseIn(Schema):
    series_count: int | None = Field(None, ge=1, le=30)
    max_per_week: int | None = Field(None, ge=1, le=3)
    min_spacing_hours: int | None = Field(None, ge=0, le=672)
    evaluation_after: int | None = Field(None, ge=1, le=30)
    booster_policy: str | None = Field(None, max_length=TEXT_MAX)
    booster_min_days: int | None = Field(None, ge=1, le=365)
    home_infusions: bool | None = None
    notes: str | None = Field(None, max_length=TEXT_MAX)


class MoveIn(Schema):
    start: datetime = Field(description="New start, with a time-zone offset.")
    location: str | None = Field(None, max_length=40)
    chair: UUID | None = None
    at_home: bool | None = None


class PlannedInfusionCancelIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class BoosterSlotIn(PlaceIn):
    start: datetime


class PlannedInfusionOut(Schema):
    id: UUID = Field(alias="external_id")
    sequence: int
    kind: str
    scheduled_start: datetime
    duration_minutes: int
    location: str = Field(alias="location.code")
    chair: str | None = None
    at_home: bool
    status: str
    cancel_reason: str

    @staticmethod
    def resolve_chair(obj: PlannedInfusion) -> str | None:
        return obj.chair.name if obj.chair else None


class PlanOut(Schema):
    id: UUID = Field(alias="external_id")
    patient: UUID = Field(alias="patient.external_id")
    indication: str
    protocol_id: str = Field(alias="protocol_version.protocol_id")
    protocol_version: int = Field(alias="protocol_version.version")
    dose_strategy: dict[str, Any]
    series_count: int
    max_per_week: int
    min_spacing_hours: int
    evaluation_after: int
    booster_policy: str
    booster_min_days: int
    home_infusions: bool
    notes: str
    status: str
    supersedes: UUID | None = None
    signed_at: datetime | None
    infusions: list[PlannedInfusionOut]

    @staticmethod
    def resolve_supersedes(obj: TreatmentPlan) -> UUID | None:
        return obj.supersedes.external_id if obj.supersedes is not None else None

    @staticmethod
    def resolve_infusions(obj: TreatmentPlan) -> list[PlannedInfusion]:
        return list(obj.infusions.all())


def _place(payload: PlaceIn | MoveIn) -> dict[str, Any]:
    place: dict[str, Any] = {}
    if payload.location:
        place["location"] = Location.objects.get(code=payload.location)
    if payload.chair:
        place["chair"] = Chair.objects.get(external_id=payload.chair)
    if payload.at_home is not None:
        place["at_home"] = payload.at_home
    return place


def _plan(request: AuthedRequest, external_id: UUID) -> TreatmentPlan:
    return selectors.plan_get(user=request.user, external_id=str(external_id))


@router.get("/patients/{external_id}/plans", response=list[PlanOut])
def plan_list(request: AuthedRequest, external_id: UUID) -> list[TreatmentPlan]:
    patient = patient_get(user=request.user, external_id=str(external_id))
    return selectors.plans_for_patient(user=request.user, patient=patient)


@router.post(
    "/patients/{external_id}/plans",
    response={201: PlanOut},
    summary="Draft a plan from the current protocol; the series is proposed as dated slots",
)
def plan_draft(request: AuthedRequest, external_id: UUID, payload: PlanIn) -> Status[TreatmentPlan]:
    require(request.user, Permission.PLAN_WRITE)
    patient = patient_get(user=request.user, external_id=str(external_id))
    screening = Screening.objects.get(external_id=payload.screening, patient=patient)
    plan = services.plan_draft(
        user=request.user,
        patient=patient,
        screening=screening,
        start=payload.start,
        weekdays=payload.weekdays,
        at=payload.at,
        closed=payload.closed,
        notes=payload.notes,
        **_place(payload),
    )
    return Status(201, selectors.plan_get(user=request.user, external_id=str(plan.external_id)))


@router.get("/plans/{external_id}", response=PlanOut)
def plan_get(request: AuthedRequest, external_id: UUID) -> TreatmentPlan:
    return _plan(request, external_id)


@router.post("/plans/{external_id}/sign", response=PlanOut, summary="A prescriber signs the plan")
def plan_sign(request: AuthedRequest, external_id: UUID) -> TreatmentPlan:
    require(request.user, Permission.PLAN_SIGN)
    services.plan_sign(user=request.user, plan=_plan(request, external_id))
    return _plan(request, external_id)


@router.post(
    "/plans/{external_id}/revise",
    response={201: PlanOut},
    summary="Revise a signed plan: a new draft version that supersedes it once signed",
)
def plan_revise(request: AuthedRequest, external_id: UUID, payload: ReviseIn) -> Status[TreatmentPlan]:
    require(request.user, Permission.PLAN_WRITE)
    draft = services.plan_revise(user=request.user, plan=_plan(request, external_id), **payload.dict())
    return Status(201, _plan(request, draft.external_id))


@router.post("/infusions/{external_id}/move", response=PlannedInfusionOut, summary="Move a planned infusion")
def infusion_move(request: AuthedRequest, external_id: UUID, payload: MoveIn) -> PlannedInfusion:
    require(request.user, Permission.SCHEDULE_MANAGE)
    infusion = selectors.infusion_get(
        user=request.user, external_id=str(external_id), permission=Permission.SCHEDULE_MANAGE
    )
    return services.infusion_move(
        user=request.user, infusion=infusion, start=payload.start, **_place(payload)
    )


@router.post(
    "/infusions/{external_id}/cancel",
    response=PlannedInfusionOut,
    summary="Cancel a planned infusion, with a reason",
)
def infusion_cancel(
    request: AuthedRequest, external_id: UUID, payload: PlannedInfusionCancelIn
) -> PlannedInfusion:
    require(request.user, Permission.SCHEDULE_MANAGE)
    infusion = selectors.infusion_get(
        user=request.user, external_id=str(external_id), permission=Permission.SCHEDULE_MANAGE
    )
    return services.infusion_cancel(user=request.user, infusion=infusion, reason=payload.reason)


@router.post(
    "/plans/{external_id}/boosters",
    response={201: PlannedInfusionOut},
    summary="Add a booster after the series",
)
def booster_add(request: AuthedRequest, external_id: UUID, payload: BoosterSlotIn) -> Status[PlannedInfusion]:
    require(request.user, Permission.SCHEDULE_MANAGE)
    booster = services.booster_add(
        user=request.user, plan=_plan(request, external_id), start=payload.start, **_place(payload)
    )
    return Status(201, booster)
