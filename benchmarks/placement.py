"""Fill the chairs: CP-SAT's week placement against the named baseline **first-fit** (the desk booking by
hand: each request in arrival order takes the earliest free slot) on a synthetic week at growing demand.

Synthetic week (seeded, random.Random(seed)): 6 chairs open 9:00-18:00 Monday to Friday; fixed bookings
already in the calendar (the ongoing series: 2-hour sessions started on any quarter hour, about a quarter
of the chair time); pending requests in random arrival order, about 60 % new series patients (2 sessions
this week, 48 h apart, 120 min chair time with observation, earliest Monday to Wednesday) and 40 %
boosters (1 session, 120 min, earliest Monday to Thursday); a fifth prefer mornings (soft), a tenth can only
come after 14:00 (hard). The same week goes to both; both results pass the independent checker.

Prints per demand level: sessions wanted and placed, chair utilisation (booked chair-minutes / open
chair-minutes, fixed bookings included), idle chair-minutes between a chair-day's first and last use, the
mean wait (hours a session starts after the earliest the patient could have had it), the ratio CP-SAT /
first-fit of sessions placed and of utilisation, and the solve time (wall and CPU).
``nice -n 5 .venv/bin/python benchmarks/placement.py [--seed 7] [--time-limit 20] [--levels 20 35 45 55 65]``
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from functools import partial

from ketaclinic.core.placement import (
    Booking,
    Chair,
    Interval,
    Request,
    SolverSettings,
    Week,
    WeekPlan,
    placement_problems,
    week_first_fit,
    week_place,
)
from ketaclinic.core.series import SeriesRules

CHAIRS, DAYS, OPEN_H, CLOSE_H = 6, 5, 9, 18
SERIES = SeriesRules(count=6, max_per_week=2, min_spacing_hours=48)
BOOSTER = SeriesRules(count=1, max_per_week=1, min_spacing_hours=48)


def _day(d: int, start_h: float, end_h: float) -> Interval:
    return Interval(d * 1440 + int(start_h * 60), d * 1440 + int(end_h * 60))


def _chairs(rng: random.Random) -> tuple[Chair, ...]:
    out = []
    for c in range(CHAIRS):
        booked = []
        for d in range(DAYS):
            at = d * 1440 + OPEN_H * 60 + rng.randrange(0, 4) * 15
            while at + 120 <= d * 1440 + CLOSE_H * 60:
                if rng.random() < 0.25:
                    booked.append(Booking(Interval(at, at + 120), patient_id=f"ongoing {c}-{d}-{at}"))
                at += 120 + rng.randrange(0, 5) * 15
        out.append(
            Chair(f"chair {c + 1}", tuple(_day(d, OPEN_H, CLOSE_H) for d in range(DAYS)), tuple(booked))
        )
    return tuple(out)


def _request(rng: random.Random, i: int) -> Request:
    is_series = rng.random() < 0.6
    earliest = rng.randrange(0, 3 if is_series else 4) * 1440
    kind = rng.random()
    windows: tuple[Interval, ...] = ()
    hard = False
    if kind < 0.2:
        windows = tuple(_day(d, OPEN_H, 13) for d in range(DAYS))
    elif kind < 0.3:
        windows, hard = tuple(_day(d, 14, CLOSE_H) for d in range(DAYS)), True
    return Request(
        f"{'series' if is_series else 'booster'} {i}",
        "series infusion" if is_series else "booster",
        120,
        2 if is_series else 1,
        SERIES if is_series else BOOSTER,
        earliest_min=earliest,
        windows=windows,
        windows_hard=hard,
    )


def _week(seed: int, requests: int) -> Week:
    rng = random.Random(seed)
    chairs = _chairs(rng)
    return Week(chairs, tuple(_request(rng, i) for i in range(requests)))


def _mean_wait_h(week: Week, plan: WeekPlan) -> float:
    """Mean hours a placed session starts after the earliest the patient could have had it."""
    requests = {r.patient_id: r for r in week.requests}
    waits, seen = [], dict.fromkeys(requests, 0)
    for p in plan.placements:  # in time order
        r = requests[p.patient_id]
        desired = r.earliest_min + seen[p.patient_id] * max(r.spacing_min, r.duration_min)
        waits.append(max(0, p.start_min - desired) / 60)
        seen[p.patient_id] += 1
    return sum(waits) / len(waits) if waits else 0.0


def _columns(week: Week, plan: WeekPlan) -> str:
    return (
        f"{plan.sessions_placed:>9} {plan.utilisation:>7.1%} {plan.idle_minutes:>7} "
        f"{_mean_wait_h(week, plan):>6.1f}h"
    )


def _timed(run: Callable[[], WeekPlan]) -> tuple[WeekPlan, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--levels", type=int, nargs="+", default=[20, 35, 45, 55, 65])
    args = parser.parse_args()
    settings = SolverSettings(time_limit_s=args.time_limit)
    print(
        f"{CHAIRS} chairs, {OPEN_H}:00-{CLOSE_H}:00 Mon-Fri, seed {args.seed}, "
        f"CP-SAT limit {args.time_limit:g} s"
    )
    print(
        f"{'requests':>8} {'wanted':>6} | {'FF placed':>9} {'FF util':>7} {'FF idle':>7} {'FF wait':>7} | "
        f"{'CP placed':>9} {'CP util':>7} {'CP idle':>7} {'CP wait':>7} | {'placed x':>8} {'util x':>6} | "
        f"{'FF ms':>6} {'CP wall s':>9} {'CP cpu s':>8}  status"
    )
    for n in args.levels:
        week = _week(args.seed, n)
        wanted = sum(week.wanted(r) for r in week.requests)
        desk, desk_s, _ = _timed(partial(week_first_fit, week))
        plan, wall_s, cpu_s = _timed(partial(week_place, week, settings))
        assert placement_problems(week, plan.placements) == () == placement_problems(week, desk.placements)
        print(
            f"{n:>8} {wanted:>6} | "
            f"{_columns(week, desk)} | {_columns(week, plan)} | "
            f"{plan.sessions_placed / max(desk.sessions_placed, 1):>8.3f} "
            f"{plan.utilisation / max(desk.utilisation, 1e-9):>6.3f} | "
            f"{desk_s * 1000:>6.0f} {wall_s:>9.1f} {cpu_s:>8.1f}  {plan.method}"
        )


if __name__ == "__main__":
    main()
