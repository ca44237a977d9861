"""When a recorded event may say it happened: the rule for entering times late (backdating).

A nurse often records a pump event or a reading a few minutes after it happened. The time entered must be:

* not in the future (beyond a small clock skew between tablets and the server);
* not earlier than ``max_backdate_min`` before now (the protocol's ``monitoring.backdating``): older events
  are not "entered late" but reconstructed, which this system does not allow;
* with a reason once it is more than ``reason_after_min`` before now (stored on the event);
* never before an event it depends on (each passed as ``(what, time)``: e.g. a start after the checklist
  passed and after the order was signed; a stop after the last pump event and after the last reading
  taken during the infusion, so the stop cannot shorten the infusion the record shows).

Pure: times in, the accepted time (or a :class:`ValidationError`) out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketaclinic.core.errors import ValidationError

FUTURE_SKEW = timedelta(minutes=1)  # clocks of tablets and gateways may be a little ahead

EVENT_IN_FUTURE = "{what} at {value} is in the future."
BACKDATE_TOO_FAR = (
    "{what} at {value} is {minutes:.0f} min ago; a time can be entered at most {high:g} min late. "
    "Record what happened now and describe the earlier time in a note."
)
BACKDATE_REASON_REQUIRED = (
    "{what} at {value} is {minutes:.0f} min ago; a time more than {low:g} min late needs a "
    "reason (why it is entered late)."
)
BEFORE_DEPENDENCY = "{what} at {value} is before {dependency} ({previous})."
NAIVE_EVENT_TIME = "{what} needs a time with a time zone."
LIMITS_INVALID = (
    "Backdating limits must be numbers of at least 0 with the reason threshold not above the maximum."
)


@dataclass(frozen=True, slots=True)
class BackdateLimits:
    max_backdate_min: float
    reason_after_min: float

    def __post_init__(self) -> None:
        ok = all(math.isfinite(v) and v >= 0 for v in (self.max_backdate_min, self.reason_after_min))
        if not ok or self.reason_after_min > self.max_backdate_min:
            raise ValidationError(
                LIMITS_INVALID, field="backdating", value=(self.max_backdate_min, self.reason_after_min)
            )


def _hm(at: datetime) -> str:
    return at.isoformat(timespec="minutes")


def event_time_check(
    *,
    what: str,
    at: datetime | None,
    now: datetime,
    limits: BackdateLimits,
    after: tuple[tuple[str, datetime | None], ...] = (),
    reason: str = "",
) -> datetime:
    """The time an event is recorded at (``at``, or ``now`` when not given), or refused.

    ``after``: the events this one depends on, ``(name, time)``; ``None`` times are skipped.
    """
    when = now if at is None else at
    if when.tzinfo is None:
        raise ValidationError(NAIVE_EVENT_TIME.format(what=what), field="at", value=when)
    if when > now + FUTURE_SKEW:
        raise ValidationError(EVENT_IN_FUTURE.format(what=what, value=_hm(when)), field="at", value=when)
    late_min = (now - when).total_seconds() / 60.0
    if late_min > limits.max_backdate_min:
        raise ValidationError(
            BACKDATE_TOO_FAR.format(
                what=what, value=_hm(when), minutes=late_min, high=limits.max_backdate_min
            ),
            field="at",
            value=when,
        )
    if late_min > limits.reason_after_min and not reason.strip():
        raise ValidationError(
            BACKDATE_REASON_REQUIRED.format(
                what=what, value=_hm(when), minutes=late_min, low=limits.reason_after_min
            ),
            field="backdate_reason",
            value=reason,
        )
    for dependency, previous in after:
        if previous is not None and when < previous:
            raise ValidationError(
                BEFORE_DEPENDENCY.format(
                    what=what, value=_hm(when), dependency=dependency, previous=_hm(previous)
                ),
                field="at",
                value=when,
            )
    return when


def needs_reason(at: datetime, now: datetime, limits: BackdateLimits) -> bool:
    """Whether a time ``at`` entered at ``now`` is late enough to need a reason."""
    return (now - at).total_seconds() / 60.0 > limits.reason_after_min
