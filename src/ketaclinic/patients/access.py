"""The second access gate: a patient belongs to one of the user's locations, or the user holds an
unexpired break-glass access to that patient (opened here, for a stated reason, and reviewed by an admin
in ``ketaclinic.accounts.services``). The first gate, the role's permission, is
``ketaclinic.accounts.permissions.require``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ketaclinic.accounts.models import BreakGlassAccess, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.patients.models import Patient

OUTSIDE_LOCATIONS = "This patient is cared for at another location."
REASON_TOO_SHORT = "State the reason for emergency access in at least {min} characters."
BREAK_GLASS_NOT_NEEDED = "This patient is already at one of your locations; no emergency access is needed."
MIN_REASON = 15


class OutsideLocations(PermissionDenied):
    """The patient exists but belongs to none of the user's locations (break-glass may open it)."""

    def __init__(self, patient: Patient) -> None:
        super().__init__(OUTSIDE_LOCATIONS)
        self.patient = patient


def patients_visible_to(user: User, permission: Permission = Permission.PATIENT_VIEW) -> QuerySet[Patient]:
    """Patients of the user's locations, plus those opened with an unexpired break-glass access.

    The few patients opened with break-glass are read first (one query on the user's accesses), so that the
    patients' filter is ``location IN (...) OR id IN (...)`` over constants: an index on each side (a bitmap
    OR), no join and no DISTINCT. A join under DISTINCT, as before, let no index choose the location, and a
    clinic's lists read every patient of the network."""
    require(user, permission)
    opened = list(
        BreakGlassAccess.objects.filter(user=user, expires_at__gt=timezone.now()).values_list(
            "patient_id", flat=True
        )
    )
    mine = Q(location_id__in=user_location_ids(user))
    return Patient.objects.filter(mine | Q(pk__in=opened) if opened else mine)


def can_access_patient(user: User, patient: Patient) -> bool:
    if patient.location_id in user_location_ids(user):
        return True
    return patient.break_glass_accesses.filter(user=user, expires_at__gt=timezone.now()).exists()


def patient_for(user: User, patient: Patient, permission: Permission) -> Patient:
    """Return ``patient`` if ``user`` may use ``permission`` on it; refuse otherwise."""
    require(user, permission)
    if not can_access_patient(user, patient):
        raise OutsideLocations(patient)
    return patient


@transaction.atomic
def break_glass_open(*, user: User, patient: Patient, reason: str) -> BreakGlassAccess:
    """Open a record outside one's locations for a stated reason: granted at once, time-limited, audited,
    and queued for an admin's review."""
    require(user, Permission.BREAK_GLASS)
    if patient.location_id in user_location_ids(user):
        raise ValidationError(BREAK_GLASS_NOT_NEEDED, field="patient", value=patient.mrn)
    if len(reason.strip()) < MIN_REASON:
        raise ValidationError(REASON_TOO_SHORT.format(min=MIN_REASON), field="reason", value=reason)
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        user=user,
        patient=patient,
        reason=reason.strip(),
        granted_at=now,
        expires_at=now + BreakGlassAccess.DURATION,
    )
    audit_record(
        action=AuditEntry.Action.BREAK_GLASS,
        actor=user,
        patient=patient,
        location_code=patient.location.code,
        summary=f"Emergency access to {patient.mrn} for 4 h: {reason.strip()}",
        detail={"access": str(access.external_id), "expires_at": access.expires_at.isoformat()},
    )
    return access
