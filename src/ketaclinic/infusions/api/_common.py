"""What the infusion API's operations share: the router they are registered on, the session they act on, a
MAR entry as the API gives it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ninja import Router

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.core.access import Permission
from ketaclinic.infusions import selectors
from ketaclinic.infusions.models import InfusionSession

router = Router(tags=["infusion sessions"])


def _session(request: AuthedRequest, external_id: UUID, permission: Permission) -> InfusionSession:
    return selectors.session_get(user=request.user, external_id=str(external_id), permission=permission)


def _mar(e: selectors.MarEntry) -> dict[str, Any]:
    return {
        "session": e.session.external_id,
        "medication": e.medication,
        "rxnorm": e.rxnorm,
        "dose": e.dose,
        "unit": e.unit,
        "route": e.route,
        "at": e.at,
        "ended_at": e.ended_at,
        "given_by": e.given_by,
        "reason": e.reason,
        "rates": [{**r, "at": r["at"].isoformat()} for r in e.rates],
    }
