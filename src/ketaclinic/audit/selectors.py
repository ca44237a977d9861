"""Reading and verifying the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce

from ketaclinic.audit.chain import GENESIS, entry_seal, sealed_fields
from ketaclinic.audit.checkpoints import Checkpoint
from ketaclinic.audit.models import AuditChainHead, AuditEntry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def audit_entries(
    *, action: str = "", patient_external_id: str = "", actor_id: int | None = None
) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.select_related("actor").order_by("-seq")
    if action:
        qs = qs.filter(action=action)
    if patient_external_id:
        qs = qs.filter(patient_external_id=patient_external_id)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    return qs


@dataclass(frozen=True)
class AuditPage:
    """One page of the trail, newest first, and where the pages beside it start: ``newer`` is the ``after``
    and ``older`` the ``before`` of the links (None: no such page). Pages are cut by ``seq`` (keyset), so a
    page reads its 50 rows and one more on the ``seq`` index, and never counts the trail."""

    entries: list[AuditEntry]
    newer: int | None
    older: int | None


def audit_page(
    entries: QuerySet[AuditEntry], *, before: int | None = None, after: int | None = None, size: int = 50
) -> AuditPage:
    """The page of ``entries`` (ordered newest first) just older than ``before``, or just newer than
    ``after``, or the newest."""
    if after is not None:
        rows = list(entries.filter(seq__gt=after).order_by("seq")[: size + 1])
        more = len(rows) > size
        rows = rows[:size][::-1]
        return AuditPage(rows, rows[0].seq if more and rows else None, rows[-1].seq if rows else None)
    rows = list((entries.filter(seq__lt=before) if before is not None else entries)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return AuditPage(
        rows, rows[0].seq if before is not None and rows else None, rows[-1].seq if more and rows else None
    )


def audit_chain_verify(
    batch_size: int = 2000, checkpoint: Checkpoint | None = None
) -> tuple[int, list[ChainProblem]]:
    """Walk every shard's chain in order; return the number of entries checked and every problem found.

    Each entry must sit at the next place of its shard, link to the seal before it and carry its own seal;
    each shard's head must name its last entry. Given a checkpoint (exported outside the database), each
    shard must still hold, at the checkpoint's place, the entry whose seal the checkpoint recorded."""
    problems: list[ChainProblem] = []
    count = 0
    walked: dict[int, tuple[int, str, int]] = {}  # shard -> (entries, last seal, last entry's seq)
    marks = {int(k): (int(v[0]), str(v[1])) for k, v in checkpoint.heads.items()} if checkpoint else {}
    if checkpoint is not None and not checkpoint.valid():
        problems.append(
            ChainProblem(
                0, f"checkpoint forged: the checkpoint of {checkpoint.at} is not signed with the audit key"
            )
        )
        marks = {}
    entries: Iterator[AuditEntry] = (
        AuditEntry.objects.annotate(in_shard=Coalesce("shard", Value(1)), place=Coalesce("shard_seq", "seq"))
        .order_by("in_shard", "place")
        .iterator(chunk_size=batch_size)
    )
    shard, prev_hash, expected = 0, GENESIS, 1
    for entry in entries:
        count += 1
        entry_shard, place = entry.chain
        if entry_shard != shard:
            if shard:
                walked[shard] = (expected - 1, prev_hash, walked.get(shard, (0, "", 0))[2])
            shard, prev_hash, expected = entry_shard, GENESIS, 1
        if place != expected:
            problems.append(
                ChainProblem(
                    entry.seq, f"sequence gap: expected place {expected} of shard {shard}, found {place}"
                )
            )
        if entry.prev_hash != prev_hash:
            problems.append(ChainProblem(entry.seq, "link broken: prev_hash does not match the entry before"))
        if entry_seal(entry.prev_hash, sealed_fields(entry)) != entry.entry_hash:
            problems.append(
                ChainProblem(entry.seq, "seal mismatch: the entry was altered after it was written")
            )
        mark = marks.get(shard)
        if mark is not None and place == mark[0] and entry.entry_hash != mark[1]:
            problems.append(
                ChainProblem(
                    entry.seq,
                    f"re-sealed: the entry at place {place} of shard {shard} is not the one "
                    f"the checkpoint of {checkpoint.at if checkpoint else ''} recorded",
                )
            )
        prev_hash, expected = entry.entry_hash, place + 1
        walked[shard] = (place, prev_hash, entry.seq)
    if shard:
        walked[shard] = (expected - 1, prev_hash, walked[shard][2])
    heads = {h.id: h for h in AuditChainHead.objects.all()}
    for s, (size, last_hash, last_seq) in sorted(walked.items()):
        head = heads.get(s)
        if head is None:
            problems.append(ChainProblem(last_seq, f"head missing: the head of shard {s} was removed"))
        elif (head.seq, head.entry_hash) != (size, last_hash):
            problems.append(
                ChainProblem(head.seq, f"head mismatch: entries were removed from the end of shard {s}")
            )
    for s, head in sorted(heads.items()):
        if s not in walked and (head.seq, head.entry_hash) != (0, GENESIS):
            problems.append(ChainProblem(head.seq, f"head mismatch: every entry of shard {s} was removed"))
    for s, (size, _) in sorted(marks.items()):
        held = walked.get(s, (0, "", 0))[0]
        if held < size:
            problems.append(
                ChainProblem(
                    walked.get(s, (0, "", 0))[2],
                    f"cut: shard {s} ends at place {held} but the checkpoint "
                    f"of {checkpoint.at if checkpoint else ''} saw {size} entries",
                )
            )
    return count, problems
