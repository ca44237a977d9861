"""Reads of requests for an assessment: the intake queue of one's own locations, one request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Permission
from ketaclinic.inquiries.models import Inquiry


def inquiries_visible_to(user: User) -> QuerySet[Inquiry]:
    """Requests for the user's locations (deny by default: ``inquiry.manage`` is required)."""
    require(user, Permission.INQUIRY_MANAGE)
    return Inquiry.objects.filter(location_id__in=user_location_ids(user))


@dataclass(frozen=True)
class QueueRow:
    inquiry: Inquiry
    age: str  # "3 h", "2 days": how long the person has been waiting for a call


@dataclass(frozen=True)
class LocationQueue:
    location: Location
    rows: list[QueueRow]


def age_in_words(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def inquiry_queue(*, user: User, now: datetime) -> list[LocationQueue]:
    """Open requests per location of the user, oldest first, with their age (one query)."""
    rows = (
        inquiries_visible_to(user)
        .filter(status=Inquiry.Status.OPEN)
        .select_related("location")
        .order_by("location__name", "received_at", "id")
    )
    queues: dict[int, LocationQueue] = {}
    for row in rows:
        queue = queues.setdefault(row.location_id, LocationQueue(row.location, []))
        queue.rows.append(QueueRow(row, age_in_words(row.received_at, now)))
    return list(queues.values())


def inquiry_get(*, user: User, external_id: str) -> Inquiry:
    """One request of the user's locations (raises Inquiry.DoesNotExist); each opening is audited."""
    inquiry = (
        inquiries_visible_to(user)
        .select_related("location", "patient", "closed_by", "converted_by")
        .get(external_id=external_id)
    )
    audit_record(
        action=AuditEntry.Action.VIEW,
        actor=user,
        location_code=inquiry.location.code,
        summary="Viewed a request for an assessment",
        detail={"inquiry": str(inquiry.external_id)},
    )
    return inquiry


def locations_for_public() -> list[Location]:
    """The clinic's active locations, for the public page's choice."""
    return list(Location.objects.filter(active=True).order_by("name"))
