"""A test clock that only moves forward: ``advance_to(t)`` makes ``django.utils.timezone.now()`` return ``t``
(then keeps ticking) for the rest of the test, so a walked session's events happen when they are recorded
(times cannot be backdated freely: the backdating bounds). ``reset`` (an autouse fixture) restores it.

``KETACLINIC_TEST_CLOCK=HH:MM`` starts the whole run at the next HH:MM in Los Angeles (the test locations'
zone) and every test at that moment or later: the suite can be run at the time of day CI will run it (a test
that schedules a session hours ago and reads "today's" board fails just after midnight, not at noon)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from django.utils import timezone

_REAL = timezone.now
_state: dict[str, Any] = {"offset": timedelta(0), "patcher": None, "base": timedelta(0)}


def _now() -> datetime:
    return _REAL() + _state["offset"]


def real_now() -> datetime:
    """The machine's clock, which libraries that keep their own reference to it read (django-axes's lockout
    window): a test that backdates their rows backdates from this."""
    return _REAL()


def advance_to(at: datetime) -> None:
    """From now on ``timezone.now()`` reads ``at`` (never moves back)."""
    now = timezone.now()
    if at <= now:
        return
    if _state["patcher"] is None:
        patcher = mock.patch("django.utils.timezone.now", _now)
        _state["patcher"] = patcher
        patcher.start()
    _state["offset"] += at - now


def advance(minutes: float) -> datetime:
    at = timezone.now() + timedelta(minutes=minutes)
    advance_to(at)
    return at


def reset() -> None:
    if _state["patcher"] is not None:
        _state["patcher"].stop()
    _state["patcher"], _state["offset"] = None, timedelta(0)
    if _state["base"]:
        advance_to(_REAL() + _state["base"])


def start_at_local_time(hhmm: str, zone: str = "America/Los_Angeles") -> None:
    """Move the clock for the whole run to the next ``hhmm`` local time (``KETACLINIC_TEST_CLOCK``)."""
    from zoneinfo import ZoneInfo

    hour, minute = (int(part) for part in hhmm.split(":"))
    local = _REAL().astimezone(ZoneInfo(zone))
    at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= local:
        at = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    _state["base"] = at - _REAL()
    advance_to(at)


def daytime(zone: str, hours: float = 10.0) -> datetime:
    """Make sure the location's day has ``hours`` left after 03:00 local (a test that schedules sessions 2-3 h
    in the past and walks them forward needs the same local day throughout): when the local time is before
    03:00 or too late in the evening, move the clock forward to 03:00 of the next local day (never back)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    local = timezone.now().astimezone(tz)
    if 3 <= local.hour and local.hour + local.minute / 60 + hours < 24:
        return timezone.now()
    day = local.date() if local.hour < 3 else local.date() + timedelta(days=1)
    advance_to(datetime(day.year, day.month, day.day, 3, 0, tzinfo=tz))
    return timezone.now()
