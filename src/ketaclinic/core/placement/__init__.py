"""Fill the chairs (issue 13, item 5): a week's placement of pending series sessions and boosters in the
clinic's chairs, proposed by CP-SAT (:func:`week_place`) against the first-fit desk (:func:`week_first_fit`),
every proposal re-checked by an independent checker (:func:`placement_check`).

Pure: frozen dataclasses in and out, minutes since the week's start in local time (the caller converts).
"""

from __future__ import annotations

from ketaclinic.core.placement.check import PlacementRefused, placement_check, placement_problems
from ketaclinic.core.placement.first_fit import week_first_fit
from ketaclinic.core.placement.solver import SolverSettings, week_place
from ketaclinic.core.placement.week import (
    GRID_MINUTES,
    WEEK_MINUTES,
    Booking,
    Chair,
    Interval,
    Placement,
    Request,
    Unplaced,
    Week,
    WeekPlan,
    clock,
)

__all__ = [
    "GRID_MINUTES",
    "WEEK_MINUTES",
    "Booking",
    "Chair",
    "Interval",
    "Placement",
    "PlacementRefused",
    "Request",
    "SolverSettings",
    "Unplaced",
    "Week",
    "WeekPlan",
    "clock",
    "placement_check",
    "placement_problems",
    "week_first_fit",
    "week_place",
]
