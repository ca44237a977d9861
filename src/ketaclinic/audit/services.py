"""Appending to the audit trail. Every write to a patient's record calls :func:`audit_record` inside
the same transaction, so a committed change always has its entry and a rolled-back one never does.

An append takes the head of a free shard (see :mod:`ketaclinic.audit.models`): on PostgreSQL the first
shard whose head is not locked, starting from the one this request used before; only when all sixteen are
busy does it wait. Reads are recorded once per request, and a read repeated by the same person within a few
minutes (a page's own polling) is not recorded again."""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, F, When
from django.utils import timezone

from ketaclinic.audit.chain import GENESIS, entry_seal, sealed_fields
from ketaclinic.audit.context import request_context
from ketaclinic.audit.models import AuditChainHead, AuditEntry

READ_MARKER_MARGIN_S = 30  # a read remembered in the cache is forgotten this long before its window ends


def _actor_label(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "anonymous"
    return f"{actor.username} ({actor.role})" if getattr(actor, "role", "") else actor.username


def audit_record(
    *,
    action: str,
    summary: str,
    actor: Any = None,
    patient: Any = None,
    detail: dict[str, Any] | None = None,
    location_code: str = "",
) -> AuditEntry:
    """Append one sealed entry. ``patient`` is a Patient or its external id."""
    ctx = request_context()
    if actor is None and ctx is not None:
        actor = ctx.actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    patient_id = getattr(patient, "external_id", patient)
    with transaction.atomic():
        head = _take_head(ctx)
        shard_seq = head.seq + 1
        entry = AuditEntry(
            seq=_next_seq(),
            shard=head.id,
            shard_seq=shard_seq,
            at=timezone.now(),
            actor=actor,
            actor_label=_actor_label(actor),
            action=action,
            summary=summary[:300],
            patient_external_id=patient_id,
            location_code=location_code,
            detail=detail or {},
            ip_address=ctx.ip_address if ctx else None,
            user_agent=(ctx.user_agent if ctx else "")[:300],
            path=(ctx.path if ctx else "")[:300],
            method=ctx.method if ctx else "",
            prev_hash=head.entry_hash,
        )
        # Seal what the database will give back (JSON round trip, microsecond datetimes).
        entry.entry_hash = entry_seal(head.entry_hash, sealed_fields(entry))
        entry.save(force_insert=True)
        head.seq, head.entry_hash = shard_seq, entry.entry_hash
        head.save(update_fields=["seq", "entry_hash"])
    return entry


def _shards() -> int:
    return int(getattr(settings, "KETACLINIC_AUDIT_SHARDS", 16))


def _take_head(ctx: Any) -> AuditChainHead:
    """Lock the head of a shard for this append: the one this request already holds or used, else the first
    free one from a starting point that differs between processes and threads."""
    n = _shards()
    preferred = (
        ctx.shard if ctx is not None and ctx.shard else (os.getpid() * 31 + threading.get_ident()) % n + 1
    )
    head = None
    if connection.features.has_select_for_update_skip_locked:
        ring = Case(When(id__gte=preferred, then=F("id") - preferred), default=F("id") + n - preferred)
        free = (
            AuditChainHead.objects.select_for_update(skip_locked=True)
            .filter(id__gte=1, id__lte=n)
            .order_by(ring)
        )
        head = free.first()
        if (
            head is None and AuditChainHead.objects.filter(id__gte=1, id__lte=n).count() < n
        ):  # a flushed test db
            audit_heads_ensure()
            head = free.first()
    if (
        head is None
    ):  # SQLite (writers are serialised), every shard busy, or heads not made yet (a flushed test db)
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=preferred, defaults={"entry_hash": GENESIS}
        )
    if ctx is not None:
        ctx.shard = head.id
    return head


def audit_heads_ensure() -> None:
    """Every shard's head exists (the migration makes them; a test database flushed between tests has
    none)."""
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(id=i, seq=0, entry_hash=GENESIS) for i in range(1, _shards() + 1)],
        ignore_conflicts=True,
    )


def _next_seq() -> int:
    """The clinic-wide order of entries: a sequence on PostgreSQL (no lock), the next number on SQLite (whose
    writers are serialised by the IMMEDIATE transaction the append runs in)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval('audit_entry_seq')")
        else:
            cursor.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_auditentry")
        return int(cursor.fetchone()[0])


def _read_marker(ctx: Any, patient_key: str, summary: str, detail: dict[str, Any]) -> str:
    what = repr((getattr(ctx.actor, "pk", None), patient_key, summary[:300], ctx.path[:300], detail))
    return "audit-read:" + hashlib.sha256(what.encode()).hexdigest()[:40]


def _read_recorded(
    ctx: Any, patient_key: str, summary: str, detail: dict[str, Any], since: Any = None
) -> None:
    """Remember, once the entry (recorded now, or ``since``) is committed, that this read is in the trail for
    the rest of its window less a margin: the polls that repeat it meanwhile need not look for it."""
    minutes = int(getattr(settings, "KETACLINIC_AUDIT_READ_REPEAT_MINUTES", 5))
    if ctx.actor is None or minutes <= 0:
        return
    marker = _read_marker(ctx, patient_key, summary, detail)
    age = (timezone.now() - since).total_seconds() if since is not None else 0.0
    seconds = int(minutes * 60 - age - READ_MARKER_MARGIN_S)
    if seconds > 0:
        transaction.on_commit(lambda: cache.set(marker, 1, timeout=seconds))


def _read_recently(ctx: Any, patient_key: str, summary: str, detail: dict[str, Any]) -> bool:
    """The same person saw the same thing of the same record at the same address a moment ago (a page
    polling): one entry is enough. Known from the cache when this process or another recorded it (no query),
    else looked for in the trail."""
    actor = ctx.actor
    minutes = int(getattr(settings, "KETACLINIC_AUDIT_READ_REPEAT_MINUTES", 5))
    if actor is None or not getattr(actor, "is_authenticated", False) or minutes <= 0:
        return False
    if cache.get(_read_marker(ctx, patient_key, summary, detail)):
        return True
    now = timezone.now()
    at = (
        AuditEntry.objects.filter(
            actor=actor,
            action=AuditEntry.Action.VIEW,
            at__gte=now - timedelta(minutes=minutes),
            patient_external_id=patient_key or None,
            summary=summary[:300],
            path=ctx.path[:300],
            detail=detail,
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    if at is None:
        return False
    _read_recorded(ctx, patient_key, summary, detail, since=at)
    return True


def audit_read(patient: Any, what: str) -> None:
    """Note that the current request showed ``what`` of ``patient``'s record; flushed once per request."""
    ctx = request_context()
    key = str(getattr(patient, "external_id", patient))
    if ctx is None:  # outside a request (a command): record at once
        audit_record(action=AuditEntry.Action.VIEW, summary=f"Viewed {what}", patient=key)
        return
    items = ctx.reads.setdefault(key, [])
    if what not in items:
        items.append(what)


