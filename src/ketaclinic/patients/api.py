"""Patient registry API: thin operations over the same services and selectors as the pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from ninja import Field, Router, Schema, Status
from ninja.params.functions import Query  # ninja.Query itself, typed as a call (not mypy's alias)

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Location
from ketaclinic.base.api_types import DecimalIn
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import QUERY_MAX
from ketaclinic.patients import selectors, services
from ketaclinic.patients.models import Patient

router = Router(tags=["patients"])

PHONE = "A US number with its area code, or an international number starting with +; stored as E.164."
LOCATION_UNKNOWN = "Location {value!r} is unknown: use a location code such as 'downtown'."


class QuantityIn(Schema):
    value: DecimalIn = Field(
        description="Weight 20–350 kg (44.1–771.6 lb); height 100–250 cm (39.4–98.4 in)."
    )
    unit: str = Field(
        max_length=5, description="kg or lb for weight; cm or in for height. Required: never guessed."
    )


class PatientIn(Schema):
    given_name: str = Field(min_length=1, max_length=80)
    family_name: str = Field(min_length=1, max_length=80)
    birth_date: date
    sex_at_birth: str = Field(pattern="^(female|male|other|unknown)$")
    location: str = Field(min_length=1, max_length=40, description="Location code, e.g. 'downtown'.")
    preferred_name: str = Field("", max_length=80)
    phone: str = Field("", max_length=30, description=PHONE)
    email: str = Field("", max_length=254)
    address: str = Field("", max_length=200)
    city: str = Field("", max_length=80)
    state: str = Field("", max_length=2)
    postal_code: str = Field("", max_length=10)
    emergency_contact_name: str = Field("", max_length=120)
    emergency_contact_phone: str = Field("", max_length=30, description=PHONE)
    emergency_contact_relation: str = Field("", max_length=60)
    escort_name: str = Field("", max_length=120)
    escort_phone: str = Field("", max_length=30, description=PHONE)
    weight: QuantityIn | None = None
    height: QuantityIn | None = None


class PatientOut(Schema):
    id: UUID = Field(alias="external_id")
    mrn: str
    given_name: str
    family_name: str
    preferred_name: str
    birth_date: date
    sex_at_birth: str
    location: str = Field(alias="location.code")
    phone: str
    email: str


class MeasurementIn(Schema):
    kind: str = Field(pattern="^(weight|height)$")
    value: DecimalIn = Field(
        description="Weight 20–350 kg (44.1–771.6 lb); height 100–250 cm (39.4–98.4 in)."
    )
    unit: str = Field(min_length=1, max_length=5, description="kg or lb for weight; cm or in for height.")


class MeasurementOut(Schema):
    kind: str
    value_si: Decimal
    entered_value: Decimal
    entered_unit: str
    measured_at: str


class AllergyIn(Schema):
    substance: str = Field(min_length=1, max_length=120)
    reaction: str = Field("", max_length=200)
    severity: str = Field("unknown", pattern="^(mild|moderate|severe|unknown)$")


class MedicationIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    dose: str = Field("", max_length=80)


class MedicationOut(Schema):
    id: UUID = Field(alias="external_id")
    name: str
    dose: str
    interaction_classes: list[str]


class PatientChartOut(Schema):
    patient: PatientOut
    weight_kg: Decimal | None
    height_cm: Decimal | None
    bmi: float | None
    allergies: list[AllergyIn] | None
    medications: list[MedicationOut] | None


class DuplicateOut(Schema):
    """A possible match; at another location only ``visible: false`` and the id for break-glass."""

    mrn: str | None
    name: str
    birth_date: date | None
    location: str
    why: str
    visible: bool
    patient_id: str | None = Field(None, description="Only for a match at another location: for break-glass.")


@router.get("", response=list[PatientOut], summary="Search patients by name, birth date or MRN")
def patient_search(request: AuthedRequest, q: str = Query("", max_length=QUERY_MAX)) -> list[Patient]:
    return selectors.patient_search(user=request.user, query=q)


@router.post("/duplicates", response=list[DuplicateOut], summary="Possible duplicates of a new patient")
def patient_duplicates(request: AuthedRequest, payload: PatientIn) -> list[selectors.PossibleDuplicate]:
    return selectors.duplicates_find(
        user=request.user,
        given_name=payload.given_name,
        family_name=payload.family_name,
        birth_date=payload.birth_date,
        phone=payload.phone,
        email=payload.email,
    )


@router.post("", response={201: PatientOut}, summary="Register a patient")
def patient_register(request: AuthedRequest, payload: PatientIn) -> Status[Patient]:
    data = payload.dict()
    code = data.pop("location")
    location = Location.objects.filter(code=code).first()
    if location is None:  # a typo is bad input (400), not a missing record (404, audited as denied)
        raise ValidationError(LOCATION_UNKNOWN.format(value=code), field="location", value=code)
    weight, height = data.pop("weight"), data.pop("height")
    patient = services.patient_register(
        user=request.user,
        location=location,
        weight=(weight["value"], weight["unit"]) if weight else None,
        height=(height["value"], height["unit"]) if height else None,
        **data,
    )
    return Status(201, patient)


@router.get("/{external_id}", response=PatientChartOut, summary="A patient's chart")
def patient_chart(request: AuthedRequest, external_id: UUID) -> dict[str, object]:
    patient = selectors.patient_get(user=request.user, external_id=str(external_id))
    chart = selectors.patient_chart_get(user=request.user, patient=patient)
    return {
        "patient": patient,
        "weight_kg": chart.latest_weight.value_si if chart.latest_weight else None,
        "height_cm": chart.latest_height.value_si if chart.latest_height else None,
        "bmi": chart.bmi,
        "allergies": chart.allergies,
        "medications": chart.medications,
    }


@router.post(
    "/{external_id}/measurements", response={201: MeasurementOut}, summary="Record a weight or height"
)
def measurement_record(
    request: AuthedRequest, external_id: UUID, payload: MeasurementIn
) -> Status[dict[str, object]]:
    patient = selectors.patient_get(user=request.user, external_id=str(external_id))
    m = services.measurement_record(
        user=request.user, patient=patient, kind=payload.kind, value=payload.value, unit=payload.unit
    )
    return Status(
        201,
        {
            "kind": m.kind,
            "value_si": m.value_si,
            "entered_value": m.entered_value,
            "entered_unit": m.entered_unit,
            "measured_at": m.measured_at.isoformat(),
        },
    )


@router.post("/{external_id}/allergies", response={201: AllergyIn}, summary="Record an allergy")
def allergy_record(request: AuthedRequest, external_id: UUID, payload: AllergyIn) -> Status[object]:
    patient = selectors.patient_get(user=request.user, external_id=str(external_id))
    return Status(201, services.allergy_record(user=request.user, patient=patient, **payload.dict()))


@router.post(
    "/{external_id}/medications", response={201: MedicationOut}, summary="Record a current medication"
)
def medication_record(request: AuthedRequest, external_id: UUID, payload: MedicationIn) -> Status[object]:
    patient = selectors.patient_get(user=request.user, external_id=str(external_id))
    return Status(201, services.medication_record(user=request.user, patient=patient, **payload.dict()))
