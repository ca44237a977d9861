"""Reads of staff and access: the break-glass review queue."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ketaclinic.accounts.models import BreakGlassAccess, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission


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