def audit_list(patients: Any, what: str) -> None:
    """Note that the current request listed these patients (search results, lists)."""
    ctx = request_context()
    ids = [str(getattr(p, "external_id", p)) for p in patients]
    if ctx is None:
        audit_record(
            action=AuditEntry.Action.VIEW,
            summary=f"Listed {len(ids)} patients: {what}",
            detail={"patients": ids},
        )
        return
    ctx.listed_patients.extend(i for i in ids if i not in ctx.listed_patients)
    ctx.reads.setdefault("", [])
    if what not in ctx.reads[""]:
        ctx.reads[""].append(what)


def audit_flush_reads() -> None:
    ctx = request_context()
    if ctx is None or not ctx.reads:
        return
    if not getattr(settings, "KETACLINIC_AUDIT_READS", True):  # only for measuring what auditing reads costs
        ctx.reads.clear()
        ctx.listed_patients.clear()
        return
    for key, items in ctx.reads.items():
        if key:
            summary = "Viewed " + ", ".join(items)
            detail: dict[str, Any] = {"read": items}
            if not _read_recently(ctx, key, summary, detail):
                audit_record(action=AuditEntry.Action.VIEW, summary=summary, patient=key, detail=detail)
                _read_recorded(ctx, key, summary, detail)
        elif ctx.listed_patients:
            summary = f"Listed {len(ctx.listed_patients)} patients: " + ", ".join(items)
            detail = {"read": items, "patients": list(ctx.listed_patients)}
            if not _read_recently(ctx, "", summary, detail):
                audit_record(action=AuditEntry.Action.VIEW, summary=summary, detail=detail)
                _read_recorded(ctx, "", summary, detail)
    ctx.reads.clear()
    ctx.listed_patients.clear()


def audit_denied(*, reason: str, status: int, patient: Any = None, location_code: str = "") -> None:
    """Record a refused request once (the first refusal of a request wins; the middleware's catch-all
    comes last)."""
    ctx = request_context()
    if ctx is not None:
        if ctx.denial_recorded:
            return
        ctx.denial_recorded = True
    audit_record(
        action=AuditEntry.Action.DENIED,
        summary=f"{status} {reason}"[:300],
        patient=patient,
        location_code=location_code,
        detail={"status": status},
    )


ANONYMOUS_WINDOW_MINUTES = 10
ANONYMOUS_MILESTONES = (10, 100, 1000, 10000, 100000)


def audit_anonymous_refusal(kind: str, summary: str) -> None:
    """A refusal no patient's record is behind (an unknown link, a rate limit), from an anonymous address:
    the first from that address in a ten-minute window is an entry, and so are the 10th, 100th, 1000th...
    with the count, so that someone guessing links cannot flood the trail, and the trail still shows them."""
    ctx = request_context()
    if ctx is not None:
        ctx.denial_recorded = True  # this is the request's refusal: the middleware adds no entry of its own
    ip = (ctx.ip_address if ctx else None) or "unknown"
    window = int(timezone.now().timestamp() // (ANONYMOUS_WINDOW_MINUTES * 60))
    key = f"ketaclinic:anon-refusals:{kind}:{ip}:{window}"
    if cache.add(key, 1, timeout=ANONYMOUS_WINDOW_MINUTES * 60 + 60):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=ANONYMOUS_WINDOW_MINUTES * 60 + 60)
            count = 1
    if count == 1:
        audit_record(
            action=AuditEntry.Action.DENIED,
            summary=f"{summary} (first from this address in "
            f"{ANONYMOUS_WINDOW_MINUTES} minutes; later ones are counted)",
            detail={"kind": kind, "count": 1, "window_minutes": ANONYMOUS_WINDOW_MINUTES},
        )
    elif count in ANONYMOUS_MILESTONES:
        audit_record(
            action=AuditEntry.Action.DENIED,
            summary=f"{summary}: {count} from this address within {ANONYMOUS_WINDOW_MINUTES} minutes",
            detail={"kind": kind, "count": count, "window_minutes": ANONYMOUS_WINDOW_MINUTES},
        )
