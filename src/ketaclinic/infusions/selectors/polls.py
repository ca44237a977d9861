"""What the two polled fragments read, cheaply: the live page's status box and the day board's rows.

Every open live page and board polls every 15 s, and between two polls nothing has usually changed. So what
a poll shows from the database (a session's pump events, its signed order, when its last complete set of
readings was taken, its open alerts; the patient's open safety flags) is kept in Django's cache under a
fingerprint of the rows it comes from: one query (per session, or one for the whole board) gives the count,
last id and last change of each of those tables for the session, and when the fingerprint is the one cached
nothing else is read. What moves with the clock (elapsed time, dose given, the next reading due or overdue,
observation left) is worked out at every poll from the cached rows and ``now``, by the same functions the
whole page uses, so a poll never shows less than the page. A change (a reading, a pump event, a signature, an
alert raised or acknowledged, a flag raised or assessed) changes the fingerprint and is read at the next
poll.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models import Model as DjangoModel
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion.delivery import Delivery, RateEventKind, RatePoint
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.core.infusion.vitals import VitalsDue
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, RateEvent, VitalAlert, VitalSigns
from ketaclinic.infusions.selectors.detail import _due, last_complete_taken_at
from ketaclinic.infusions.selectors.orders import bag_delivery, signed_order
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.patients.access import patient_for

POLL_CACHE_SECONDS = 15 * 60  # a fingerprint not polled for this long is recomputed from the rows
FINGERPRINT = (
    "fp_vitals",
    "fp_events",
    "fp_alerts",
    "fp_alerts_open",
    "fp_orders",
    "fp_orders_n",
    "fp_signed",
    "fp_voided",
    "fp_flags",
    "fp_flags_n",
)


def _last(
    model: type[DjangoModel], value: Any, *, outer: str = "pk", by: str = "session", **filters: Any
) -> Any:
    """``(SELECT <value> FROM <model> WHERE <by> = outer.<outer> [AND filters])``: one aggregate of a
    session's (or its patient's) rows, read through the foreign key's index."""
    rows = model.objects.filter(**{by: OuterRef(outer)}, **filters).order_by().values(by)  # type: ignore[attr-defined]
    return Subquery(rows.annotate(x=value).values("x")[:1])


def fingerprinted(sessions: QuerySet[InfusionSession]) -> QuerySet[InfusionSession]:
    """The sessions, each with ``poll_key``'s parts: the last reading, pump event and alert, the alerts still
    open, the orders' last change, and the patient's open safety flags."""
    return sessions.annotate(**_fingerprint_columns())


@functools.cache
def _fingerprint_columns() -> dict[str, Subquery]:
    """The ten subqueries, built once per process (building them cost more than running them; Django copies
    an expression each time a query uses it, so one set serves every query)."""
    return dict(
        fp_vitals=_last(VitalSigns, Max("id")),
        fp_events=_last(RateEvent, Max("id")),
        fp_alerts=_last(VitalAlert, Max("id")),
        fp_alerts_open=_last(VitalAlert, Count("id"), acknowledged_at__isnull=True),
        fp_orders=_last(InfusionOrder, Max("updated_at")),
        fp_orders_n=_last(InfusionOrder, Count("id")),
        fp_signed=_last(InfusionOrder, Max("signed_at")),
        fp_voided=_last(InfusionOrder, Max("voided_at")),
        fp_flags=_last(SafetyFlag, Max("updated_at"), outer="patient_id", by="patient", status="open"),
        fp_flags_n=_last(SafetyFlag, Count("id"), outer="patient_id", by="patient", status="open"),
    )


def poll_key(kind: str, session: InfusionSession) -> str:
    """The cache key of what a poll of ``kind`` read for ``session`` (annotated by ``fingerprinted``): the
    session's own row (its version, state, times, weight) and its rows' fingerprint."""
    parts = (
        session.pk,
        session.version,
        session.state,
        session.updated_at,
        session.started_at,
        session.ended_at,
        session.weight_kg,
        session.protocol_version_id,
        *(getattr(session, f) for f in FINGERPRINT),
    )
    return f"poll:{kind}:{hashlib.sha256(repr(parts).encode()).hexdigest()[:40]}"


@dataclass(frozen=True)
class PollRows:
    """What a poll shows of one session from the database (cached under ``poll_key``)."""

    points: tuple[RatePoint, ...]
    order: InfusionOrder | None  # the order that caps the bag
    last_taken_at: datetime | None  # the last COMPLETE set of readings
    open_alerts: tuple[VitalAlert, ...]
    safety_flags: tuple[SafetyFlag, ...] = ()


def _points(events: list[RateEvent]) -> tuple[RatePoint, ...]:
    return tuple(RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h) for e in events)


# --- the live page's status box ------------------------------------------------------------------------


@dataclass
class SessionStatus:
    """What the polled status box shows (the names the whole page's ``SessionDetail`` gives them)."""

    session: InfusionSession
    delivery: Delivery
    vitals_due: VitalsDue | None
    open_alerts: list[VitalAlert]
    observation_remaining_min: float | None
    safety_flags: list[SafetyFlag]
    now: datetime


