"""The prescriber's worklist: orders to sign, verbal titrations to co-sign, notes to sign, REMS monitoring
forms still to submit (overdue and due soon)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, RateEvent, SessionNote
from ketaclinic.infusions.selectors.rems import RemsDue, rems_forms_due
from ketaclinic.patients.models import Patient


@dataclass(frozen=True)
class CosignItem:
    """A verbal titration order waiting for a prescriber's co-signature, due within the protocol's window."""

    event: RateEvent
    due: datetime | None
    overdue: bool

    @property
    def session(self) -> InfusionSession:
        return self.event.session


@dataclass(frozen=True)
class PrescriberWorklist:
    orders: list[InfusionOrder]  # calculated, not yet signed
    cosigns: list[CosignItem]  # verbal titrations not yet co-signed (overdue first)
    notes: list[SessionNote]  # generated, not yet signed
    rems: list[RemsDue] = field(default_factory=list)  # REMS forms not submitted (overdue first)

    @property
    def empty(self) -> bool:
        return not (self.orders or self.cosigns or self.notes or self.rems)

    @property
    def rems_overdue(self) -> int:
        return sum(1 for r in self.rems if r.deadline.overdue)

    @property
    def patients(self) -> list[Patient]:
        return [
            *(o.session.patient for o in self.orders),
            *(c.session.patient for c in self.cosigns),
            *(n.session.patient for n in self.notes),
            *(r.session.patient for r in self.rems),
        ]


def _cosign_hours(session: InfusionSession) -> float | None:
    dosing = session.protocol_version.parsed.dosing
    return (
        None if dosing is None or dosing.verbal_orders is None else dosing.verbal_orders.cosign_within_hours
    )


def prescriber_worklist(*, user: User, now: datetime | None = None, limit: int = 50) -> PrescriberWorklist:
    """Orders to sign, verbal titrations to co-sign (overdue past the protocol's window), notes to sign and
    REMS forms to submit, at the prescriber's locations; a bounded number of queries whatever the length."""
    require(user, Permission.ORDER_SIGN)
    now = now or timezone.now()
    where = user_location_ids(user)
    related = ("session__patient", "session__protocol_version", "session__location")
    orders = list(
        InfusionOrder.objects.filter(
            session__location_id__in=where,
            signed_at__isnull=True,
            superseded=False,
            session__state__in=[SessionState.CHECKED_IN.value, SessionState.PRECHECKS_DONE.value],
        )
        .select_related(*related)
        .order_by("created_at")[:limit]
    )
    events = list(
        RateEvent.objects.filter(session__location_id__in=where, verbal_order=True, cosigned_at__isnull=True)
        .select_related(*related, "signer", "recorded_by")
        .order_by("recorded_at")[:limit]
    )
    cosigns: list[CosignItem] = []
    windows: dict[int, float | None] = {}
    for e in events:
        pv = e.session.protocol_version_id
        hours = windows[pv] if pv in windows else windows.setdefault(pv, _cosign_hours(e.session))
        due = None if hours is None else e.recorded_at + timedelta(hours=hours)
        cosigns.append(CosignItem(e, due, due is not None and now > due))
    cosigns.sort(key=lambda c: (not c.overdue, c.event.recorded_at))
    notes = list(
        SessionNote.objects.filter(session__location_id__in=where, signed_at__isnull=True)
        .select_related(*related)
        .order_by("created_at")[:limit]
    )
    return PrescriberWorklist(orders, cosigns, notes, rems_forms_due(user=user, now=now, limit=limit))
