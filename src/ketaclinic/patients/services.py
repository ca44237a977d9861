"""Every write to the patient registry: one function per action, transactional, audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.body import height_measure, weight_measure
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import phone_normalise
from ketaclinic.core.medications import interactions_for
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Allergy, BodyMeasurement, MedicationStatement, Patient

BIRTH_DATE_FUTURE = "Birth date {value} is in the future."
BIRTH_DATE_TOO_OLD = "Birth date {value} is more than 120 years ago."
LOCATION_NOT_YOURS = "You can register patients only at your own locations; {value} is not one of them."
REQUIRED = "{field} is required."
MEASURED_IN_FUTURE = "Measurement time {value} is in the future."

MRN_LOCK = 0x6B63_6D72_6E  # "kcmrn": the transaction-level advisory lock that hands out MRNs one at a time

PHONE_FIELDS = ("phone", "emergency_contact_phone", "escort_phone")
DEMOGRAPHIC_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "birth_date",
    "sex_at_birth",
    "gender_identity",
    "pronouns",
    "phone",
    "email",
    "address",
    "city",
    "state",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relation",
    "escort_name",
    "escort_phone",
    "part2_protected",
)


def _check_birth_date(value: date) -> None:
    today = timezone.localdate()
    if value > today:
        raise ValidationError(
            BIRTH_DATE_FUTURE.format(value=value.isoformat()), field="birth_date", value=value
        )
    if value.year < today.year - 120:
        raise ValidationError(
            BIRTH_DATE_TOO_OLD.format(value=value.isoformat()), field="birth_date", value=value
        )


def _next_mrn() -> str:
    """The number after the last patient's, one registration at a time: on PostgreSQL under an advisory lock
    held until the registration commits, and read after the lock is granted (so it sees the registration that
    held it). Locking the last patient's row instead let a registration that waited for it read that same row
    again (its snapshot predates the other's insert), and one arriving after the commit lock the new last row
    beside a waiting one: both took the same number and one was refused. SQLite serialises writers (IMMEDIATE
    transactions)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MRN_LOCK])
    last = Patient.objects.order_by("-id").values_list("mrn", flat=True).first()
    number = int(last[2:]) + 1 if last and last.startswith("KC") and last[2:].isdigit() else 1001
    return f"KC{number:06d}"


@transaction.atomic
def patient_register(
    *,
    user: User,
    location: Location,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex_at_birth: str,
    weight: tuple[Any, str | None] | None = None,
    height: tuple[Any, str | None] | None = None,
    **fields: Any,
) -> Patient:
    """Register a new patient at one of the user's locations, with an optional first weight/height."""
    require(user, Permission.PATIENT_REGISTER)
    if location.id not in user_location_ids(user):
        raise ValidationError(
            LOCATION_NOT_YOURS.format(value=location.name), field="location", value=location.code
        )
    for name, value in (("Given name", given_name), ("Family name", family_name)):
        if not (value or "").strip():
            raise ValidationError(
                REQUIRED.format(field=name), field=name.lower().replace(" ", "_"), value=value
            )
    _check_birth_date(birth_date)
    unknown = set(fields) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {sorted(unknown)}")
    # Validate measurements before writing anything: nothing is half-saved.
    measures = []
    if weight is not None:
        measures.append(("weight", weight_measure(*weight)))
    if height is not None:
        measures.append(("height", height_measure(*height)))
    patient = Patient(
        mrn=_next_mrn(),
        location=location,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        birth_date=birth_date,
        sex_at_birth=sex_at_birth,
        created_by=user,
        updated_by=user,
        **fields,
    )
    clean_or_refuse(patient)
    patient.save()
    now = timezone.now()
    for kind, m in measures:
        BodyMeasurement.objects.create(
            patient=patient,
            kind=kind,
            value_si=m.value_si,
            entered_value=m.entered_value,
            entered_unit=m.entered_unit,
            measured_at=now,
            recorded_by=user,
        )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        location_code=location.code,
        summary=f"Registered patient {patient.mrn}",
        detail={"mrn": patient.mrn},
    )
    return patient


