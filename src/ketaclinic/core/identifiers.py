"""Staff identifiers and credentials: the DEA registration number's check, the NPI's (kept in
``input_rules``, re-exported here), and when a licence counts as expiring.

DEA registration number (US Drug Enforcement Administration): two letters and seven digits. The first
letter is the registrant type; the second is the first letter of the registrant's last name, or ``9``
for a registration in a business name. The seventh digit is a check digit: the sum of digits 1, 3 and 5
plus twice the sum of digits 2, 4 and 6; the last digit of that total is digit 7. Sources: DEA
Registration Record Layout (DEA Diversion Control Division, revised 2017: types A/B/F/G practitioners,
M mid-level practitioners, P/R programs and distributors); the wider list of type letters as printed in
the DEA number article (Wikipedia, "DEA number", checked 2026-12-04). A refusal of a real registration is
worse here than accepting an unusual type letter, so every type letter either source names is allowed.

>>> dea_is_valid("BJ1234563"), dea_is_valid("BJ1234564")
(True, False)
>>> dea_check_digit("123456")
3
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import npi_check, npi_is_valid, shown

__all__ = [
    "DEA_INVALID",
    "DEA_REGISTRANT_TYPES",
    "LICENCE_EXPIRY_WARNING_DAYS",
    "LicenceStatus",
    "dea_check",
    "dea_check_digit",
    "dea_is_valid",
    "licence_status",
    "npi_check",
    "npi_is_valid",
]

#: First letter of a DEA number: the registrant type (both sources above, merged).
DEA_REGISTRANT_TYPES = frozenset("ABCDEFGHJKLMPRSTUX")

DEA_INVALID = (
    "DEA registration {value!r} is not valid: a DEA number is 2 letters and 7 digits (e.g. BJ1234563) — "
    "the registrant type (A, B, F, G, M, ...), the first letter of the last name (or 9), and 7 digits "
    "whose last is the check digit."
)

#: A licence expiring within this many days shows on the admin's staff list (a clinic default).
LICENCE_EXPIRY_WARNING_DAYS = 60


def dea_check_digit(six_digits: str) -> int:
    """The check digit of a DEA number's first six digits: (d1 + d3 + d5 + 2 × (d2 + d4 + d6)) mod 10."""
    if len(six_digits) != 6 or not six_digits.isascii() or not six_digits.isdigit():
        raise ValueError(f"six digits expected, not {six_digits!r}")
    d = [int(c) for c in six_digits]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def dea_is_valid(value: str) -> bool:
    """True for a well-formed DEA registration number (upper case, no spaces) whose check digit holds."""
    if len(value) != 9 or not value.isascii():
        return False
    kind, initial, digits = value[0], value[1], value[2:]
    if kind not in DEA_REGISTRANT_TYPES or not (initial.isupper() or initial == "9"):
        return False
    if not digits.isdigit():
        return False
    return dea_check_digit(digits[:6]) == int(digits[6])


def dea_check(value: str, *, field: str = "dea_number") -> str:
    """The DEA number as stored (trimmed, upper case), ``""`` when none; refuses one that is not valid."""
    text = (value or "").strip().upper().replace(" ", "")
    if text and not dea_is_valid(text):
        raise ValidationError(DEA_INVALID.format(value=shown(text)), field=field, value=shown(text))
    return text


@dataclass(frozen=True)
class LicenceStatus:
    """Where a licence stands on a day: ``expired``, ``expiring`` (within the warning window) or ``valid``."""

    state: str
    days_left: int

    @property
    def days_expired(self) -> int:
        """Days since an expired licence lapsed (0 for one still valid)."""
        return max(0, -self.days_left)

    @property
    def needs_attention(self) -> bool:
        return self.state != "valid"


def licence_status(
    expires_on: date, *, today: date, warning_days: int = LICENCE_EXPIRY_WARNING_DAYS
) -> LicenceStatus:
    """A licence is valid through its expiry date; it is ``expiring`` from ``warning_days`` before it."""
    if warning_days < 0:
        raise ValueError("warning_days must be zero or more")
    days_left = (expires_on - today).days
    if days_left < 0:
        return LicenceStatus("expired", days_left)
    if days_left <= warning_days:
        return LicenceStatus("expiring", days_left)
    return LicenceStatus("valid", days_left)
