from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from ketaclinic.core.access import Permission


def staff_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    perms: dict[str, bool] = {}
    if user is not None and user.is_authenticated:
        perms = {p.name.lower(): user.can(p) for p in Permission}
    return {"perms_": perms, "idle_logout_seconds": settings.KETACLINIC_IDLE_LOGOUT_SECONDS}