@transaction.atomic
def patient_update(*, user: User, patient: Patient, **changes: Any) -> Patient:
    """Change demographics and contacts; the audit entry keeps the old and new values."""
    patient = patient_for(
        user, Patient.objects.select_for_update().get(pk=patient.pk), Permission.PATIENT_REGISTER
    )
    unknown = set(changes) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise TypeError(f"unknown patient fields: {sorted(unknown)}")
    if "birth_date" in changes:
        _check_birth_date(changes["birth_date"])
    for name in PHONE_FIELDS:  # the audit entry shows the number as stored (E.164)
        if changes.get(name):
            changes[name] = phone_normalise(changes[name], field=name)
    diff = {}
    for name, value in changes.items():
        old = getattr(patient, name)
        if old != value:
            diff[name] = {"from": str(old), "to": str(value)}
            setattr(patient, name, value)
    if not diff:
        return patient
    patient.updated_by = user
    clean_or_refuse(patient)
    patient.save()
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        patient=patient,
        location_code=patient.location.code,
        summary=f"Changed {', '.join(sorted(diff))}",
        detail={"changes": diff},
    )
    return patient


@transaction.atomic
def measurement_record(
    *,
    user: User,
    patient: Patient,
    kind: str,
    value: Any,
    unit: str | None,
    measured_at: datetime | None = None,
) -> BodyMeasurement:
    """Record a weight (kg/lb) or height (cm/in); the unit is required and the value stored in SI."""
    patient_for(user, patient, Permission.PATIENT_REGISTER)
    if kind not in ("weight", "height"):
        raise ValidationError(
            f"Measurement kind {kind!r} is unknown: allowed are weight, height.", field="kind", value=kind
        )
    m = (weight_measure if kind == "weight" else height_measure)(value, unit)
    when = measured_at or timezone.now()
    if when > timezone.now():
        raise ValidationError(
            MEASURED_IN_FUTURE.format(value=when.isoformat()), field="measured_at", value=when
        )
    row = BodyMeasurement.objects.create(
        patient=patient,
        kind=kind,
        value_si=m.value_si,
        entered_value=m.entered_value,
        entered_unit=m.entered_unit,
        measured_at=when,
        recorded_by=user,
    )
    si = "kg" if kind == "weight" else "cm"
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Recorded {kind} {m.entered_value} {m.entered_unit} ({m.value_si} {si})",
    )
    return row


@transaction.atomic
def allergy_record(
    *, user: User, patient: Patient, substance: str, reaction: str = "", severity: str = "unknown"
) -> Allergy:
    patient_for(user, patient, Permission.CLINICAL_RECORD)
    if not substance.strip():
        raise ValidationError(REQUIRED.format(field="Substance"), field="substance", value=substance)
    allergy = Allergy(
        patient=patient,
        substance=substance.strip(),
        reaction=reaction,
        severity=severity,
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(allergy)
    allergy.save()
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Recorded allergy {allergy.substance}",
    )
    return allergy


@transaction.atomic
def medication_record(*, user: User, patient: Patient, name: str, dose: str = "") -> MedicationStatement:
    """Record a current medication; interacting classes (benzodiazepines, lamotrigine, MAOIs, stimulants)
    are flagged by the core."""
    patient_for(user, patient, Permission.CLINICAL_RECORD)
    if not name.strip():
        raise ValidationError(REQUIRED.format(field="Medication"), field="name", value=name)
    flags = [i.klass for i in interactions_for(name)]
    med = MedicationStatement(
        patient=patient,
        name=name.strip(),
        dose=dose,
        interaction_classes=flags,
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(med)
    med.save()
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Recorded medication {med.name}" + (f" (interacts: {', '.join(flags)})" if flags else ""),
    )
    return med


@transaction.atomic
def medication_stop(*, user: User, medication: MedicationStatement, reason: str) -> MedicationStatement:
    patient_for(user, medication.patient, Permission.CLINICAL_RECORD)
    if not reason.strip():
        raise ValidationError(REQUIRED.format(field="Reason"), field="reason", value=reason)
    medication.stopped_at, medication.stopped_reason, medication.updated_by = timezone.now(), reason, user
    medication.save(update_fields=["stopped_at", "stopped_reason", "updated_by", "updated_at"])
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        patient=medication.patient,
        summary=f"Stopped medication {medication.name}: {reason}",
    )
    return medication
