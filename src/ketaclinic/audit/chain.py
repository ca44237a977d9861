"""The seal of an audit entry: HMAC-SHA256 over its canonical content and the previous seal."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

GENESIS = "0" * 64


def audit_key() -> bytes:
    key = settings.KETACLINIC_AUDIT_KEY or settings.SECRET_KEY
    return key.encode()


def entry_content(fields: dict[str, Any]) -> str:
    """The canonical JSON of the fields that are sealed (everything but the seals themselves)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def entry_seal(prev_hash: str, fields: dict[str, Any]) -> str:
    message = (prev_hash + "|" + entry_content(fields)).encode()
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def sealed_fields(entry: Any) -> dict[str, Any]:
    """The sealed content of a stored entry, exactly as it was at append time."""
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "summary": entry.summary,
        "patient": str(entry.patient_external_id) if entry.patient_external_id else None,
        "location": entry.location_code,
        "detail": entry.detail,
        "ip": entry.ip_address,
        "user_agent": entry.user_agent,
        "path": entry.path,
        "method": entry.method,
    }
