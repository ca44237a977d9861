"""Who may do what: the clinic's roles and the permission matrix, as declared data.

This is the single source of the matrix written down in ``docs/permissions.md``; a test checks the
two agree cell by cell and that every cell behaves as declared through the web app and the API.
Deny by default: a permission not listed for a role is refused. Location scoping (staff see only
patients of their own locations) applies on top of the matrix to every role.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    PRESCRIBER = "prescriber"
    NURSE = "nurse"
    INTAKE = "intake"
    BILLING = "billing"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: Mapping[Role, str] = {
    Role.PRESCRIBER: "Prescriber",
    Role.NURSE: "Infusion nurse",
    Role.INTAKE: "Intake coordinator",
    Role.BILLING: "Billing",
    Role.ADMIN: "Clinic admin",
}


class PrescriberKind(StrEnum):
    PSYCHIATRIST = "psychiatrist"
    ANESTHESIOLOGIST = "anesthesiologist"
    NURSE_PRACTITIONER = "nurse_practitioner"


class Permission(StrEnum):
    PATIENT_VIEW = "patient.view"  # list, search, demographics and contact
    PATIENT_REGISTER = "patient.register"  # create and edit demographics, contacts, body measurements
    CLINICAL_VIEW = "clinical.view"  # allergies, medications, referrals, screenings
    CLINICAL_RECORD = "clinical.record"  # record allergies and medications
    REFERRAL_RECORD = "referral.record"
    SCREENING_RECORD = "screening.record"  # answer screening questions, compute eligibility
    SCREENING_SIGN = "screening.sign"  # sign the final eligibility decision
    BREAK_GLASS = "breakglass.use"  # emergency access outside one's locations
    BREAK_GLASS_REVIEW = "breakglass.review"
    AUDIT_VIEW = "audit.view"
    PROTOCOL_VIEW = "protocol.view"
    PROTOCOL_LOAD = "protocol.load"
    STAFF_MANAGE = "staff.manage"
    PLAN_WRITE = "plan.write"  # draft treatment plans
    PLAN_SIGN = "plan.sign"  # sign a treatment plan
    SCHEDULE_MANAGE = "schedule.manage"  # move planned infusions, check patients in
    CONSENT_RECORD = "consent.record"  # collect a patient's consent signature, send a consent link
    CONSENT_MANAGE = "consent.manage"  # edit the clinic's consent documents (new versions)
    SESSION_VIEW = "session.view"  # see infusion sessions: checklist, order, vitals, events, note
    SESSION_RUN = "session.run"  # run a session: checklist, start/pause/rate/stop, vitals, events, discharge
    ORDER_SIGN = "order.sign"  # sign infusion orders; override soft limits and checklist items
    NOTE_SIGN = "note.sign"  # sign a session note; add addenda
    BOARD_VIEW = "board.view"  # the day board of a location
    MAR_VIEW = "mar.view"  # the medication administration record
    QUESTIONNAIRE_RECORD = "questionnaire.record"  # enter questionnaire answers, send a patient a link
    SAFETY_ASSESS = "safety.assess"  # record the assessment and plan that close a safety flag
    BOOSTER_DECIDE = "booster.decide"  # accept or decline a proposed booster
    OUTCOMES_VIEW = "outcomes.view"  # the clinic outcomes dashboard (aggregates only)
    JOBS_VIEW = "jobs.view"  # the background jobs: what is queued, running, done or failed, with the error
    BILLING_VIEW = "billing.view"  # accounts, ledgers, packages, authorizations, codes (no clinical notes)
    BILLING_RECORD = "billing.record"  # sell packages, take payments, refund, reverse, record authorizations
    INQUIRY_MANAGE = (
        "inquiry.manage"  # the queue of assessment requests: open, convert (with register), close
    )
    CALENDAR_VIEW = "calendar.view"  # the front desk's week calendar of a location (chairs, rooms, staff)


P = Permission
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.PRESCRIBER: frozenset(
        {
            P.PATIENT_VIEW,
            P.PATIENT_REGISTER,
            P.CLINICAL_VIEW,
            P.CLINICAL_RECORD,
            P.REFERRAL_RECORD,
            P.SCREENING_RECORD,
            P.SCREENING_SIGN,
            P.BREAK_GLASS,
            P.PROTOCOL_VIEW,
            P.PLAN_WRITE,
            P.PLAN_SIGN,
            P.SCHEDULE_MANAGE,
            P.CONSENT_RECORD,
            P.SESSION_VIEW,
            P.SESSION_RUN,
            P.ORDER_SIGN,
            P.NOTE_SIGN,
            P.BOARD_VIEW,
            P.MAR_VIEW,
            P.QUESTIONNAIRE_RECORD,
            P.SAFETY_ASSESS,
            P.BOOSTER_DECIDE,
            P.OUTCOMES_VIEW,
            P.CALENDAR_VIEW,
        }
    ),
    Role.NURSE: frozenset(
        {
            P.PATIENT_VIEW,
            P.PATIENT_REGISTER,
            P.CLINICAL_VIEW,
            P.CLINICAL_RECORD,
            P.SCREENING_RECORD,
            P.BREAK_GLASS,
            P.PROTOCOL_VIEW,
            P.SCHEDULE_MANAGE,
            P.CONSENT_RECORD,
            P.SESSION_VIEW,
            P.SESSION_RUN,
            P.NOTE_SIGN,
            P.BOARD_VIEW,
            P.MAR_VIEW,
            P.QUESTIONNAIRE_RECORD,
            P.SAFETY_ASSESS,
            P.CALENDAR_VIEW,
        }
    ),
    Role.INTAKE: frozenset(
        {
            P.PATIENT_VIEW,
            P.PATIENT_REGISTER,
            P.CLINICAL_VIEW,
            P.CLINICAL_RECORD,
            P.REFERRAL_RECORD,
            P.SCREENING_RECORD,
            P.PROTOCOL_VIEW,
            P.SCHEDULE_MANAGE,
            P.CONSENT_RECORD,
            P.BOARD_VIEW,
            P.QUESTIONNAIRE_RECORD,
            P.INQUIRY_MANAGE,
            P.CALENDAR_VIEW,
        }
    ),
    Role.BILLING: frozenset({P.PATIENT_VIEW, P.MAR_VIEW, P.BILLING_VIEW, P.BILLING_RECORD}),
    Role.ADMIN: frozenset(
        {
            P.PATIENT_VIEW,
            P.BREAK_GLASS_REVIEW,
            P.AUDIT_VIEW,
            P.PROTOCOL_VIEW,
            P.PROTOCOL_LOAD,
            P.STAFF_MANAGE,
            P.CONSENT_MANAGE,
            P.OUTCOMES_VIEW,
            P.JOBS_VIEW,
            P.INQUIRY_MANAGE,
            P.CALENDAR_VIEW,
        }
    ),
}

# Roles that must enrol a second factor (TOTP) before they can use the app.
SECOND_FACTOR_REQUIRED: frozenset[Role] = frozenset({Role.PRESCRIBER, Role.ADMIN})

PERMISSION_DENIED = "Your role ({role}) may not {action}."


def role_can(role: Role | str, permission: Permission) -> bool:
    """True when ``role`` holds ``permission``; an unknown role holds nothing."""
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
