"""The request an audit entry comes from, carried in a context variable set by the middleware.

Services record entries without being handed the request; reads made while rendering one request are
collected here and written as one entry per patient when the response leaves (so browsing a chart
does not flood the chain).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""
    path: str = ""
    method: str = ""
    actor: Any = None
    # patient external id (str) or "" for list views -> list of what was read
    reads: dict[str, list[str]] = field(default_factory=dict)
    listed_patients: list[str] = field(default_factory=list)
    denial_recorded: bool = False
    shard: int = 0  # the audit shard this request appended to (it keeps to it)


current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("audit_request", default=None)


def request_context() -> RequestContext | None:
    return current.get()
