"""The infusion session API's request and response shapes (OpenAPI schemas): what each operation takes
and answers, with the allowed ranges of each clinical number. The operations are ``infusions.api``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from ninja import Field, Schema

from ketaclinic.base.api_types import DecimalIn
from ketaclinic.core.input_rules import ADDENDUM_MAX, NUMBER_MAX_MAGNITUDE, REASON_MAX, TEXT_MAX
from ketaclinic.infusions import selectors
from ketaclinic.infusions.models import (
    RateEvent,
    SessionNote,
)


class SessionOut(Schema):
    id: UUID = Field(alias="external_id")
    patient: UUID = Field(alias="patient.external_id")
    patient_name: str = Field(alias="patient.display_name")
    location: str = Field(alias="location.code")
    chair: str | None = Field(None, alias="chair.name")
    at_home: bool
    protocol_id: str = Field(alias="protocol_version.protocol_id")
    protocol_version: int = Field(alias="protocol_version.version")
    scheduled_start: datetime
    state: str
    version: int
    checked_in_at: datetime | None
    prechecks_done_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    discharged_at: datetime | None
    weight_kg: Decimal | None
    phq9_total: int | None


class VersionIn(Schema):
    expected_version: int = Field(
        ge=1, description="The session's version as last read (optimistic concurrency)."
    )


class ScheduleIn(Schema):
    scheduled_start: datetime
    protocol_id: str | None = Field(
        None, max_length=60, description="Current version of this protocol; or give planned_infusion."
    )
    planned_infusion: UUID | None = None
    location: str | None = Field(None, max_length=40, description="Location code; default the patient's.")
    chair: UUID | None = None
    at_home: bool = False
    added_reason: str = Field(
        "",
        max_length=300,
        description="Why a session outside the plan's dated infusions is "
        "added to the patient's active plan (required then).",
    )


class AtIn(VersionIn):
    at: datetime | None = Field(None, description="When it happened (default now); never in the future.")
    reason: str = Field("", max_length=REASON_MAX)
    backdate_reason: str = Field(
        "",
        max_length=REASON_MAX,
        description="Why the time is entered late (needed beyond the protocol's few minutes).",
    )


class VialCheckIn(VersionIn):
    vial_mg_per_ml: float = Field(
        allow_inf_nan=False,
        ge=-NUMBER_MAX_MAGNITUDE,
        le=NUMBER_MAX_MAGNITUDE,
        description="Vial strength read off the label (mg/mL), typed without seeing the order.",
    )
    drawn_ml: float = Field(
        allow_inf_nan=False,
        ge=-NUMBER_MAX_MAGNITUDE,
        le=NUMBER_MAX_MAGNITUDE,
        description="Volume drawn from the vial (mL), read off the syringe.",
    )


class VialCheckOut(Schema):
    checked_by: str
    checked_at: datetime
    typed_vial_mg_per_ml: float
    typed_drawn_ml: float
    match: bool
    problems: list[str]

    @staticmethod
    def resolve_checked_by(obj: Any) -> str:
        return str(obj.checked_by)


class SessionCancelIn(VersionIn):
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class ChecklistIn(VersionIn):
    code: str = Field(min_length=1, max_length=41)
    answer: str = Field("", max_length=20, description="yes/no; for pregnancy: not_pregnant/pregnant/unknown")
    value: DecimalIn | None = Field(None, description="Number items (PHQ-9 total) and today's weight")
    unit: str | None = Field(
        None, max_length=10, description="kg or lb, for the weight (required: never assumed)"
    )
    confirm_weight: bool = Field(
        False,
        description="The nurse confirms a weight far from the last one or an "
        "implausible BMI (refused without it, showing both weights)",
    )


class OverrideIn(VersionIn):
    code: str = Field(min_length=1, max_length=41)
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class ChecklistItemOut(Schema):
    code: str
    answer: str
    detail: str
    value: Decimal | None
    override_reason: str
    recorded_at: datetime


class ChecklistResultItemOut(Schema):
    code: str
    question: str
    status: str
    detail: str


class OrderIn(VersionIn):
    dose: str | None = Field(
        None,
        max_length=40,
        description="e.g. 0.6mg/kg or 40mg (rate protocols: 0.35mg/kg/h); default the protocol's",
    )
    duration_min: float | None = Field(
        None, allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE
    )
    vial_mg_per_ml: float | None = Field(
        None, allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE
    )
    bag_ml: float | None = Field(None, allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE)


class OrderSignIn(VersionIn):
    override_reason: str = Field("", max_length=REASON_MAX)


class OrderOut(Schema):
    id: UUID = Field(alias="external_id")
    weight_kg: Decimal
    dosing_weight_kg: float
    dosing_weight_basis: str
    dose_mg: float
    dose_mg_per_kg: float
    route: str
    duration_min: float | None
    rate_mg_per_h: float | None
    rate_ml_per_h: float | None
    concentration_mg_per_ml: float | None
    vial_mg_per_ml: float | None
    drug_volume_ml: float | None
    bag_ml: float | None
    vtbi_ml: float | None
    calculation: dict[str, Any]
    prediction: dict[str, Any] | None
    warnings: list[str]
    override_reason: str
    signed_at: datetime | None
    superseded: bool


class RateIn(VersionIn):
    rate_mg_per_h: float = Field(allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE)
    reason: str = Field(min_length=1, max_length=REASON_MAX)
    signer: UUID | None = Field(
        None,
        description="A nurse recording a verbal order: the prescriber who gave it. "
        "A prescriber orders as themselves (leave empty).",
    )
    read_back: bool = Field(
        False, description="A verbal order: the nurse read it back and the prescriber confirmed."
    )
    override_reason: str = Field(
        "", max_length=REASON_MAX, description="The prescriber's reason to go beyond a soft limit."
    )
    at: datetime | None = None
    backdate_reason: str = Field("", max_length=REASON_MAX)


class RateEventOut(Schema):
    number: int = Field(description="Position among the session's pump events (1-based, time order).")
    kind: str
    at: datetime
    rate_mg_per_h: float
    rate_ml_per_h: float
    reason: str
    signer: str | None = None
    verbal_order: bool = False
    read_back: bool = False
    override_reason: str = ""
    cosigned_by: str | None = None
    cosigned_at: datetime | None = None
    limit_check: dict[str, Any] = Field(default_factory=dict)

    @staticmethod
    def resolve_number(obj: RateEvent) -> int:
        return selectors.rate_event_number(obj)

    @staticmethod
    def resolve_signer(obj: RateEvent) -> str | None:
        return None if obj.signer_id is None else str(obj.signer)

    @staticmethod
    def resolve_cosigned_by(obj: RateEvent) -> str | None:
        return None if obj.cosigned_by_id is None else str(obj.cosigned_by)


class VitalsIn(Schema):
    client_id: str = Field(
        min_length=1, max_length=64, description="Client-generated id; a retry never duplicates."
    )
    taken_at: datetime | None = None
    systolic_mmhg: float | None = Field(
        None, allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE
    )
    diastolic_mmhg: float | None = Field(
        None, allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE
    )
    heart_rate_bpm: float | None = Field(
        None, allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE
    )
    spo2_percent: float | None = Field(
        None, allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE
    )
    respiratory_rate_per_min: float | None = Field(
        None, allow_inf_nan=False, ge=-NUMBER_MAX_MAGNITUDE, le=NUMBER_MAX_MAGNITUDE
    )
    sedation: str = Field(
        "",
        max_length=10,
        description="none, mild, moderate, severe (a plain observation, not a validated scale)",
    )
    source: str = Field("manual", max_length=20)
    backdate_reason: str = Field(
        "",
        max_length=REASON_MAX,
        description="Why the time is entered late (needed beyond the protocol's few minutes).",
    )


class AlertOut(Schema):
    id: UUID = Field(alias="external_id")
    rule: str
    level: str = Field(description="hold, or critical (the highest alert: stop and call for help)")
    vital: str
    value: float
    limit: float
    suggested_action: str
    message: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledgement_note: str


class VitalsOut(Schema):
    id: UUID = Field(alias="external_id")
    client_id: str
    phase: str
    taken_at: datetime
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    heart_rate_bpm: int | None
    spo2_percent: int | None
    respiratory_rate_per_min: int | None
    sedation: str
    alerts: list[AlertOut]


class AckIn(Schema):
    note: str = Field("", max_length=TEXT_MAX)


class AdverseIn(VersionIn):
    kind: str = Field(min_length=1, max_length=30)
    severity: str = Field(min_length=1, max_length=10)
    at: datetime | None = None
    notes: str = Field("", max_length=TEXT_MAX)


class AdverseOut(Schema):
    id: UUID = Field(alias="external_id")
    kind: str
    severity: str
    at: datetime
    notes: str
    needs_review: bool
    reviewed_at: datetime | None
    review_note: str


class AdverseReviewIn(Schema):
    note: str = Field(min_length=1, max_length=TEXT_MAX)


class AdministrationIn(VersionIn):
    medication: str = Field(min_length=1, max_length=40)
    dose: DecimalIn
    unit: str = Field(min_length=1, max_length=10)
    route: str = Field(min_length=1, max_length=12)
    at: datetime | None = None
    reason: str = Field("", max_length=200)
    override_reason: str = Field(
        "",
        max_length=REASON_MAX,
        description="A prescriber's reason to go beyond the formulary's soft maximum.",
    )
    adverse_event: UUID | None = None


class AdministrationOut(Schema):
    id: UUID = Field(alias="external_id")
    medication: str
    rxnorm: str
    dose: Decimal
    unit: str
    route: str
    at: datetime
    ended_at: datetime | None
    reason: str


class DischargeIn(VersionIn):
    activity_mental_status: int = Field(ge=0, le=2)
    pain: int = Field(ge=0, le=2)
    nausea_vomiting: int = Field(ge=0, le=2)
    intake_output: int = Field(ge=0, le=2)
    escort_present: bool
    instructions_given: bool
    escort_name: str = Field("", max_length=120)


class DischargeOut(Schema):
    id: UUID = Field(alias="external_id")
    assessed_at: datetime
    scores: dict[str, int]
    total: int
    deviation_percent: float | None
    escort_present: bool
    instructions_given: bool
    fit: bool
    reasons: list[str]


class NoteOut(Schema):
    id: UUID = Field(alias="external_id")
    text: str
    signed_at: datetime | None
    addenda: list[dict[str, Any]]

    @staticmethod
    def resolve_addenda(obj: SessionNote) -> list[dict[str, Any]]:
        return [
            {"text": a.text, "reason": a.reason, "by": str(a.created_by), "at": a.created_at.isoformat()}
            for a in obj.addenda.select_related("created_by")
        ]


class AddendumIn(Schema):
    text: str = Field(min_length=1, max_length=ADDENDUM_MAX)
    reason: str = Field(min_length=1, max_length=300)


class DeliveryOut(Schema):
    delivered_mg: float
    delivered_ml: float
    infusing_min: float
    paused_min: float
    elapsed_min: float
    current_rate_mg_per_h: float
    current_rate_ml_per_h: float
    vtbi_ml: float | None = Field(
        None, description="The bag's volume to be infused (mL), from the signed order."
    )
    vtbi_reached_at: datetime | None = Field(None, description="When the delivered volume reached the VTBI.")
    ordered_duration_min: float | None = None
    ordered_end_passed: bool = False
    stop_pump: bool = Field(False, description="The bag is empty or the ordered time has run: stop the pump.")


class DueOut(Schema):
    due_at: datetime
    overdue: bool
    overdue_by_min: float


class ActionOut(Schema):
    action: str = Field(description="check_in, checklist_answer, start, rate_change, discharge, note_sign...")
    allowed: bool = Field(description="Whether you may do it now.")
    reason: str = Field(description="Why not, in words for people (empty when allowed).")


class DetailOut(Schema):
    session: SessionOut
    actions: list[ActionOut] = Field(
        description="What you may do on this session now, and why not the rest (a start or a discharge that "
        "the state allows is refused when done if its guards, such as a signed order, are not met)."
    )
    order: OrderOut | None
    checklist: list[ChecklistResultItemOut]
    checklist_passed: bool | None
    delivery: DeliveryOut
    vitals_due: DueOut | None
    open_alerts: list[AlertOut]
    rate_events: list[RateEventOut]
    observation_remaining_min: float | None
    discharge_assessment: DischargeOut | None
    interacting_medications: list[str]


class BoardRowOut(Schema):
    session: SessionOut
    open_alerts: int
    overdue: bool
    vitals_due: DueOut | None
    delivered_mg: float


class BoardSlotOut(Schema):
    planned_infusion: UUID
    patient: UUID
    patient_name: str
    scheduled_start: datetime
    at_home: bool
    kind: str
    number: str = Field(description='"3 of 6" for the series, "booster" for a booster.')
    flagged: bool


class BoardChairOut(Schema):
    chair: str | None
    rows: list[BoardRowOut]
    slots: list[BoardSlotOut] = Field(description="Planned infusions of the day not checked in yet.")


class BoardFlagOut(Schema):
    flag: UUID
    patient: UUID | None = Field(description="Only for staff who may see clinical data.")
    patient_name: str | None
    summary: str
    raised_at: datetime


class BoardOut(Schema):
    location: str
    day: date
    chairs: list[BoardChairOut]
    flags: list[BoardFlagOut] = Field(
        description="Open urgent safety flags (PHQ-9 item 9, C-SSRS) to assess."
    )


class MarOut(Schema):
    session: UUID
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


#: A point of a curve, [x, y]: an array of two numbers (a tuple's prefixItems is not understood by every
#: OpenAPI 3.0/3.1 tool; this says the same).
Point = Annotated[list[float], Field(min_length=2, max_length=2)]


class VitalsChartOut(Schema):
    started_at: datetime | None
    vitals: list[dict[str, Any]]
    predicted: list[Point] = Field(description="[minutes since start, ng/mL] pairs of the ordered dose.")
    predicted_note: str
    predicted_given: list[Point] = Field(description="[minutes since start, ng/mL] pairs of what was given.")
