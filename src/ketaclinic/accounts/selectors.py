"""Reads of staff and access: the break-glass review queue, the staff directory, licences to renew."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.models import BreakGlassAccess, StaffLicence, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.identifiers import LICENCE_EXPIRY_WARNING_DAYS, LicenceStatus, licence_status


def break_glass_queue(*, user: User) -> QuerySet[BreakGlassAccess]:
    """Unreviewed emergency accesses, oldest first, for accesses to patients of the admin's locations or
    by staff of those locations."""
    require(user, Permission.BREAK_GLASS_REVIEW)
    locs = user_location_ids(user)
    return (
        BreakGlassAccess.objects.filter(reviewed_at__isnull=True)
        .filter(Q(patient__location_id__in=locs) | Q(user__locations__id__in=locs))
        .select_related("user", "patient", "patient__location")
        .order_by("granted_at")
        .distinct()
    )


@dataclass(frozen=True)
class LicenceAlert:
    licence: StaffLicence
    status: LicenceStatus


def staff_directory(*, user: User) -> QuerySet[User]:
    """Every staff account with its locations and current licences (three queries, whatever the count)."""
    require(user, Permission.STAFF_MANAGE)
    current = StaffLicence.objects.filter(removed_at__isnull=True).order_by("expires_on", "id")
    return User.objects.prefetch_related(
        "locations", Prefetch("licences", queryset=current, to_attr="current_licences")
    ).order_by("last_name", "first_name")


def staff_get(*, user: User, external_id: str) -> User:
    """One staff account for the admin's edit page (raises User.DoesNotExist)."""
    return staff_directory(user=user).get(external_id=external_id)


def licences_needing_attention(*, user: User, today: date) -> list[LicenceAlert]:
    """Current licences of active staff that expired or expire within the warning window, soonest first."""
    require(user, Permission.STAFF_MANAGE)
    horizon = today + timedelta(days=LICENCE_EXPIRY_WARNING_DAYS)
    rows = StaffLicence.objects.filter(
        removed_at__isnull=True, user__is_active=True, expires_on__lte=horizon
    ).select_related("user")
    return [LicenceAlert(row, licence_status(row.expires_on, today=today)) for row in rows]


def second_factor_enrolled_ids() -> set[int]:
    """Ids of users with a confirmed authenticator."""
    return set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
