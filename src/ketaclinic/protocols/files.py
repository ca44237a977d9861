"""Reading protocol documents from files (YAML or JSON). No Django here: the CLI uses it too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.protocols import ProtocolDocument, parse_protocol

LIBRARY_DIR = Path(__file__).with_name("library")


def protocol_file_read(path: str | Path) -> ProtocolDocument:
    """Parse and validate one protocol file, refusing it with the file and the problems named."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProtocolError(f"Cannot read protocol file {path}: {exc.strerror}.", value=str(path)) from None
    except yaml.YAMLError as exc:
        raise ProtocolError(f"Protocol file {path} is not valid YAML: {exc}.", value=str(path)) from None
    try:
        return parse_protocol(data)
    except ProtocolError as exc:
        raise ProtocolError(f"{path.name}: {exc.message}", value=str(path)) from None


def shipped_protocols() -> dict[str, ProtocolDocument]:
    """Every protocol shipped in ``library/``, by id: read and validated again only when a file changed
    (its name, size or modification time; the validated documents are frozen, so they are shared)."""
    paths = sorted(LIBRARY_DIR.glob("*.yaml"))
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    if _SHIPPED.get("stamp") != stamp:
        docs = [protocol_file_read(p) for p in paths]
        _SHIPPED.update(stamp=stamp, docs={d.id: d for d in docs})
    return dict(_SHIPPED["docs"])


_SHIPPED: dict[str, Any] = {}  # the library's files' stamp and their validated documents


def shipped_protocol(protocol_id: str) -> ProtocolDocument:
    docs = shipped_protocols()
    try:
        return docs[protocol_id]
    except KeyError:
        raise ProtocolError(
            f"Unknown protocol {protocol_id!r}: shipped protocols are {', '.join(sorted(docs))}.",
            field="protocol",
            value=protocol_id,
        ) from None
