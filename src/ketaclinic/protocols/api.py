"""Protocol library API: the loaded versions and each document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocol_versions

router = Router(tags=["protocols"])


class ProtocolVersionOut(Schema):
    protocol_id: str
    version: int
    title: str
    status: str
    sha256: str
    loaded_at: datetime


@router.get("", response=list[ProtocolVersionOut])
def protocol_list(request: AuthedRequest) -> list[ProtocolVersion]:
    require(request.user, Permission.PROTOCOL_VIEW)
    return list(protocol_versions())


@router.get("/{protocol_id}/{version}", response=dict[str, Any])
def protocol_document(request: AuthedRequest, protocol_id: str, version: int) -> dict[str, Any]:
    require(request.user, Permission.PROTOCOL_VIEW)
    document: dict[str, Any] = ProtocolVersion.objects.get(protocol_id=protocol_id, version=version).document
    return document  # a protocol document is a mapping (parse_protocol refuses anything else)
