"""Requests for an assessment: received from the public page, turned into a patient and a referral in one
step, or closed with a reason. Every action is audited; nothing is half-saved."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import phone_normalise
from ketaclinic.inquiries.models import Inquiry
from ketaclinic.inquiries.selectors import inquiries_visible_to
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import duplicates_find
from ketaclinic.patients.services import patient_register
from ketaclinic.screening.models import Referral
from ketaclinic.screening.services import referral_record

CONSENT_REQUIRED = (
    "Please tick the box to agree that the clinic may contact you: we cannot call you back without it."
)
NAME_REQUIRED = "{label} is required."
LOCATION_UNKNOWN = "Choose one of the clinic's locations."
NOT_OPEN = "This request was already {status}: it cannot be changed again."
CLOSE_REASON_UNKNOWN = "Reason {value!r} is unknown: choose one of {allowed}."
CLOSE_NOTE_REQUIRED = "Explain the reason in the note when you choose 'Other'."
DUPLICATES_UNCONFIRMED = (
    "{count} registered patient(s) may be this person: check them, then tick 'None of these is this person' "
    "to register a new patient."
)
REASON_DEFAULT = "Requested a free assessment through the clinic's website."


@transaction.atomic
def inquiry_submit(
    *,
    location: Location | None,
    given_name: str,
    family_name: str,
    phone: str,
    consent: bool,
    email: str = "",
    interest: str = "",
    referred_by: str = Inquiry.ReferredBy.SELF,
) -> Inquiry:
    """A request from the public page (no account). Audited without what was typed beyond the request id."""
    if not consent:
        raise ValidationError(CONSENT_REQUIRED, field="consent", value=False)
    if location is None or not location.active:
        raise ValidationError(LOCATION_UNKNOWN, field="location", value=None)
    for label, field, value in (
        ("First name", "given_name", given_name),
        ("Last name", "family_name", family_name),
    ):
        if not (value or "").strip():
            raise ValidationError(NAME_REQUIRED.format(label=label), field=field, value=value)
    if not (phone or "").strip():
        raise ValidationError(NAME_REQUIRED.format(label="Phone"), field="phone", value=phone)
    now = timezone.now()
    inquiry = Inquiry(
        location=location,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        phone=phone_normalise(phone, field="phone", label="Phone"),
        email=(email or "").strip(),
        interest=interest or "",
        referred_by=referred_by or Inquiry.ReferredBy.SELF,
        contact_consent_at=now,
        received_at=now,
    )
    clean_or_refuse(inquiry)
    inquiry.save()
    audit_record(
        action=AuditEntry.Action.CREATE,
        summary="Received a request for a free assessment (public page)",
        location_code=location.code,
        detail={"inquiry": str(inquiry.external_id)},
    )
    return inquiry


def _lock_open(inquiry: Inquiry, user: User) -> Inquiry:
    require(user, Permission.INQUIRY_MANAGE)
    locked = Inquiry.objects.select_for_update().select_related("location").get(pk=inquiry.pk)
    if not inquiries_visible_to(user).filter(pk=locked.pk).exists():
        raise Inquiry.DoesNotExist
    if locked.status != Inquiry.Status.OPEN:
        raise ValidationError(
            NOT_OPEN.format(status=locked.get_status_display().lower()), field="status", value=locked.status
        )
    return locked


@transaction.atomic
def inquiry_close(*, user: User, inquiry: Inquiry, reason: str, note: str = "") -> Inquiry:
    """Close a request that will not become a patient: a reason from the list (a note for 'other')."""
    inquiry = _lock_open(inquiry, user)
    if reason not in Inquiry.CloseReason.values:
        allowed = ", ".join(str(label) for label in Inquiry.CloseReason.labels)
        raise ValidationError(
            CLOSE_REASON_UNKNOWN.format(value=reason, allowed=allowed), field="reason", value=reason
        )
    if reason == Inquiry.CloseReason.OTHER and not note.strip():
        raise ValidationError(CLOSE_NOTE_REQUIRED, field="note", value=note)
    inquiry.status = Inquiry.Status.CLOSED
    inquiry.closed_at, inquiry.closed_by = timezone.now(), user
    inquiry.close_reason, inquiry.close_note = reason, note.strip()
    clean_or_refuse(inquiry)
    inquiry.save()
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        location_code=inquiry.location.code,
        summary=f"Closed a request for an assessment: {inquiry.get_close_reason_display()}",
        detail={"inquiry": str(inquiry.external_id), "reason": reason, "note": inquiry.close_note},
    )
    return inquiry


@transaction.atomic
def inquiry_convert(
    *,
    user: User,
    inquiry: Inquiry,
    birth_date: date,
    sex_at_birth: str,
    indication: str,
    referrer_name: str,
    referrer_role: str,
    reason: str = REASON_DEFAULT,
    confirmed_not_duplicate: bool = False,
) -> tuple[Patient, Referral]:
    """Register the person as a patient at the request's location and record their referral, in one
    transaction: both or neither. Possible duplicates (the registry's own check) must be looked at first."""
    inquiry = _lock_open(inquiry, user)
    duplicates = duplicates_find(
        user=user,
        given_name=inquiry.given_name,
        family_name=inquiry.family_name,
        birth_date=birth_date,
        phone=inquiry.phone,
        email=inquiry.email,
    )
    if duplicates and not confirmed_not_duplicate:
        raise ValidationError(
            DUPLICATES_UNCONFIRMED.format(count=len(duplicates)), field="confirmed_not_duplicate", value=False
        )
    patient = patient_register(
        user=user,
        location=inquiry.location,
        given_name=inquiry.given_name,
        family_name=inquiry.family_name,
        birth_date=birth_date,
        sex_at_birth=sex_at_birth,
        phone=inquiry.phone,
        email=inquiry.email,
    )
    referral = referral_record(
        user=user,
        patient=patient,
        indication=indication,
        referrer_name=referrer_name,
        referrer_role=referrer_role,
        reason=reason,
        received_on=timezone.localdate(inquiry.received_at, ZoneInfo(inquiry.location.timezone)),
    )
    inquiry.status = Inquiry.Status.CONVERTED
    inquiry.converted_at, inquiry.converted_by = timezone.now(), user
    inquiry.patient, inquiry.referral = patient, referral
    inquiry.save()
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        patient=patient,
        location_code=inquiry.location.code,
        summary=f"Request for an assessment became patient {patient.mrn} with a referral",
        detail={"inquiry": str(inquiry.external_id), "referral": str(referral.external_id)},
    )
    return patient, referral
