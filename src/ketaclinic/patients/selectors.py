"""Reads of the patient registry, shared by pages and the API; every read of a record is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Upper

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.services import audit_list, audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.input_rules import phone_match_key
from ketaclinic.patients.access import patient_for, patients_visible_to
from ketaclinic.patients.models import Allergy, BodyMeasurement, MedicationStatement, Patient

MRN_RE = re.compile(r"^KC\d{6}$", re.IGNORECASE)
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")


def mrn_normal(text: str) -> str:
    """An MRN as stored: capitals (the registry writes ``KC`` and six digits), so that a lookup typed in any
    case is an exact match on the MRN's unique index (a case-insensitive comparison reads every patient)."""
    return text.strip().upper()


def parse_search_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time zone involved)
        except ValueError:
            continue
    return None


def patient_search(*, user: User, query: str = "", limit: int = 50) -> list[Patient]:
    """Search the user's patients by name, birth date (YYYY-MM-DD or MM/DD/YYYY) or MRN."""
    qs = patients_visible_to(user).select_related("location")
    query = (query or "").strip()
    if MRN_RE.match(query):
        qs = qs.filter(mrn=mrn_normal(query))
    elif (dob := parse_search_date(query)) is not None:
        qs = qs.filter(birth_date=dob)
    elif query:
        for token in query.replace(",", " ").split():
            qs = qs.filter(
                Q(family_name__icontains=token)
                | Q(given_name__icontains=token)
                | Q(preferred_name__icontains=token)
            )
    patients = list(qs.order_by("family_name", "given_name", "id")[:limit])
    if patients:
        audit_list(patients, f"search {query!r}" if query else "patient list")
    return patients


def patient_find_elsewhere(*, user: User, mrn: str) -> Patient | None:
    """A patient found by exact MRN outside the user's locations: the break-glass entry point."""
    if not MRN_RE.match(mrn.strip()):
        return None
    return (
        Patient.objects.exclude(location_id__in=user_location_ids(user)).filter(mrn=mrn_normal(mrn)).first()
    )


@dataclass(frozen=True)
class PossibleDuplicate:
    """A possible match. Outside the user's locations nothing identifies the person (no MRN, name, birth date,
    clinic or reason): only that a possible match exists elsewhere, and the way to it (break-glass)."""

    mrn: str | None
    name: str
    birth_date: date | None
    location: str
    why: str
    visible: bool
    patient_id: str | None = None  # for break-glass (an opaque id, not an identifier of the person)


ELSEWHERE = "A possible match is registered at another location"


def duplicates_find(
    *,
    user: User,
    given_name: str,
    family_name: str,
    birth_date: date | None,
    phone: str = "",
    email: str = "",
) -> list[PossibleDuplicate]:
    """Existing patients that may be the same person, across all locations (a person registered twice at
    two locations is the duplicate that matters). Matches outside the user's locations
    say only that a match exists there (break-glass opens it, with a reason, reviewed). Every lookup is
    audited. Part of registering a patient: refused to roles that may not register."""
    require(user, Permission.PATIENT_REGISTER)
    phone_key = phone_match_key(phone)  # the last seven digits, '' for fewer
    # One query per way of matching, each served by its own index (birth date; the email's capitals; the
    # phone's last seven digits, kept in ``phone_last7``), rather than one OR that no index serves; then the
    # matches themselves, by key.
    keys: set[int] = set()
    names = Q()
    if family_name:
        names |= Q(family_name__iexact=family_name.strip())
    if given_name:
        names |= Q(given_name__iexact=given_name.strip())
    if birth_date and names:
        keys |= set(Patient.objects.filter(names, birth_date=birth_date).values_list("pk", flat=True)[:50])
    if email:
        keys |= set(
            Patient.objects.alias(email_ci=Upper("email"))
            .filter(email_ci=email.strip().upper())
            .values_list("pk", flat=True)[:50]
        )
    if phone_key:
        keys |= set(Patient.objects.filter(phone_last7=phone_key).values_list("pk", flat=True)[:50])
    if not keys:
        return []
    mine = set(user_location_ids(user))
    found: list[PossibleDuplicate] = []
    matched: list[Patient] = []
    for p in Patient.objects.filter(pk__in=keys).select_related("location")[:50]:
        why = []
        if birth_date and p.birth_date == birth_date:
            why.append("same birth date")
        if family_name and p.family_name.lower() == family_name.strip().lower():
            why.append("same family name")
        if given_name and p.given_name.lower() == given_name.strip().lower():
            why.append("same given name")
        if email and p.email.lower() == email.strip().lower():
            why.append("same email")
        if phone_key and p.phone_last7 == phone_key:
            why.append("same phone")
        if not why:  # every lookup above matches a reason; this keeps a row without one out
            continue
        visible = p.location_id in mine
        matched.append(p)
        if visible:
            found.append(
                PossibleDuplicate(
                    mrn=p.mrn,
                    name=str(p.display_name),
                    birth_date=p.birth_date,
                    location=p.location.name,
                    why=", ".join(why),
                    visible=True,
                )
            )
        else:
            found.append(
                PossibleDuplicate(
                    mrn=None,
                    name=ELSEWHERE,
                    birth_date=None,
                    location="another location",
                    why="",
                    visible=False,
                    patient_id=str(p.external_id),
                )
            )
    audit_list(matched, "possible duplicates (registration)")  # every lookup that touches patients is audited
    return found[:10]


@dataclass(frozen=True)
class PatientChart:
    patient: Patient
    latest_weight: BodyMeasurement | None
    latest_height: BodyMeasurement | None
    measurements: list[BodyMeasurement]
    allergies: list[Allergy] | None  # None when the role may not see clinical records
    medications: list[MedicationStatement] | None
    bmi: float | None


def patient_get(*, user: User, external_id: str, permission: Permission = Permission.PATIENT_VIEW) -> Patient:
    """One patient by public id, within the user's reach; a missing patient raises Patient.DoesNotExist."""
    patient = Patient.objects.select_related("location").get(external_id=external_id)
    return patient_for(user, patient, permission)


def patient_chart_get(*, user: User, patient: Patient) -> PatientChart:
    patient_for(user, patient, Permission.PATIENT_VIEW)
    measurements = list(patient.measurements.select_related("recorded_by").all()[:50])
    weight = next((m for m in measurements if m.kind == "weight"), None)
    height = next((m for m in measurements if m.kind == "height"), None)
    clinical = user.can(Permission.CLINICAL_VIEW)
    allergies = list(patient.allergies.filter(ended_at__isnull=True)) if clinical else None
    meds = list(patient.medications.filter(stopped_at__isnull=True)) if clinical else None
    bmi = None
    if weight and height:
        bmi = round(float(weight.value_si) / (float(height.value_si) / 100) ** 2, 1)
    audit_read(patient, "chart (demographics" + (", allergies, medications" if clinical else "") + ")")
    return PatientChart(patient, weight, height, measurements, allergies, meds, bmi)


def patients_with_latest_weight(qs: QuerySet[Patient]) -> QuerySet[Patient]:
    return qs.prefetch_related(
        Prefetch(
            "measurements", queryset=BodyMeasurement.objects.filter(kind="weight").order_by("-measured_at")
        )
    )
