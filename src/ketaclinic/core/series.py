"""Scheduling a treatment plan's series: propose dated slots, and check a moved one.

Pure: plain functions over frozen dataclasses and aware datetimes (``zoneinfo`` from the standard
library). The rules come from the protocol's ``series`` section (copied into the plan):

* at most ``max_per_week`` infusions in one calendar week, Monday to Sunday in the location's time zone;
* at least ``min_spacing_hours`` between the starts of two infusions (a clinic default, 48 h shipped);
* proposed dates fall on the preferred weekdays, never on a closed date, never before the start date.

>>> from datetime import date, time
>>> from zoneinfo import ZoneInfo
>>> rules = SeriesRules(count=6, max_per_week=2, min_spacing_hours=48)
>>> slots = propose_series(rules=rules, start=date(2026, 11, 2), weekdays=(0, 3), at=time(9, 0),
...                        tz=ZoneInfo("America/New_York"))
>>> [s.strftime("%a %d") for s in slots]
['Mon 02', 'Thu 05', 'Mon 09', 'Thu 12', 'Mon 16', 'Thu 19']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from ketaclinic.core.errors import ValidationError

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SEARCH_DAYS = 366

NO_WEEKDAYS = "Choose at least one weekday for the infusions."
WEEKDAY_UNKNOWN = "Weekday {value} is unknown: 0 (Monday) to 6 (Sunday)."
CANNOT_FIT = (
    "Only {found} of {count} infusions fit within a year from {start} on {weekdays}: choose more "
    "weekdays or fewer closed dates."
)
TOO_CLOSE = (
    "{label} on {when} would be {hours:g} h from {other} on {other_when}; the protocol sets at least "
    "{min_hours} h between infusions."
)
WEEK_FULL = (
    "{label} on {when} would be infusion {n} in the week of {monday}, with {others}; the protocol allows "
    "at most {max_per_week} a week."
)
CLOSED_DATE = "{label} on {when} falls on a closed date."


@dataclass(frozen=True)
class SeriesRules:
    count: int
    max_per_week: int
    min_spacing_hours: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValidationError(
                f"Series count {self.count} must be at least 1.", field="series_count", value=self.count
            )
        if not 1 <= self.max_per_week <= 3:
            raise ValidationError(
                f"At most {self.max_per_week} infusions a week is outside 1-3.",
                field="max_per_week",
                value=self.max_per_week,
            )
        if self.min_spacing_hours < 0:
            raise ValidationError(
                f"Minimum spacing {self.min_spacing_hours} h is negative.",
                field="min_spacing_hours",
                value=self.min_spacing_hours,
            )


@dataclass(frozen=True)
class Slot:
    """A scheduled infusion as the rules see it: a label a nurse reads ("Infusion 3") and a start."""

    label: str
    start: datetime


def week_of(moment: datetime, tz: tzinfo) -> date:
    """The Monday of the calendar week ``moment`` falls in, in the location's time zone."""
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def _when(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%a %Y-%m-%d %H:%M")


def propose_series(
    *,
    rules: SeriesRules,
    start: date,
    weekdays: Sequence[int],
    at: time,
    tz: tzinfo,
    closed: Iterable[date] = (),
) -> tuple[datetime, ...]:
    """The earliest ``rules.count`` starts on the preferred weekdays from ``start`` that keep every rule."""
    if not weekdays:
        raise ValidationError(NO_WEEKDAYS, field="weekdays", value=())
    for w in weekdays:
        if not 0 <= w <= 6:
            raise ValidationError(WEEKDAY_UNKNOWN.format(value=w), field="weekdays", value=w)
    wanted, shut = frozenset(weekdays), frozenset(closed)
    spacing = timedelta(hours=rules.min_spacing_hours)
    chosen: list[datetime] = []
    per_week: dict[date, int] = {}
    for offset in range(SEARCH_DAYS):
        day = start + timedelta(days=offset)
        if day.weekday() not in wanted or day in shut:
            continue
        moment = datetime.combine(day, at, tzinfo=tz)
        monday = day - timedelta(days=day.weekday())
        if per_week.get(monday, 0) >= rules.max_per_week:
            continue
        if chosen and moment - chosen[-1] < spacing:
            continue
        chosen.append(moment)
        per_week[monday] = per_week.get(monday, 0) + 1
        if len(chosen) == rules.count:
            return tuple(chosen)
    names = ", ".join(WEEKDAY_NAMES[w] for w in sorted(wanted))
    raise ValidationError(
        CANNOT_FIT.format(found=len(chosen), count=rules.count, start=start.isoformat(), weekdays=names),
        field="weekdays",
        value=tuple(sorted(wanted)),
    )


def check_slot(
    *, rules: SeriesRules, slot: Slot, others: Iterable[Slot], tz: tzinfo, closed: Iterable[date] = ()
) -> None:
    """Refuse ``slot`` (a new or moved infusion) if it breaks a rule against the plan's ``others``,
    naming the conflicting infusion and the rule."""
    if slot.start.astimezone(tz).date() in frozenset(closed):
        raise ValidationError(
            CLOSED_DATE.format(label=slot.label, when=_when(slot.start, tz)),
            field="scheduled_start",
            value=slot.start,
        )
    others = sorted(others, key=lambda s: s.start)
    spacing = timedelta(hours=rules.min_spacing_hours)
    for other in others:
        gap = abs(slot.start - other.start)
        if gap < spacing:
            raise ValidationError(
                TOO_CLOSE.format(
                    label=slot.label,
                    when=_when(slot.start, tz),
                    hours=round(gap.total_seconds() / 3600, 1),
                    other=other.label,
                    other_when=_when(other.start, tz),
                    min_hours=rules.min_spacing_hours,
                ),
                field="scheduled_start",
                value=slot.start,
            )
    monday = week_of(slot.start, tz)
    same_week = [o for o in others if week_of(o.start, tz) == monday]
    if len(same_week) >= rules.max_per_week:
        raise ValidationError(
            WEEK_FULL.format(
                label=slot.label,
                when=_when(slot.start, tz),
                n=len(same_week) + 1,
                monday=monday.isoformat(),
                others=", ".join(f"{o.label} on {_when(o.start, tz)}" for o in same_week),
                max_per_week=rules.max_per_week,
            ),
            field="scheduled_start",
            value=slot.start,
        )


def check_schedule(*, rules: SeriesRules, slots: Sequence[Slot], tz: tzinfo) -> None:
    """Every slot keeps the rules against every other (used by tests and after a proposal)."""
    for i, slot in enumerate(slots):
        check_slot(rules=rules, slot=slot, others=slots[:i], tz=tz)
