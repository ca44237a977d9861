"""Reading protocol versions."""

from __future__ import annotations

from django.db.models import QuerySet

from ketaclinic.core.errors import ProtocolError
from ketaclinic.protocols.models import ProtocolVersion

NO_ACTIVE_PROTOCOL = "No active protocol covers {indication}; load one first."


def protocol_versions() -> QuerySet[ProtocolVersion]:
    return ProtocolVersion.objects.select_related("loaded_by").order_by("protocol_id", "-version")


def protocols_current() -> list[ProtocolVersion]:
    """The newest active version of each protocol."""
    seen: dict[str, ProtocolVersion] = {}
    for pv in ProtocolVersion.objects.filter(status="active").order_by("protocol_id", "-version"):
        seen.setdefault(pv.protocol_id, pv)
    return list(seen.values())


def protocol_for_indication(indication: str) -> ProtocolVersion:
    """The current protocol covering an indication (the first by id when several do)."""
    for pv in protocols_current():
        if indication in pv.parsed.indications:
            return pv
    raise ProtocolError(
        NO_ACTIVE_PROTOCOL.format(indication=indication), field="indication", value=indication
    )
