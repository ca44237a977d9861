"""Signed checkpoints of the audit trail, kept outside the database.

A checkpoint is what a Certificate Transparency log calls a signed tree head, for our sixteen chains: for
every shard, how many entries it holds and the seal of its last one, with the time and the trail's size,
signed (HMAC-SHA256 with the audit key). ``ketaclinic manage audit_checkpoint`` takes one and hands it to
every configured sink; by default a file of one JSON line per checkpoint (``var/audit-checkpoints.jsonl``),
or syslog, or any class with ``write(checkpoint)`` and ``last()``.

Against the last checkpoint, ``audit_verify`` finds what the chains alone cannot: entries cut off the end
of a shard (with its head wound back), and a shard re-sealed from an edited entry onwards (even with the
key: the seal at the checkpoint's place changes). Reading the heads takes no lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from ketaclinic.audit.chain import audit_key
from ketaclinic.audit.models import AuditChainHead


@dataclass(frozen=True)
class Checkpoint:
    at: str
    size: int
    heads: dict[str, list[Any]]  # shard (as text) -> [entries in the shard, seal of the last]
    signature: str = ""

    def body(self) -> str:
        return json.dumps(
            {"at": self.at, "size": self.size, "heads": self.heads}, sort_keys=True, separators=(",", ":")
        )

    def signed(self) -> Checkpoint:
        return Checkpoint(self.at, self.size, self.heads, _sign(self.body()))

    def valid(self) -> bool:
        return hmac.compare_digest(self.signature, _sign(self.body()))

    def line(self) -> str:
        return json.dumps(
            {"at": self.at, "size": self.size, "heads": self.heads, "signature": self.signature},
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        data = json.loads(line)
        return cls(
            str(data["at"]),
            int(data["size"]),
            {str(k): list(v) for k, v in data["heads"].items()},
            str(data.get("signature", "")),
        )

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.at)


def _sign(body: str) -> str:
    return hmac.new(audit_key(), b"checkpoint|" + body.encode(), hashlib.sha256).hexdigest()


def checkpoint_take() -> Checkpoint:
    shards = [h for h in AuditChainHead.objects.order_by("id") if h.seq]
    heads: dict[str, list[Any]] = {str(h.id): [h.seq, h.entry_hash] for h in shards}
    return Checkpoint(timezone.now().isoformat(), sum(h.seq for h in shards), heads).signed()


class Sink(Protocol):
    def write(self, checkpoint: Checkpoint) -> None: ...
    def last(self) -> Checkpoint | None: ...


class FileSink:
    """One JSON line per checkpoint, appended and flushed to disk. Keep the file where the database's
    administrators cannot rewrite it (another host, a write-once bucket, a log shipper)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path or settings.KETACLINIC_AUDIT_CHECKPOINT_FILE)

    def write(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(checkpoint.line() + "\n")
            f.flush()
            os.fsync(f.fileno())

    def last(self) -> Checkpoint | None:
        if not self.path.exists():
            return None
        lines = [ln for ln in self.path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        return Checkpoint.from_line(lines[-1]) if lines else None


class SyslogSink:
    """Sends each checkpoint to syslog (``/dev/log`` or a host and port); reading back is the log server's."""

    def __init__(self, address: str | tuple[str, int] = "/dev/log") -> None:
        self.logger = logging.getLogger("ketaclinic.audit.checkpoint")
        if not any(isinstance(h, logging.handlers.SysLogHandler) for h in self.logger.handlers):
            self.logger.addHandler(logging.handlers.SysLogHandler(address=address))

    def write(self, checkpoint: Checkpoint) -> None:
        self.logger.warning("ketaclinic audit checkpoint %s", checkpoint.line())

    def last(self) -> Checkpoint | None:
        return None


def sinks() -> list[Sink]:
    made: list[Sink] = []
    for spec in settings.KETACLINIC_AUDIT_CHECKPOINT_SINKS:
        kwargs: dict[str, Any]
        path, kwargs = (spec, {}) if isinstance(spec, str) else (spec[0], dict(spec[1]))
        made.append(import_string(path)(**kwargs))
    return made


def checkpoint_export() -> Checkpoint:
    checkpoint = checkpoint_take()
    for sink in sinks():
        sink.write(checkpoint)
    return checkpoint


def checkpoint_last() -> Checkpoint | None:
    """The newest checkpoint any sink can give back."""
    found = [c for c in (s.last() for s in sinks()) if c is not None]
    return max(found, key=lambda c: (c.when, c.size)) if found else None
