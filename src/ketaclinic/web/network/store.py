"""Writing a synthetic network in bulk: keys handed out in advance, rows written in large batches.

Every row gets its key before it is written (a block taken from the table's sequence on PostgreSQL, the
next free numbers on SQLite), so children can point at parents without reading anything back. The rows
are Django model instances, turned into column values by the fields themselves (``pre_save`` and
``get_db_prep_save``, as Django's own INSERT does), then sent with PostgreSQL ``COPY`` through psycopg
or one prepared INSERT run over a batch on SQLite. Audit entries are sealed into the
trail's chains here, in time order, exactly as :func:`ketaclinic.audit.services.audit_record` seals
one (same fields, same keyed hash), so ``audit_verify`` checks them like any other.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from ketaclinic.audit.chain import GENESIS, entry_seal, sealed_fields
from ketaclinic.audit.models import AuditChainHead, AuditEntry
from ketaclinic.audit.services import _actor_label, _shards, audit_heads_ensure

BATCH = 20_000
AUDIT_BATCH = 16_000  # a thousand steps per head and transaction


def _pg() -> bool:
    return connection.vendor == "postgresql"


def keys_take(model: type[models.Model], n: int) -> range:
    """``n`` fresh primary keys for ``model``, reserved so no other insert takes them."""
    table = model._meta.db_table
    if n <= 0:
        return range(0)
    with connection.cursor() as cur:
        if _pg():
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            seq = cur.fetchone()[0]
            cur.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [seq, seq, n])
            last = int(cur.fetchone()[0])
        else:  # the larger of the last key handed out (rows may still wait to be written) and the last used
            cur.execute(
                f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table}), 0))",
                [table],
            )
            last = int(cur.fetchone()[0]) + n
            cur.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
            cur.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, last])
    return range(last - n + 1, last + 1)


def _audit_seqs(n: int) -> range:
    """``n`` places in the trail's clinic-wide order (the ``audit_entry_seq`` sequence on PostgreSQL)."""
    with connection.cursor() as cur:
        if _pg():
            cur.execute("SELECT setval('audit_entry_seq', nextval('audit_entry_seq') + %s - 1)", [n])
            last = int(cur.fetchone()[0])
        else:
            cur.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditentry")
            last = int(cur.fetchone()[0]) + n
    return range(last - n + 1, last + 1)


@dataclass
class AuditEvent:
    at: datetime
    actor: Any
    action: str
    summary: str
    patient: Any = None  # external id
    location_code: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class Store:
    """Rows waiting to be written, by model, flushed in batches; counts and seconds per table."""

    def __init__(self) -> None:
        self.pending: dict[type[models.Model], list[Any]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.audit: list[AuditEvent] = []
        self.keys: dict[type[models.Model], list[int]] = defaultdict(list)

    def add(self, obj: models.Model) -> models.Model:
        """Queue ``obj``, giving it its key now (so the rows made after it can point at it)."""
        if obj.pk is None:
            free = self.keys[type(obj)]
            if not free:
                free.extend(reversed(keys_take(type(obj), 5000)))
            obj.pk = free.pop()
        rows = self.pending[type(obj)]
        rows.append(obj)
        if len(rows) >= BATCH:
            self.flush(type(obj))
        return obj

    def add_row(self, model: type[models.Model], **columns: Any) -> int:
        """Queue a plain row of ``model`` (every column by its attribute name, ``session_id`` for a key),
        for the largest tables, where making a model instance per row would cost more than the rest; returns
        its key."""
        free = self.keys[model]
        if not free:
            free.extend(reversed(keys_take(model, 5000)))
        columns["id"] = free.pop()
        rows = self.pending[model]
        rows.append(SimpleNamespace(**columns))
        if len(rows) >= BATCH:
            self.flush(model)
        return int(columns["id"])

    def flush(self, model: type[models.Model] | None = None) -> None:
        """Write what is waiting (for one model, or for all in the order they were first added)."""
        for m in [model] if model else list(self.pending):
            rows = self.pending.pop(m, [])
            if rows:
                t0 = time.perf_counter()
                rows_write(m, rows)
                self.counts[m._meta.label] += len(rows)
                self.seconds[m._meta.label] += time.perf_counter() - t0

    def audit_add(self, event: AuditEvent) -> None:
        self.audit.append(event)

    def audit_seal(self) -> int:
        """Seal the collected events into the trail's chains, oldest first; returns how many."""
        events = sorted(self.audit, key=lambda e: e.at)
        self.audit = []
        t0 = time.perf_counter()
        n = audit_chains_append(events)
        self.counts[AuditEntry._meta.label] += n
        self.seconds[AuditEntry._meta.label] += time.perf_counter() - t0
        return n


def _value(f: models.Field[Any, Any], obj: models.Model) -> Any:
    """The column value as Django's INSERT makes it, except that a time given on the row (``created_at``,
    ``recorded_at`` of a past event) is kept rather than replaced by the time of writing."""
    given = getattr(obj, f.attname)
    if given is not None and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
        return f.get_db_prep_save(given, connection)
    return f.get_db_prep_save(f.pre_save(obj, True), connection)


def _values(fields: list[models.Field[Any, Any]], obj: models.Model) -> list[Any]:
    return [_value(f, obj) for f in fields]


def _copy_values(fields: list[models.Field[Any, Any]], obj: models.Model) -> list[Any]:
    """The row for COPY: psycopg adapts the Python values itself (times, decimals, UUIDs); JSON is wrapped,
    and an automatic time not given is the time of writing."""
    out = []
    for f in fields:
        v = getattr(obj, f.attname)
        if isinstance(f, models.JSONField):
            v = None if v is None and f.null else Jsonb(v)
        elif v is None and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
            v = timezone.now()
        out.append(v)
    return out


def rows_write(model: type[models.Model], rows: list[Any]) -> None:
    """Insert ``rows`` (keys already set): COPY on PostgreSQL, one prepared INSERT run over them elsewhere."""
    fields = list(model._meta.concrete_fields)
    cols = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    if not _pg():
        marks = ", ".join(["%s"] * len(fields))
        with connection.cursor() as c:
            c.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})",  # noqa: S608 - the model's own columns
                [_values(fields, o) for o in rows],
            )
        return
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None  # ensure_connection made it
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for obj in rows:
            copy.write_row(_copy_values(fields, obj))


