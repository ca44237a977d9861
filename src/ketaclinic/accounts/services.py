"""Staff and access actions: create staff, review break-glass emergency accesses, sign-in events.

Opening a record with break-glass access is ``ketaclinic.patients.access.break_glass_open``."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.geography import zip_centre
from ketaclinic.accounts.models import BreakGlassAccess, Location, User
from ketaclinic.accounts.permissions import require
from ketaclinic.accounts.selectors import break_glass_queue
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission, PrescriberKind, Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.travel import ServiceArea

REVIEW_OUTCOMES = ("appropriate", "inappropriate")
REVIEW_OUTCOME_UNKNOWN = "Review outcome {value!r} is unknown: allowed are appropriate, inappropriate."
ALREADY_REVIEWED = "This emergency access was already reviewed."
REVIEW_NOTE_REQUIRED = "A note is required when an access is judged inappropriate."
REVIEW_NOT_IN_QUEUE = "This emergency access is not in your review queue."


ROLE_UNKNOWN = "Role {value!r} is unknown: allowed are {allowed}."
PRESCRIBER_KIND_UNKNOWN = (
    "A prescriber is a psychiatrist, anesthesiologist or nurse_practitioner, not {value!r}."
)
SERVICE_AREA_MOBILE_ONLY = (
    "{location} is a clinic; only a mobile location has a service area for home visits."
)
LOCATIONS_REQUIRED = "Staff work at one or more locations: choose at least one."


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str,
    role: str,
    locations: Iterable[Location],
    first_name: str = "",
    last_name: str = "",
    prescriber_kind: str = "",
    credentials: str = "",
    email: str = "",
    user: User | None = None,
) -> User:
    """Create a staff account. ``user`` is the member of staff doing it (must hold ``staff.manage``); ``None``
    only for the command line and the demo loader, where the operator is the system administrator."""
    if user is not None:
        require(user, Permission.STAFF_MANAGE)
    try:
        role = Role(role).value
    except ValueError:
        raise ValidationError(
            ROLE_UNKNOWN.format(value=role, allowed=", ".join(Role)), field="role", value=role
        ) from None
    if role == Role.PRESCRIBER:
        try:
            prescriber_kind = PrescriberKind(prescriber_kind).value
        except ValueError:
            raise ValidationError(
                PRESCRIBER_KIND_UNKNOWN.format(value=prescriber_kind),
                field="prescriber_kind",
                value=prescriber_kind,
            ) from None
    locations = list(locations)
    if not locations:
        raise ValidationError(LOCATIONS_REQUIRED, field="locations", value=None)
    if user is not None:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise ValidationError(" ".join(exc.messages), field="password", value=None) from None
    member = User(
        username=username,
        role=role,
        prescriber_kind=prescriber_kind if role == Role.PRESCRIBER else "",
        first_name=first_name,
        last_name=last_name,
        credentials=credentials,
        email=email,
    )
    member.set_password(password)
    clean_or_refuse(member, exclude=["password"])
    member.save()
    member.locations.set(locations)
    audit_record(
        action=AuditEntry.Action.CREATE, actor=user, summary=f"Created staff account {username} ({role})"
    )
    return member


@transaction.atomic
def break_glass_review(
    *, user: User, access: BreakGlassAccess, outcome: str, note: str = ""
) -> BreakGlassAccess:
    require(user, Permission.BREAK_GLASS_REVIEW)
    access = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
    if access.reviewed_at is not None:
        raise ValidationError(ALREADY_REVIEWED, field="access", value=str(access.external_id))
    if not break_glass_queue(user=user).filter(pk=access.pk).exists():  # another location's business
        raise ValidationError(REVIEW_NOT_IN_QUEUE, field="access", value=str(access.external_id))
    if outcome not in REVIEW_OUTCOMES:
        raise ValidationError(REVIEW_OUTCOME_UNKNOWN.format(value=outcome), field="outcome", value=outcome)
    if outcome == "inappropriate" and not note.strip():
        raise ValidationError(REVIEW_NOTE_REQUIRED, field="note", value=note)
    access.reviewed_by, access.reviewed_at = user, timezone.now()
    access.review_outcome, access.review_note = outcome, note.strip()
    access.save()
    audit_record(
        action=AuditEntry.Action.REVIEW,
        actor=user,
        patient=access.patient,
        summary=f"Reviewed emergency access by {access.user.username}: {outcome}",
        detail={"access": str(access.external_id), "note": access.review_note},
    )
    return access


STAFF_LAST_ADMIN = "You cannot deactivate the last active clinic admin."


@transaction.atomic
def staff_set_active(*, user: User, staff_member: User, active: bool) -> User:
    """Deactivate (never delete: the audit trail points at staff) or reactivate an account."""
    require(user, Permission.STAFF_MANAGE)
    staff_member = User.objects.select_for_update().get(pk=staff_member.pk)
    if (
        not active
        and staff_member.role == Role.ADMIN
        and not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=staff_member.pk).exists()
    ):
        raise ValidationError(STAFF_LAST_ADMIN, field="is_active", value=staff_member.username)
    staff_member.is_active = active
    staff_member.save(update_fields=["is_active"])
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        summary=f"{'Reactivated' if active else 'Deactivated'} staff account {staff_member.username}",
    )
    return staff_member


@transaction.atomic
def location_service_area_set(
    *, user: User, location: Location, centre_postal_code: str, radius_miles: float
) -> Location:
    """Set a mobile location's service area: homes within ``radius_miles`` of the centre ZIP code's centre."""
    require(user, Permission.STAFF_MANAGE)
    location = Location.objects.select_for_update().get(pk=location.pk)
    if location.kind != Location.Kind.MOBILE:
        raise ValidationError(
            SERVICE_AREA_MOBILE_ONLY.format(location=location.name), field="location", value=location.code
        )
    area = ServiceArea(
        name=location.name,
        centre_postal_code=centre_postal_code.strip(),
        centre=zip_centre(centre_postal_code, what="The service area's centre", field="centre_postal_code"),
        radius_miles=float(radius_miles),
    )
    location.service_centre_postal_code = area.centre_postal_code
    location.service_radius_miles = Decimal(str(round(area.radius_miles, 1)))
    clean_or_refuse(location)
    location.save(update_fields=["service_centre_postal_code", "service_radius_miles"])
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        summary=f"Service area of {location.name}: within {location.service_radius_miles} miles of ZIP "
        f"{location.service_centre_postal_code}",
    )
    return location
