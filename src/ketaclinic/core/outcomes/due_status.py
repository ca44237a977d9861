"""Whether each due questionnaire was answered, from its window and the answers given (pure).

:func:`ketaclinic.core.outcomes.schedule.due_schedule` says *when* questionnaires are due; this module
says, for each due questionnaire and each instrument it names, whether it is **done**, **due**,
**overdue** or **upcoming** on a given day.

**The window.** Each timepoint has a window around its due date (days relative to it; clinic defaults,
:data:`DEFAULT_WINDOWS`), and a last day on which a late answer is still accepted:

============  =====  ======  ===========  ==================================================================
timepoint     opens  closes  late until   why
============  =====  ======  ===========  ==================================================================
baseline        -7      0        0        the week before infusion 1; after it, no longer a baseline
pre_infusion    -2      0        0        after the infusion it is no longer "before the infusion"
follow_up       -1     +2       +7        the clinician's visit a few days after infusion 1
post_series     -2     +3       +6        1, 2, 4, 6 weeks after the series
monthly         -3     +7      +14        maintenance
============  =====  ======  ===========  ==================================================================

Consecutive questionnaires of the same timepoint never share a day: an item's closing day and its
late-until day stop the day before the next one of its kind opens (never before its own due date), so
one answer cannot count for two of them (for the defaults, only post-series weeks 1 and 2 are clipped).

**The matching rule.** A current (not corrected) answer counts for an item when it is of the same
instrument and the same timepoint, for ``pre_infusion`` of the same infusion number, and it was answered
(its date in the clinic's time zone) between the item's opening day and its late-until day. An answer
given at another timepoint (``ad_hoc``, say) never counts: the timepoint is what the patient was asked.

**The status on ``today``** (:func:`item_status`):

* ``done`` — a counting answer was given on or before ``today`` (``late`` when after the closing day);
* ``upcoming`` — otherwise, before the opening day;
* ``due`` — otherwise, from the opening day to the closing day;
* ``overdue`` — otherwise, after the closing day. Still worth asking (:attr:`DueItem.can_still_answer`)
  up to the late-until day; after that it stays overdue for good.

In the order upcoming < due < overdue < done (:attr:`DueStatus.rank`) the status never goes back as
``today`` advances, and adding an answer never lowers it: an answer never makes anything overdue
(tests/core/outcomes/test_due_status.py checks both with hypothesis).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.outcomes.schedule import DueQuestionnaire, MeasurementSchedule

MSG_WINDOW_ORDER = (
    "A questionnaire window must open on or before its due day and close on or after it: {value}."
)
MSG_WINDOW_DATES = (
    "A questionnaire window must open before it closes and close before its late limit: {value}."
)
MSG_NO_WINDOW = "No answer window is defined for timepoint {value!r}."


class DueStatus(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"

    @property
    def rank(self) -> int:
        """upcoming 0 < due 1 < overdue 2 < done 3: the order a status only ever moves forward in."""
        return _RANK[self]

    @property
    def label(self) -> str:
        return _LABEL[self]


_RANK = {DueStatus.UPCOMING: 0, DueStatus.DUE: 1, DueStatus.OVERDUE: 2, DueStatus.DONE: 3}
_LABEL = {
    DueStatus.UPCOMING: "Upcoming",
    DueStatus.DUE: "Due",
    DueStatus.OVERDUE: "Overdue",
    DueStatus.DONE: "Done",
}


@dataclass(frozen=True)
class WindowRule:
    """Days relative to the due date: ``opens_days`` ≤ 0 ≤ ``closes_days`` ≤ ``late_days``."""

    opens_days: int
    closes_days: int
    late_days: int

    def __post_init__(self) -> None:
        if not self.opens_days <= 0 <= self.closes_days <= self.late_days:
            raise ValidationError(MSG_WINDOW_ORDER.format(value=self), field="window", value=self)


DEFAULT_WINDOWS: Mapping[str, WindowRule] = {
    "baseline": WindowRule(-7, 0, 0),
    "pre_infusion": WindowRule(-2, 0, 0),
    "follow_up": WindowRule(-1, 2, 7),
    "post_series": WindowRule(-2, 3, 6),
    "monthly": WindowRule(-3, 7, 14),
}


@dataclass(frozen=True)
class DueWindow:
    opens: date
    closes: date
    late_until: date

    def __post_init__(self) -> None:
        if not self.opens <= self.closes <= self.late_until:
            raise ValidationError(MSG_WINDOW_DATES.format(value=self), field="window", value=self)

    def accepts(self, day: date) -> bool:
        """An answer on ``day`` counts (on time or late)."""
        return self.opens <= day <= self.late_until


@dataclass(frozen=True)
class Answered:
    """A current answer, as the matching rule sees it."""

    instrument: str
    timepoint: str
    infusion_number: int | None
    answered_on: date


@dataclass(frozen=True)
class DueItem:
    """One instrument of one due questionnaire, with its window and status on ``today``."""

    questionnaire: DueQuestionnaire
    instrument: str
    window: DueWindow
    status: DueStatus
    today: date
    answered_on: date | None = None

    @property
    def late(self) -> bool:
        return self.answered_on is not None and self.answered_on > self.window.closes

    @property
    def can_still_answer(self) -> bool:
        """Not done and an answer given today would still count (due, or overdue within the late limit)."""
        return self.status in (DueStatus.DUE, DueStatus.OVERDUE) and self.today <= self.window.late_until

    @property
    def open_today(self) -> bool:
        """Due today: the window is open and nothing was answered."""
        return self.status is DueStatus.DUE


def due_windows(
    items: Sequence[DueQuestionnaire], rules: Mapping[str, WindowRule] = DEFAULT_WINDOWS
) -> tuple[DueWindow, ...]:
    """Each item's window (in the items' order), clipped so consecutive items of one timepoint never
    overlap."""
    raw: list[tuple[date, date, date]] = []
    for item in items:
        rule = rules.get(item.timepoint)
        if rule is None:
            raise ValidationError(
                MSG_NO_WINDOW.format(value=item.timepoint), field="timepoint", value=item.timepoint
            )
        raw.append(
            (
                item.due_on + timedelta(days=rule.opens_days),
                item.due_on + timedelta(days=rule.closes_days),
                item.due_on + timedelta(days=rule.late_days),
            )
        )
    # The earliest opening of a later item of the same timepoint and infusion number: per group, walking the
    # items from the latest due date back (linear in the items, where comparing every pair was quadratic).
    groups: dict[tuple[str, int | None], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault((item.timepoint, item.infusion_number), []).append(i)
    next_opens: list[date | None] = [None] * len(items)
    for members in groups.values():
        members.sort(key=lambda i: items[i].due_on, reverse=True)
        earliest: date | None = None
        start = 0
        while start < len(members):
            end = start
            while end < len(members) and items[members[end]].due_on == items[members[start]].due_on:
                end += 1
            for i in members[start:end]:  # items due the same day do not clip each other
                next_opens[i] = earliest
            for i in members[start:end]:
                earliest = raw[i][0] if earliest is None else min(earliest, raw[i][0])
            start = end
    windows = []
    for item, (opens, closes, late), later in zip(items, raw, next_opens, strict=True):
        if later is not None:
            stop = later - timedelta(days=1)
            closes = max(item.due_on, min(closes, stop))
            late = max(closes, min(late, stop))
        windows.append(DueWindow(opens, closes, late))
    return tuple(windows)


def answer_counts_for(item: DueQuestionnaire, instrument: str, window: DueWindow, answer: Answered) -> bool:
    """The matching rule: same instrument and timepoint, same infusion number before an infusion, in the
    window."""
    if answer.instrument != instrument or answer.timepoint != item.timepoint:
        return False
    if item.timepoint == "pre_infusion" and answer.infusion_number != item.infusion_number:
        return False
    return window.accepts(answer.answered_on)


def item_status(
    window: DueWindow, answered_on: Iterable[date], *, today: date
) -> tuple[DueStatus, date | None]:
    """The status on ``today`` given the days counting answers were given (see the module docstring)."""
    first = min((d for d in answered_on if window.accepts(d) and d <= today), default=None)
    if first is not None:
        return DueStatus.DONE, first
    if today < window.opens:
        return DueStatus.UPCOMING, None
    if today <= window.closes:
        return DueStatus.DUE, None
    return DueStatus.OVERDUE, None


@dataclass(frozen=True)
class DatedItem:
    """One instrument of one due questionnaire with its window and the first day a counting answer was
    given, whatever the day it is looked at: what is stored per patient so that the status on any day is a
    comparison of dates (:meth:`on`), with no answer to read."""

    questionnaire: DueQuestionnaire
    instrument: str
    window: DueWindow
    answered_on: date | None  # the earliest day a counting answer was given, if any

    def on(self, today: date) -> DueItem:
        """The status on ``today``: done from the first counting answer's day, else by the window.

        The same as :func:`item_status` over every counting answer: the earliest counting day is on or
        before ``today`` exactly when some counting day is, and then it is the earliest of those."""
        if self.answered_on is not None and self.answered_on <= today:
            return DueItem(
                self.questionnaire, self.instrument, self.window, DueStatus.DONE, today, self.answered_on
            )
        status, _ = item_status(self.window, (), today=today)
        return DueItem(self.questionnaire, self.instrument, self.window, status, today, None)


def dated_items(
    items: Sequence[DueQuestionnaire],
    answers: Sequence[Answered],
    rules: Mapping[str, WindowRule] = DEFAULT_WINDOWS,
) -> tuple[DatedItem, ...]:
    """Every (due questionnaire, instrument) with its window and its first counting answer's day, in the
    schedule's order: :func:`due_statuses` without a ``today``."""
    out = []
    for item, window in zip(items, due_windows(items, rules), strict=True):
        for instrument in item.instruments:
            days = [a.answered_on for a in answers if answer_counts_for(item, instrument, window, a)]
            out.append(DatedItem(item, instrument, window, min(days, default=None)))
    return tuple(out)


