"""Staff and access actions: create and edit staff (identifiers, licences), reset a password or a second
factor, review break-glass emergency accesses.

Opening a record with break-glass access is ``ketaclinic.patients.access.break_glass_open``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.geography import zip_centre
from ketaclinic.accounts.models import LICENCE_KINDS, BreakGlassAccess, Location, StaffLicence, User
from ketaclinic.accounts.permissions import require
from ketaclinic.accounts.selectors import break_glass_queue
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission, PrescriberKind, Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.identifiers import dea_check, npi_check
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


# --- Staff records: identifiers, licences, password and second-factor resets ------------------------------

STAFF_EDIT_FIELDS = ("first_name", "last_name", "email", "role", "prescriber_kind", "credentials", "npi")
STAFF_LAST_ADMIN_ROLE = "You cannot change the role of the last active clinic admin."
LICENCE_STATE_INVALID = "Licence state {value!r} is not a state: give its two-letter code, e.g. NY."
LICENCE_KIND_UNKNOWN = "Licence kind {value!r} is unknown: allowed are {allowed}."
LICENCE_NUMBER_REQUIRED = "A licence number is required."
LICENCE_ALREADY_REMOVED = "This licence was already removed."
PASSWORD_WRONG = "Your current (temporary) password is not correct."
PASSWORD_UNCHANGED = "The new password must differ from the temporary one."
TEMPORARY_PASSWORD_BYTES = 12  # 16 characters of URL-safe base64: ~96 bits


def _role_and_kind(role: str, prescriber_kind: str) -> tuple[str, str]:
    try:
        role = Role(role).value
    except ValueError:
        raise ValidationError(
            ROLE_UNKNOWN.format(value=role, allowed=", ".join(Role)), field="role", value=role
        ) from None
    if role != Role.PRESCRIBER:
        return role, ""
    try:
        return role, PrescriberKind(prescriber_kind).value
    except ValueError:
        raise ValidationError(
            PRESCRIBER_KIND_UNKNOWN.format(value=prescriber_kind),
            field="prescriber_kind",
            value=prescriber_kind,
        ) from None


@transaction.atomic
def staff_update(
    *, user: User, staff_member: User, locations: Iterable[Location], dea_number: str = "", **changes: str
) -> User:
    """Edit a member of staff: name, email, role, prescriber kind, credentials, NPI, DEA registration and
    locations. The audit entry keeps each changed value, old and new."""
    require(user, Permission.STAFF_MANAGE)
    unknown = set(changes) - set(STAFF_EDIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown staff fields: {sorted(unknown)}")
    member = User.objects.select_for_update().get(pk=staff_member.pk)
    new = {name: (changes.get(name, getattr(member, name)) or "").strip() for name in STAFF_EDIT_FIELDS}
    new["role"], new["prescriber_kind"] = _role_and_kind(new["role"], new["prescriber_kind"])
    new["npi"] = npi_check(new["npi"])
    new["dea_number"] = dea_check(dea_number)
    if member.role == Role.ADMIN and new["role"] != Role.ADMIN and member.is_active:
        if not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=member.pk).exists():
            raise ValidationError(STAFF_LAST_ADMIN_ROLE, field="role", value=new["role"])
    chosen = sorted(locations, key=lambda loc: loc.pk)
    if not chosen:
        raise ValidationError(LOCATIONS_REQUIRED, field="locations", value=None)
    diff = {
        name: {"from": str(getattr(member, name)), "to": value}
        for name, value in new.items()
        if getattr(member, name) != value
    }
    before = sorted(member.locations.values_list("code", flat=True))
    after = sorted(loc.code for loc in chosen)
    if before != after:
        diff["locations"] = {"from": ", ".join(before), "to": ", ".join(after)}
    if not diff:
        return member
    for name, value in new.items():
        setattr(member, name, value)
    clean_or_refuse(member, exclude=["password"])
    member.save()
    member.locations.set(chosen)
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        summary=f"Edited staff account {member.username}: {', '.join(sorted(diff))}",
        detail={"staff": str(member.external_id), "changes": diff},
    )
    return member


@transaction.atomic
def licence_add(
    *, user: User, staff_member: User, kind: str, state: str, number: str, expires_on: date
) -> StaffLicence:
    """Record a licence or registration of a member of staff (an expired one may be recorded: it shows as
    expired)."""
    require(user, Permission.STAFF_MANAGE)
    if kind not in LICENCE_KINDS:
        raise ValidationError(
            LICENCE_KIND_UNKNOWN.format(value=kind, allowed=", ".join(LICENCE_KINDS)),
            field="kind",
            value=kind,
        )
    state = (state or "").strip().upper()
    if len(state) != 2 or not state.isascii() or not state.isalpha():
        raise ValidationError(LICENCE_STATE_INVALID.format(value=state), field="state", value=state)
    number = (number or "").strip().upper() if kind == "DEA" else (number or "").strip()
    if not number:
        raise ValidationError(LICENCE_NUMBER_REQUIRED, field="number", value=number)
    if kind == "DEA":
        number = dea_check(number, field="number")
    licence = StaffLicence(user=staff_member, kind=kind, state=state, number=number, expires_on=expires_on)
    clean_or_refuse(licence)
    licence.save()
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        summary=f"Added licence {kind} {state} to {staff_member.username}, expires {expires_on.isoformat()}",
        detail={"staff": str(staff_member.external_id), "licence": str(licence.external_id)},
    )
    return licence


@transaction.atomic
def licence_remove(*, user: User, licence: StaffLicence) -> StaffLicence:
    """Take a licence off the record (kept, marked removed, for the audit trail's sake)."""
    require(user, Permission.STAFF_MANAGE)
    licence = StaffLicence.objects.select_for_update().select_related("user").get(pk=licence.pk)
    if licence.removed_at is not None:
        raise ValidationError(LICENCE_ALREADY_REMOVED, field="licence", value=str(licence.external_id))
    licence.removed_at = timezone.now()
    licence.save(update_fields=["removed_at"])
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        summary=f"Removed licence {licence.kind} {licence.state} of {licence.user.username}",
        detail={"staff": str(licence.user.external_id), "licence": str(licence.external_id)},
    )
    return licence


