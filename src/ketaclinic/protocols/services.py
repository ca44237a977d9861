"""Loading protocol versions: validated, never overwritten, each new version strictly newer."""

from __future__ import annotations

from django.db import transaction

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.signals import due_inputs_changed
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ProtocolError
from ketaclinic.core.protocols import ProtocolDocument
from ketaclinic.protocols.files import shipped_protocols
from ketaclinic.protocols.models import ProtocolVersion

VERSION_CHANGED = (
    "Protocol {id} v{version} is already loaded with different "
    "content; raise the version number to load a change."
)
VERSION_NOT_NEWER = "Protocol {id} v{version} is older than the loaded v{latest}; versions only go up."


@transaction.atomic
def protocol_load(
    *, document: ProtocolDocument, user: User | None, source_name: str = ""
) -> tuple[ProtocolVersion, bool]:
    """Store a protocol version. Returns (version, created). Loading identical content again is a no-op;
    a changed document under an existing version number, or an older version, is refused."""
    if user is not None:
        require(user, Permission.PROTOCOL_LOAD)
    existing = ProtocolVersion.objects.select_for_update().filter(protocol_id=document.id)
    same = existing.filter(version=document.version).first()
    digest = document.sha256()
    if same is not None:
        if same.sha256 != digest:
            raise ProtocolError(
                VERSION_CHANGED.format(id=document.id, version=document.version), value=document.id
            )
        return same, False
    latest = existing.order_by("-version").first()
    if latest is not None and latest.version > document.version:
        raise ProtocolError(
            VERSION_NOT_NEWER.format(id=document.id, version=document.version, latest=latest.version),
            value=document.id,
        )
    row = ProtocolVersion.objects.create(
        protocol_id=document.id,
        version=document.version,
        title=document.title,
        status=document.status,
        document=document.model_dump(mode="json"),
        sha256=digest,
        source_name=source_name,
        loaded_by=user,
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        summary=f"Loaded protocol {document.id} v{document.version}",
        detail={"sha256": digest},
    )
    # a newer version may become the current protocol of an indication: the schedules that follow it
    due_inputs_changed.send(sender=ProtocolVersion, indication_settings=True)
    return row, True


def protocols_load_shipped() -> list[ProtocolVersion]:
    """Load every protocol ketaclinic ships (idempotent)."""
    return [
        protocol_load(document=d, user=None, source_name=f"shipped:{d.id}.yaml")[0]
        for d in shipped_protocols().values()
    ]
