"""Prior authorization: a payer's approval of a number of sessions ("units") between two dates (issue 14;
DOMAIN.md §1: workers' compensation "with prior authorization").

A session is refused at booking and at check-in when the authorization is not approved, the session's day
is outside the approved dates (both days included), or the units used plus those wanted exceed the approved
units. ``authorization_expiring`` gives the front desk a reason to ask for a renewal in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.input_rules import shown

__all__ = [
    "AUTHORIZATION_UNITS_MAX",
    "EXPIRY_WARNING_DAYS",
    "Authorization",
    "AuthorizationStatus",
    "authorization_expiring",
    "check_authorization",
]

AUTHORIZATION_UNITS_MAX = 500
#: A clinic default: an authorization ending within this many days is flagged for renewal.
EXPIRY_WARNING_DAYS = 14
#: A clinic default: an authorization with this many units or fewer left is flagged for renewal.
UNITS_WARNING_LEFT = 1


class AuthorizationStatus(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    DENIED = "denied"
    EXPIRED = "expired"


AUTH_NUMBER_MISSING = "The prior authorization has no number: type the number the payer gave."
AUTH_UNITS_OUT_OF_RANGE = "Approved units {value} is outside the allowed range 1 to {high}."
AUTH_DATES_BACKWARDS = (
    "The authorization's last day {last} is before its first day {first}: the last day must be on or after "
    "the first."
)
AUTH_NOT_APPROVED = (
    "Prior authorization {number} is {status}, not approved: a session can be booked on it only once the "
    "payer approves it."
)
AUTH_BEFORE_FIRST_DAY = (
    "The session on {day} is before prior authorization {number} starts ({first}): sessions from {first} to "
    "{last} are covered."
)
AUTH_AFTER_LAST_DAY = (
    "The session on {day} is after prior authorization {number} ends ({last}): sessions from {first} to "
    "{last} are covered."
)
AUTH_UNITS_EXCEEDED = (
    "Prior authorization {number} approves {approved} sessions and {used} are already used, so {wanted} more "
    "would exceed it: up to {left} more are allowed. Ask the payer for more units."
)
AUTH_COUNT_INVALID = "{label} {value} is not allowed: it must be a whole number of {low} or more."


@dataclass(frozen=True, slots=True)
class Authorization:
    number: str
    approved_units: int
    first_day: date
    last_day: date
    status: AuthorizationStatus = AuthorizationStatus.APPROVED

    def __post_init__(self) -> None:
        number = (self.number or "").strip()
        if not number:
            raise ValidationError(AUTH_NUMBER_MISSING, field="number", value="")
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "status", AuthorizationStatus(self.status))
        units = self.approved_units
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= AUTHORIZATION_UNITS_MAX:
            raise ValidationError(
                AUTH_UNITS_OUT_OF_RANGE.format(value=shown(units), high=AUTHORIZATION_UNITS_MAX),
                field="approved_units",
                value=units,
            )
        if self.last_day < self.first_day:
            raise ValidationError(
                AUTH_DATES_BACKWARDS.format(first=self.first_day, last=self.last_day),
                field="last_day",
                value=self.last_day,
            )


def _count(value: object, label: str, field: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(
            AUTH_COUNT_INVALID.format(label=label, value=value, low=low), field=field, value=value
        )
    return value


def check_authorization(auth: Authorization, on_day: date, units_used: int, units_wanted: int = 1) -> int:
    """Refuses a session the authorization does not cover; returns the units left after it."""
    used = _count(units_used, "Units used", "units_used", 0)
    wanted = _count(units_wanted, "Units wanted", "units_wanted", 1)
    words = {"number": auth.number, "first": auth.first_day, "last": auth.last_day, "day": on_day}
    if auth.status is not AuthorizationStatus.APPROVED:
        raise ValidationError(
            AUTH_NOT_APPROVED.format(number=auth.number, status=auth.status.value),
            field="status",
            value=auth.status,
        )
    if on_day < auth.first_day:
        raise ValidationError(AUTH_BEFORE_FIRST_DAY.format(**words), field="date", value=on_day)
    if on_day > auth.last_day:
        raise ValidationError(AUTH_AFTER_LAST_DAY.format(**words), field="date", value=on_day)
    left = max(auth.approved_units - used, 0)
    if wanted > left:
        raise ValidationError(
            AUTH_UNITS_EXCEEDED.format(
                number=auth.number, approved=auth.approved_units, used=used, wanted=wanted, left=left
            ),
            field="units",
            value=used + wanted,
        )
    return left - wanted


def authorization_expiring(
    auth: Authorization, today: date, within_days: int = EXPIRY_WARNING_DAYS, units_used: int = 0
) -> str | None:
    """Why the front desk should ask the payer for a renewal now, or None: not approved, ended, ending within
    ``within_days`` days, or at most ``UNITS_WARNING_LEFT`` unit left."""
    used = _count(units_used, "Units used", "units_used", 0)
    days = _count(within_days, "Days", "within_days", 0)
    if auth.status is not AuthorizationStatus.APPROVED:
        return f"Prior authorization {auth.number} is {auth.status.value}."
    if today > auth.last_day:
        return f"Prior authorization {auth.number} ended on {auth.last_day}."
    left = auth.approved_units - used
    if left <= 0:
        return f"Prior authorization {auth.number} has no sessions left of {auth.approved_units}."
    days_left = (auth.last_day - today).days
    if days_left <= days:
        when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
        return f"Prior authorization {auth.number} ends {when} ({auth.last_day})."
    if left <= UNITS_WARNING_LEFT:
        return f"Prior authorization {auth.number} has {left} session left of {auth.approved_units}."
    return None
