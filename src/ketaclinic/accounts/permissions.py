"""Permission checks (business logic, used by services, selectors, pages and the API alike).

Two gates, both deny-by-default: the role must hold the permission (``ketaclinic.core.access``), and
a patient must belong to one of the user's locations, or the user must hold an unexpired break-glass
access to that patient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from ketaclinic.core.access import PERMISSION_DENIED, Permission

if TYPE_CHECKING:
    from ketaclinic.accounts.models import User
    from ketaclinic.patients.models import Patient

OUTSIDE_LOCATIONS = "This patient is cared for at another location."

ACTION_WORDS: dict[Permission, str] = {
    Permission.PATIENT_VIEW: "see patients",
    Permission.PATIENT_REGISTER: "register or edit patients",
    Permission.CLINICAL_VIEW: "see clinical records",
    Permission.CLINICAL_RECORD: "record allergies or medications",
    Permission.REFERRAL_RECORD: "record referrals",
    Permission.SCREENING_RECORD: "record screenings",
    Permission.SCREENING_SIGN: "sign eligibility decisions",
    Permission.BREAK_GLASS: "use emergency access",
    Permission.BREAK_GLASS_REVIEW: "review emergency accesses",
    Permission.AUDIT_VIEW: "read the audit trail",
    Permission.PROTOCOL_VIEW: "see protocols",
    Permission.PROTOCOL_LOAD: "load protocols",
    Permission.STAFF_MANAGE: "manage staff",
    Permission.PLAN_WRITE: "write treatment plans",
    Permission.PLAN_SIGN: "sign treatment plans",
    Permission.SCHEDULE_MANAGE: "manage the schedule",
    Permission.CONSENT_RECORD: "record consent",
    Permission.CONSENT_MANAGE: "edit consent documents",
    Permission.SESSION_VIEW: "see infusion sessions",
    Permission.SESSION_RUN: "run infusion sessions",
    Permission.ORDER_SIGN: "sign infusion orders",
    Permission.NOTE_SIGN: "sign session notes",
    Permission.BOARD_VIEW: "see the day board",
    Permission.MAR_VIEW: "see medication administration records",
    Permission.QUESTIONNAIRE_RECORD: "record questionnaires",
    Permission.SAFETY_ASSESS: "assess safety flags",
    Permission.BOOSTER_DECIDE: "decide on boosters",
    Permission.OUTCOMES_VIEW: "see the clinic outcomes dashboard",
}


class OutsideLocations(PermissionDenied):
    """The patient exists but belongs to none of the user's locations (break-glass may open it)."""

    def __init__(self, patient: Patient) -> None:
        super().__init__(OUTSIDE_LOCATIONS)
        self.patient = patient


def require(user: User | Any, permission: Permission) -> None:
    if not getattr(user, "is_authenticated", False) or not user.can(permission):
        role = getattr(user, "role", "anonymous") or "anonymous"
        raise PermissionDenied(PERMISSION_DENIED.format(role=role, action=ACTION_WORDS[permission]))


def user_location_ids(user: User) -> list[int]:
    cache = getattr(user, "_location_ids", None)
    if cache is None:
        cache = list(user.locations.values_list("id", flat=True))
        user._location_ids = cache  # type: ignore[attr-defined]
    return cache


def patients_visible_to(user: User, permission: Permission = Permission.PATIENT_VIEW) -> QuerySet[Patient]:
    """Patients of the user's locations, plus those opened with an unexpired break-glass access."""
    from ketaclinic.patients.models import Patient

    require(user, permission)
    return Patient.objects.filter(
        Q(location_id__in=user_location_ids(user))
        | Q(break_glass_accesses__user=user, break_glass_accesses__expires_at__gt=timezone.now())
    ).distinct()


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
