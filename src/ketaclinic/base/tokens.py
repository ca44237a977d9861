"""One-time link tokens (questionnaire and consent links): the patient's link carries the token, the
database keeps only its SHA-256, so a copy of the database opens no link. Nor does the audit trail or a
server log: the address of a link is kept with its token masked (``path_for_records``)."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32  # 256 bits of randomness, 43 URL-safe characters


def token_new() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The addresses whose second part is a patient's link token (questionnaire, consent, statement, preparation,
# calendar feed): tests/outcomes/test_links.py checks every URL pattern with a token is matched here.
TOKEN_PATHS = ("q", "statement", "prep", "cal", "consent/sign")
_TOKEN_IN_PATH = re.compile(r"^(/(?:" + "|".join(re.escape(p) for p in TOKEN_PATHS) + r")/)[^/]+")
MASKED = "[link]"


def path_for_records(path: str) -> str:
    """The address as the audit trail and the logs keep it: a link's token replaced by ``[link]``."""
    return _TOKEN_IN_PATH.sub(lambda m: m.group(1) + MASKED, path, count=1)


_TOKEN_IN_TEXT = re.compile(r"(/(?:" + "|".join(re.escape(p) for p in TOKEN_PATHS) + r")/)[A-Za-z0-9_-]{16,}")


def text_for_records(text: str) -> str:
    """A log message with any link address in it masked the same way (Django's "Forbidden: /q/...")."""
    return _TOKEN_IN_TEXT.sub(lambda m: m.group(1) + MASKED, text)
