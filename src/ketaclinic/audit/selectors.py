"""Reading and verifying the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from ketaclinic.audit.chain import GENESIS, entry_seal, sealed_fields
from ketaclinic.audit.models import AuditChainHead, AuditEntry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def audit_entries(*, action: str = "", patient_external_id: str = "", actor_id: int | None = None) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.select_related("actor").order_by("-seq")
    if action:
        qs = qs.filter(action=action)
    if patient_external_id:
        qs = qs.filter(patient_external_id=patient_external_id)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    return qs


def audit_chain_verify(batch_size: int = 2000) -> tuple[int, list[ChainProblem]]:
    """Walk the whole chain in order; return the number of entries checked and every problem found."""
    problems: list[ChainProblem] = []
    prev_hash, expected_seq, count = GENESIS, 1, 0
    entries: Iterator[AuditEntry] = AuditEntry.objects.order_by("seq").iterator(chunk_size=batch_size)
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            problems.append(ChainProblem(entry.seq, f"sequence gap: expected #{expected_seq}"))
        if entry.prev_hash != prev_hash:
            problems.append(ChainProblem(entry.seq, "link broken: prev_hash does not match the entry before"))
        if entry_seal(entry.prev_hash, sealed_fields(entry)) != entry.entry_hash:
            problems.append(ChainProblem(entry.seq, "seal mismatch: the entry was altered after it was written"))
        prev_hash, expected_seq = entry.entry_hash, entry.seq + 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None and count:
        problems.append(ChainProblem(expected_seq - 1, "head missing: the chain's head record was removed"))
    if head is not None and (head.seq, head.entry_hash) != (expected_seq - 1, prev_hash):
        problems.append(ChainProblem(head.seq, "head mismatch: entries were removed from the end of the chain"))
    return count, problems