def due_statuses(
    items: Sequence[DueQuestionnaire],
    answers: Sequence[Answered],
    *,
    today: date,
    rules: Mapping[str, WindowRule] = DEFAULT_WINDOWS,
) -> tuple[DueItem, ...]:
    """Every (due questionnaire, instrument) with its status on ``today``, in the schedule's order."""
    return tuple(d.on(today) for d in dated_items(items, answers, rules))


def longest_window_days(rules: Mapping[str, WindowRule] = DEFAULT_WINDOWS) -> int:
    """The most days from a window's opening to its late limit (clipping only shortens a window): an item
    still answerable today opened at most this many days ago, so a worklist reads a bounded range."""
    return max(rule.late_days - rule.opens_days for rule in rules.values())


def answerable_days_after_last(
    schedule: MeasurementSchedule, rules: Mapping[str, WindowRule] = DEFAULT_WINDOWS
) -> int:
    """How many days after a series' last infusion an answer to one of its questionnaires can still count.

    Every questionnaire of ``due_schedule`` is due on or before its offset from the last infusion (the
    follow-up counts from the first, which is never later), and is worth asking up to its late limit; the
    clipping of :func:`due_windows` only shortens windows. So once ``today`` is more than this many days after
    a patient's last infusion, nothing of that series is due or overdue-but-answerable: the worklist need not
    look at the patient (its test checks this against ``due_statuses``)."""
    weeks = max(schedule.post_series_weeks, default=0) * 7
    offsets = [
        ("baseline", 0),
        ("pre_infusion", 0),
        ("follow_up", schedule.follow_up_days),
        *(("post_series", w * 7) for w in schedule.post_series_weeks),
        *(("monthly", weeks + schedule.monthly_days * m) for m in range(1, schedule.monthly_count + 1)),
    ]
    horizon = 0
    for timepoint, offset in offsets:
        rule = rules.get(timepoint)
        if rule is None:
            raise ValidationError(MSG_NO_WINDOW.format(value=timepoint), field="timepoint", value=timepoint)
        horizon = max(horizon, offset + rule.late_days)
    return horizon
