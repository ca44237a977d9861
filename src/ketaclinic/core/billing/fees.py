"""The late-cancellation fee: policy as data on the price list (issue 14, item 3).

A location's price list says how many hours before an appointment's start a patient may cancel without a fee
(``late_cancel_hours``) and the fee (``late_cancel_fee_cents``). A cancellation made *less* than that many
hours before the start is late; one made exactly that many hours before, or earlier, is not. No policy (no
hours, or a fee of 0) means no fee; a cancellation by the clinic is never charged to the patient.

>>> from datetime import datetime, timedelta, timezone as tz
>>> start = datetime(2027, 3, 1, 9, 0, tzinfo=tz.utc)
>>> policy = LateCancelPolicy(hours=24, fee=Money.from_cents(7500, "USD"))
>>> late_cancel_fee(policy, start=start, cancelled_at=start - timedelta(hours=24), by=CancelledBy.PATIENT)
>>> late_cancel_fee(policy, start=start, cancelled_at=start - timedelta(hours=23, minutes=59),
...                 by=CancelledBy.PATIENT)
Money(amount=Decimal('75.00'), currency='USD')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError

__all__ = ["CancelledBy", "LateCancelPolicy", "late_cancel_fee"]

NAIVE_TIME = "{label} {value} has no time zone: give an aware time."


class CancelledBy(StrEnum):
    PATIENT = "patient"
    CLINIC = "clinic"


@dataclass(frozen=True, slots=True)
class LateCancelPolicy:
    hours: int  # 0: no policy
    fee: Money  # 0.00: no fee


def late_cancel_fee(
    policy: LateCancelPolicy | None, *, start: datetime, cancelled_at: datetime, by: CancelledBy
) -> Money | None:
    """The fee this cancellation owes, or None: late means strictly less than ``policy.hours`` before the
    start (a cancellation after the start is late too); a clinic's cancellation, no policy or a zero fee
    owes nothing."""
    for label, name, value in (("Start", "start", start), ("Cancelled at", "cancelled_at", cancelled_at)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(NAIVE_TIME.format(label=label, value=value), field=name, value=value)
    if policy is None or by is CancelledBy.CLINIC or policy.hours <= 0 or policy.fee.cents <= 0:
        return None
    if start - cancelled_at >= timedelta(hours=policy.hours):
        return None
    return policy.fee
