"""Half-open time intervals ``[start, end)`` over aware datetimes, and clashes between them.

Two bookings clash when they share a moment: one that ends at 11:00 and one that starts at 11:00 do not
(the same rule as PostgreSQL's ``tstzrange(start, end, '[)') && ...``, so the service and the database's
exclusion constraint agree to the minute).

>>> from datetime import datetime, timedelta, timezone
>>> nine = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
>>> a = Interval(nine, nine + timedelta(hours=2))
>>> a.overlaps(Interval(nine + timedelta(hours=2), nine + timedelta(hours=3)))
False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketaclinic.core.errors import ValidationError

NAIVE_TIME = "The time {value} has no time zone; times are kept with their zone."
EMPTY_INTERVAL = "An appointment ending at {end} must end after it starts ({start})."


@dataclass(frozen=True, slots=True)
class Interval:
    """From ``start`` (included) to ``end`` (excluded)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValidationError(NAIVE_TIME.format(value=moment), field="start", value=moment)
        if self.end <= self.start:
            raise ValidationError(
                EMPTY_INTERVAL.format(start=self.start.isoformat(), end=self.end.isoformat()),
                field="end",
                value=self.end,
            )

    @classmethod
    def of(cls, start: datetime, minutes: int) -> Interval:
        return cls(start, start + timedelta(minutes=minutes))

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True, slots=True)
class Booking:
    """A resource's existing booking as the rules see it: when, and words for what it is ("an infusion")."""

    interval: Interval
    what: str = "another appointment"


def clashes(candidate: Interval, bookings: Iterable[Booking]) -> tuple[Booking, ...]:
    """The bookings that share a moment with ``candidate``, earliest first."""
    return tuple(
        sorted((b for b in bookings if b.interval.overlaps(candidate)), key=lambda b: b.interval.start)
    )


def merged(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """The union of ``intervals`` as disjoint intervals in order (touching ones joined: a shift to 13:00
    followed by one from 13:00 covers the afternoon without a gap)."""
    out: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: i.start):
        if out and iv.start <= out[-1].end:
            if iv.end > out[-1].end:
                out[-1] = Interval(out[-1].start, iv.end)
        else:
            out.append(iv)
    return tuple(out)


def covered(candidate: Interval, cover: Iterable[Interval]) -> bool:
    """Whether the union of ``cover`` contains all of ``candidate`` (a staff member on shift throughout)."""
    return any(block.contains(candidate) for block in merged(cover))
