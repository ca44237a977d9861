"""One-time link tokens (questionnaire and consent links): the patient's link carries the token, the
database keeps only its SHA-256, so a copy of the database opens no link."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits of randomness, 43 URL-safe characters


def token_new() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
