"""The core's error family.

Every refusal carries the field, the offending value and the allowed range, so the web layer can show a
nurse a sentence instead of a stack trace.
"""

from __future__ import annotations

from typing import Any


class DomainError(ValueError):
    """Base class for every refusal the core makes."""

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value

    def __str__(self) -> str:
        return self.message


class ValidationError(DomainError):
    """A value outside its allowed range or of the wrong kind."""


class ProtocolError(DomainError):
    """A protocol document that does not follow the protocol schema."""
