"""Referral and screening API: record a referral, record a screening (decision computed), sign it."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Router, Schema, Status

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.input_rules import TEXT_MAX
from ketaclinic.patients.selectors import patient_get
from ketaclinic.screening import selectors, services
from ketaclinic.screening.models import Referral, Screening

router = Router(tags=["screening"])


class ReferralIn(Schema):
    indication: str = Field(min_length=1, max_length=30)
    referrer_name: str = Field(min_length=1, max_length=120)
    referrer_role: str = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=TEXT_MAX)
    received_on: date = Field(description="From 1900-01-01, not before the patient's birth date.")
    referrer_organisation: str = Field("", max_length=160)
    referrer_phone: str = Field(
        "",
        max_length=30,
        description="A US number with its area code, or one starting with +; stored as E.164.",
    )
    referrer_email: str = Field("", max_length=254)
    referrer_npi: str = Field("", max_length=10, description="10 digits with a valid check digit.")


class ReferralOut(Schema):
    id: UUID = Field(alias="external_id")
    indication: str
    referrer_name: str
    referrer_role: str
    reason: str
    received_on: date
    status: str


class TrialIn(Schema):
    kind: str = Field(pattern="^(antidepressant|pain_treatment)$")
    name: str = Field(min_length=1, max_length=120)
    dose: str = Field("", max_length=60)
    weeks: int = Field(ge=0, le=520)
    adequate_dose: bool = True


class ScreeningIn(Schema):
    indication: str = Field(min_length=1, max_length=30)
    referral: UUID | None = None
    substance_use: str = Field("none", pattern="^(none|past|active)$")
    substance_use_notes: str = Field("", max_length=TEXT_MAX)
    contraindications: dict[str, str] = Field(
        default_factory=dict, description="question code -> yes/no/unknown"
    )
    trials: list[TrialIn] = Field(default_factory=list)
    failed_pain_treatments_notes: str = Field("", max_length=TEXT_MAX)


class ReasonOut(Schema):
    code: str
    outcome: str
    message: str


class ScreeningOut(Schema):
    id: UUID = Field(alias="external_id")
    patient: UUID = Field(alias="patient.external_id")
    indication: str
    protocol_id: str = Field(alias="protocol_version.protocol_id")
    protocol_version: int = Field(alias="protocol_version.version")
    screening_date: date
    computed_outcome: str
    computed_reasons: list[ReasonOut]
    status: str
    signed_outcome: str
    signed_at: datetime | None
    signed_note: str
    diagnosis: str = Field(
        description='The ICD-10-CM code the prescriber recorded when signing ("" for none)'
    )


class ScreeningSignIn(Schema):
    outcome: str = Field(pattern="^(eligible|not_eligible)$")
    note: str = Field("", max_length=TEXT_MAX)
    diagnosis: str = Field(
        "",
        max_length=8,
        description=(
            "The ICD-10-CM diagnosis (a billable code of the screened indication, e.g. F33.2); checked "
            "against the CMS tabular and the indication, as on the screening page"
        ),
    )


@router.get("/patients/{external_id}/referrals", response=list[ReferralOut])
def referral_list(request: AuthedRequest, external_id: UUID) -> list[Referral]:
    patient = patient_get(user=request.user, external_id=str(external_id))
    return selectors.referrals_for_patient(user=request.user, patient=patient)


@router.post("/patients/{external_id}/referrals", response={201: ReferralOut})
def referral_record(request: AuthedRequest, external_id: UUID, payload: ReferralIn) -> Status[Referral]:
    patient = patient_get(user=request.user, external_id=str(external_id))
    return Status(201, services.referral_record(user=request.user, patient=patient, **payload.dict()))


@router.get("/patients/{external_id}/screenings", response=list[ScreeningOut])
def screening_list(request: AuthedRequest, external_id: UUID) -> list[Screening]:
    patient = patient_get(user=request.user, external_id=str(external_id))
    return selectors.screenings_for_patient(user=request.user, patient=patient)


@router.post(
    "/patients/{external_id}/screenings",
    response={201: ScreeningOut},
    summary="Record a screening; the eligibility decision is computed from the current protocol",
)
def screening_record(request: AuthedRequest, external_id: UUID, payload: ScreeningIn) -> Status[Screening]:
    patient = patient_get(user=request.user, external_id=str(external_id))
    data = payload.dict()
    data.pop("referral")
    referral = None
    if payload.referral:
        referral = Referral.objects.get(external_id=payload.referral, patient=patient)
    return Status(
        201, services.screening_record(user=request.user, patient=patient, referral=referral, **data)
    )


@router.get("/screenings/{external_id}", response=ScreeningOut)
def screening_get(request: AuthedRequest, external_id: UUID) -> Screening:
    return selectors.screening_get(user=request.user, external_id=str(external_id))


@router.post(
    "/screenings/{external_id}/sign", response=ScreeningOut, summary="A prescriber signs the final decision"
)
def screening_sign(request: AuthedRequest, external_id: UUID, payload: ScreeningSignIn) -> Screening:
    require(request.user, Permission.SCREENING_SIGN)  # refuse naming the action tried, before reading
    screening = selectors.screening_get(user=request.user, external_id=str(external_id))
    return services.screening_sign(
        user=request.user,
        screening=screening,
        outcome=payload.outcome,
        note=payload.note,
        diagnosis=payload.diagnosis,
    )
