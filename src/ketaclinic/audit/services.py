"""Appending to the audit trail. Every write to a patient's record calls :func:`audit_record` inside
the same transaction, so a committed change always has its entry and a rolled-back one never does."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.audit.chain import GENESIS, entry_seal, sealed_fields
from ketaclinic.audit.context import request_context
from ketaclinic.audit.models import AuditChainHead, AuditEntry


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
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1, defaults={"entry_hash": GENESIS})
        entry = AuditEntry(
            seq=head.seq + 1,
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
        head.seq, head.entry_hash = entry.seq, entry.entry_hash
        head.save(update_fields=["seq", "entry_hash"])
    return entry


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
        audit_record(action=AuditEntry.Action.VIEW, summary=f"Listed {len(ids)} patients: {what}", detail={"patients": ids})
        return
    ctx.listed_patients.extend(i for i in ids if i not in ctx.listed_patients)
    ctx.reads.setdefault("", [])
    if what not in ctx.reads[""]:
        ctx.reads[""].append(what)


def audit_flush_reads() -> None:
    ctx = request_context()
    if ctx is None or not ctx.reads:
        return
    for key, items in ctx.reads.items():
        if key:
            audit_record(action=AuditEntry.Action.VIEW, summary="Viewed " + ", ".join(items), patient=key,
                         detail={"read": items})
        elif ctx.listed_patients:
            audit_record(
                action=AuditEntry.Action.VIEW,
                summary=f"Listed {len(ctx.listed_patients)} patients: " + ", ".join(items),
                detail={"read": items, "patients": ctx.listed_patients},
            )
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
    audit_record(action=AuditEntry.Action.DENIED, summary=f"{status} {reason}"[:300], patient=patient,
                 location_code=location_code, detail={"status": status})