def _status_rows(session: InfusionSession) -> PollRows:
    monitoring = session.protocol_version.parsed.monitoring
    return PollRows(
        points=_points(list(session.rate_events.all())),
        order=signed_order(session),
        last_taken_at=last_complete_taken_at(list(session.vitals.all()), monitoring),
        open_alerts=tuple(session.alerts.filter(acknowledged_at__isnull=True)),
        safety_flags=tuple(
            SafetyFlag.objects.filter(patient_id=session.patient_id, status=SafetyFlag.Status.OPEN).order_by(
                "raised_at"
            )
        ),
    )


def session_polled_get(*, user: User, external_id: str) -> InfusionSession:
    """``session_get`` for the poll: the session read with its fingerprint, in one query."""
    require(user, Permission.SESSION_VIEW)
    session = (
        fingerprinted(InfusionSession.objects.all())
        .select_related("patient", "patient__location", "protocol_version", "location", "chair", "updated_by")
        .defer("protocol_version__document")  # read only when ``parsed`` has not seen the version
        .get(external_id=external_id)
    )
    patient_for(user, session.patient, Permission.SESSION_VIEW)
    return session


def session_status(*, user: User, session: InfusionSession, now: datetime | None = None) -> SessionStatus:
    """The status box of a session the user may see: its fingerprint (read with the session by
    ``session_polled_get``, else one query), and the rows themselves only when it changed since the last poll
    of anyone."""
    patient_for(user, session.patient, Permission.SESSION_VIEW)
    now = now or timezone.now()
    if not all(hasattr(session, f) for f in FINGERPRINT):
        row = fingerprinted(InfusionSession.objects.filter(pk=session.pk)).values(*FINGERPRINT).get()
        for name, value in row.items():
            setattr(session, name, value)
    key = poll_key("status", session)
    rows = cache.get(key)
    if not isinstance(rows, PollRows):
        rows = _status_rows(session)
        cache.set(key, rows, timeout=POLL_CACHE_SECONDS)
    doc = session.protocol_version.parsed
    remaining = None
    recovering = session.state == SessionState.RECOVERING
    if session.ended_at is not None and doc.discharge is not None and recovering:
        remaining = max(doc.discharge.observation_min - (now - session.ended_at).total_seconds() / 60.0, 0.0)
    return SessionStatus(
        session=session,
        delivery=bag_delivery(list(rows.points), now, rows.order),
        vitals_due=_due(session, rows.last_taken_at, now),
        open_alerts=list(rows.open_alerts),
        observation_remaining_min=remaining,
        safety_flags=list(rows.safety_flags),
        now=now,
    )


# --- the day board's rows ------------------------------------------------------------------------------


def board_rows(sessions: list[InfusionSession]) -> dict[int, PollRows]:
    """Each board session's rows (the sessions annotated by ``fingerprinted``), from the cache; the sessions
    whose fingerprint changed are read in four queries (pump events, readings, signed orders, open alerts),
    none when none changed."""
    keys = {s.pk: poll_key("board", s) for s in sessions}
    cached = cache.get_many(list(keys.values()))
    found = {pk: cached[k] for pk, k in keys.items() if isinstance(cached.get(k), PollRows)}
    missing = [s for s in sessions if s.pk not in found]
    if missing:
        ids = [s.pk for s in missing]
        events: dict[int, list[RateEvent]] = {}
        for e in RateEvent.objects.filter(session_id__in=ids).order_by("at", "id"):
            events.setdefault(e.session_id, []).append(e)
        readings: dict[int, list[VitalSigns]] = {}
        for v in VitalSigns.objects.filter(session_id__in=ids).order_by("taken_at", "id"):
            readings.setdefault(v.session_id, []).append(v)
        orders: dict[int, InfusionOrder] = {}
        for o in InfusionOrder.objects.filter(session_id__in=ids, signed_at__isnull=False):
            orders.setdefault(o.session_id, o)
        alerts: dict[int, list[VitalAlert]] = {}
        for a in VitalAlert.objects.filter(session_id__in=ids, acknowledged_at__isnull=True):
            alerts.setdefault(a.session_id, []).append(a)
        fresh = {}
        for s in missing:
            fresh[s.pk] = PollRows(
                points=_points(events.get(s.pk, [])),
                order=orders.get(s.pk),
                last_taken_at=last_complete_taken_at(
                    readings.get(s.pk, []), s.protocol_version.parsed.monitoring
                ),
                open_alerts=tuple(alerts.get(s.pk, [])),
            )
        cache.set_many({keys[pk]: r for pk, r in fresh.items()}, timeout=POLL_CACHE_SECONDS)
        found.update(fresh)
    return found


def board_row_parts(
    session: InfusionSession, rows: PollRows, now: datetime
) -> tuple[int, VitalsDue | None, Delivery]:
    """A board row's open alerts, vitals due and delivery at ``now``."""
    return (
        len(rows.open_alerts),
        _due(session, rows.last_taken_at, now),
        bag_delivery(list(rows.points), now, rows.order),
    )