def audit_chains_append(events: Iterable[AuditEvent]) -> int:
    """Append sealed entries for ``events`` to the trail, spread over its shards, in transactions of
    ``AUDIT_BATCH`` entries, each holding every head's lock and leaving every head at its shard's last entry
    (the generator runs alone on its database; an audited request would wait, never break a chain).

    Batches, not one transaction: a head moved forward many thousand times in one transaction leaves as
    many versions of its row for every later step to walk past (the steps grew quadratic: 300 s for 400,000
    entries); committed batches let PostgreSQL prune them."""
    events = list(events)
    for start in range(0, len(events), AUDIT_BATCH):
        with transaction.atomic():
            _audit_batch(events[start : start + AUDIT_BATCH])
    return len(events)


def _audit_batch(events: list[AuditEvent]) -> None:
    if not events:
        return
    audit_heads_ensure()
    heads = {h.id: h for h in AuditChainHead.objects.select_for_update().filter(id__gte=1, id__lte=_shards())}
    was = {h.id: h.seq for h in heads.values()}
    order = sorted(heads)
    seqs = _audit_seqs(len(events))
    rows: list[Any] = []
    for i, (e, seq) in enumerate(zip(events, seqs, strict=True)):
        head = heads[order[i % len(order)]]
        entry = SimpleNamespace(
            seq=seq,
            shard=head.id,
            shard_seq=head.seq + 1,
            at=e.at.astimezone(UTC),
            actor_id=None if e.actor is None else e.actor.pk,
            actor_label=_actor_label(e.actor),
            action=e.action,
            summary=e.summary[:300],
            patient_external_id=e.patient,
            location_code=e.location_code,
            detail=e.detail,
            ip_address=None,
            user_agent="",
            path="",
            method="",
            prev_hash=head.entry_hash or GENESIS,
        )
        entry.entry_hash = entry_seal(entry.prev_hash, sealed_fields(entry))
        entry.id = None
        head.seq, head.entry_hash = entry.shard_seq, entry.entry_hash
        rows.append(entry)
    _audit_rows_write(rows)
    for head in heads.values():
        _head_forward(head.id, was[head.id], head.seq)


def _head_forward(shard: int, old: int, new: int) -> None:
    """Move a shard's head from ``old`` to ``new`` one entry at a time, as the database's guard on the heads
    demands (each step to an entry that exists), inside the database on PostgreSQL."""
    if new <= old:
        return
    with connection.cursor() as cur:
        if _pg():
            shard, old, new = int(shard), int(old), int(new)  # plain integers in the block below
            cur.execute(
                f"DO $$ BEGIN FOR s IN {old + 1}..{new} LOOP "  # noqa: S608 - integers only
                "UPDATE audit_auditchainhead SET seq = s, "
                "entry_hash = (SELECT entry_hash FROM audit_auditentry "
                f"WHERE shard = {shard} AND shard_seq = s) WHERE id = {shard}; END LOOP; END $$;"
            )
            return
        cur.executemany(
            "UPDATE audit_auditchainhead SET seq = %s, entry_hash = (SELECT entry_hash FROM audit_auditentry "
            "WHERE shard = %s AND shard_seq = %s) WHERE id = %s",
            [(s, shard, s, shard) for s in range(old + 1, new + 1)],
        )


def _audit_rows_write(rows: list[Any]) -> None:
    if not rows:
        return
    ids = keys_take(AuditEntry, len(rows))
    for obj, pk in zip(rows, ids, strict=True):
        obj.id = pk
    rows_write(AuditEntry, rows)
