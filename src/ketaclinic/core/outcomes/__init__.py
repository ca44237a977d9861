"""Measurement-based care, pure: when questionnaires are due, confidence intervals, status in words.

* :mod:`.schedule` — :func:`due_schedule` from the dates of a patient's infusions.
* :mod:`.due_status` — :func:`due_statuses`: done, due, overdue or upcoming, from the answers given.
* :mod:`.stats` — Wilson intervals for proportions, t intervals for means.
* :mod:`.status` — the trajectory's status in words ("responder since infusion 4").
"""

from __future__ import annotations

from ketaclinic.core.outcomes.due_status import (
    DEFAULT_WINDOWS,
    Answered,
    DatedItem,
    DueItem,
    DueStatus,
    DueWindow,
    WindowRule,
    answerable_days_after_last,
    dated_items,
    due_statuses,
    due_windows,
    longest_window_days,
)
from ketaclinic.core.outcomes.schedule import DueQuestionnaire, MeasurementSchedule, due_schedule
from ketaclinic.core.outcomes.stats import Estimate, mean_estimate, proportion_estimate, t_critical_975
from ketaclinic.core.outcomes.status import TrajectoryPoint, TrajectoryStatus, trajectory_status

__all__ = [
    "DEFAULT_WINDOWS",
    "Answered",
    "DatedItem",
    "DueItem",
    "DueStatus",
    "DueWindow",
    "WindowRule",
    "answerable_days_after_last",
    "dated_items",
    "due_statuses",
    "due_windows",
    "longest_window_days",
    "DueQuestionnaire",
    "Estimate",
    "MeasurementSchedule",
    "TrajectoryPoint",
    "TrajectoryStatus",
    "due_schedule",
    "mean_estimate",
    "proportion_estimate",
    "t_critical_975",
    "trajectory_status",
]