@transaction.atomic
def staff_password_reset(*, user: User, staff_member: User) -> str:
    """Give a member of staff a one-time temporary password (returned once, to be handed over in person or
    by phone; never stored in clear or audited); they must choose a new one at their next sign-in."""
    require(user, Permission.STAFF_MANAGE)
    member = User.objects.select_for_update().get(pk=staff_member.pk)
    temporary = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    member.set_password(temporary)
    member.must_change_password = True
    member.save(update_fields=["password", "must_change_password"])
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        summary=f"Reset the password of {member.username} (temporary password, change at next sign-in)",
        detail={"staff": str(member.external_id)},
    )
    return temporary


@transaction.atomic
def staff_second_factor_reset(*, user: User, staff_member: User) -> int:
    """Remove every authenticator (TOTP) and backup-code device of a member of staff: at their next sign-in
    they enrol a new one. Returns how many devices were removed."""
    require(user, Permission.STAFF_MANAGE)
    member = User.objects.select_for_update().get(pk=staff_member.pk)
    removed, _ = TOTPDevice.objects.filter(user=member).delete()
    backup, _ = StaticDevice.objects.filter(user=member).delete()
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        summary=f"Reset the second factor of {member.username}: enrols again at next sign-in",
        detail={"staff": str(member.external_id), "devices_removed": removed + backup},
    )
    return removed + backup


@transaction.atomic
def own_password_change(*, user: User, current_password: str, new_password: str) -> User:
    """The signed-in user replaces their (temporary) password; the must-change mark is cleared."""
    member = User.objects.select_for_update().get(pk=user.pk)
    if not member.check_password(current_password):
        raise ValidationError(PASSWORD_WRONG, field="current_password", value=None)
    if current_password == new_password:
        raise ValidationError(PASSWORD_UNCHANGED, field="new_password", value=None)
    try:
        validate_password(new_password, member)
    except DjangoValidationError as exc:
        raise ValidationError(" ".join(exc.messages), field="new_password", value=None) from None
    member.set_password(new_password)
    member.must_change_password = False
    member.save(update_fields=["password", "must_change_password"])
    audit_record(action=AuditEntry.Action.UPDATE, actor=member, summary="Changed own password")
    return member


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
