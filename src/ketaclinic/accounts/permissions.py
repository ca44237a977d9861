"""Permission checks (business logic, used by services, selectors, pages and the API alike).

The first of two gates, both deny-by-default: the role must hold the permission
(``ketaclinic.core.access``). The second, that a patient belongs to one of the user's locations or is
opened with an unexpired break-glass access, is ``ketaclinic.patients.access``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied

from ketaclinic.core.access import PERMISSION_DENIED, Permission

if TYPE_CHECKING:
    from ketaclinic.accounts.models import User

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
    Permission.JOBS_VIEW: "see the background jobs",
    Permission.INQUIRY_MANAGE: "see or answer requests for an assessment",
    Permission.CALENDAR_VIEW: "see the week calendar",
    Permission.BILLING_VIEW: "see patient accounts and billing",
    Permission.BILLING_RECORD: "take payments or sell packages",
}


def require(user: User | Any, permission: Permission) -> None:
    if not getattr(user, "is_authenticated", False) or not user.can(permission):
        role = getattr(user, "role", "anonymous") or "anonymous"
        raise PermissionDenied(PERMISSION_DENIED.format(role=role, action=ACTION_WORDS[permission]))


def user_location_ids(user: User) -> list[int]:
    cache = getattr(user, "_location_ids", None)
    if cache is None:
        cache = list(user.locations.values_list("id", flat=True))
        user._location_ids = cache
    return cache
