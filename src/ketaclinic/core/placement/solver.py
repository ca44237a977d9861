"""Fill the chairs: the week's placement proposed by Google OR-Tools' CP-SAT solver.

The model, per wanted session of each request:

* a start variable on the quarter-hour grid (:mod:`ketaclinic.core.placement.grid`: inside opening hours,
  from the earliest start, within hard windows, clear of fixed bookings and of the patient's own);
* one optional interval per chair opening interval (a chair-day) it could go in, at most one present; the
  chair-day's sessions and fixed bookings are in one ``AddNoOverlap``;
* a patient's sessions in order, each ``max(spacing, duration)`` after the one before (spacing between
  starts, as :func:`ketaclinic.core.series.check_slot`), at most ``max_per_week`` less what is booked.

The objective is lexicographic, in two solves that share the time limit: first the **most sessions
placed**; then, with at least that many kept, the least **idle chair time** (per chair-day, the minutes
between its first and last use not spent in a session), **patient waiting** (quarter hours after the
earliest time the patient could have had that session: the earliest start, plus the spacing per session
before it) and sessions outside a patient's **soft** preferred windows, weighted by :class:`SolverSettings`.
A session with a planned start (``Request.planned_min``, the time the plan chose with the patient) also costs
its **shift** from that start, either way; it is weighted above everything else in the layout (a quarter
hour's shift outweighs a quarter hour of idle chair time several times over), so a proposal keeps the
planned time of day whenever the chairs allow it, and otherwise moves as little as it can. Its waiting is
counted from the planned start, not from the day's opening.

One worker and a fixed seed make a run reproducible when the solver proves its answer optimal within the
time limit; when the (wall-clock) limit cuts it short the best solution found is returned, marked so, and
may differ between runs on a busy machine, unless ``work_limit`` (deterministic work) cuts it first.
The first-fit placement is the first solve's hint (the second
starts from the sessions nearest their planned starts when that keeps as many sessions, else from the first's
answer); if the solver ends with fewer sessions than first-fit, the first-fit
placement is returned instead (marked so). Whatever is returned has passed the independent checker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.placement.check import placement_problems
from ketaclinic.core.placement.first_fit import first_fit_place, planned_fit_place
from ketaclinic.core.placement.grid import free_stretches, in_soft_windows, starts_in_window
from ketaclinic.core.placement.plan import plan_assemble
from ketaclinic.core.placement.week import GRID_MINUTES, WEEK_MINUTES, Placement, Request, Week, WeekPlan

Window = tuple[int, int]  # (chair index, opening interval index)


@dataclass(frozen=True)
class SolverSettings:
    time_limit_s: float = 5.0
    seed: int = 1
    workers: int = 1  # one worker: the same input gives the same proposal, see work_limit
    # a limit in the solver's own deterministic work units (about seconds on a quiet machine): when set, a
    # run cut short by it gives the same proposal on any machine at any load; the time limit still caps it
    work_limit: float | None = None
    interleave: bool = True
    idle_weight: int = 1  # per idle chair-minute
    wait_weight: int = 1  # per quarter hour a session starts later than the patient could have had it
    soft_window_penalty: int = 96  # a session outside the patient's soft windows: as a day's waiting
    # per quarter hour a session starts before or after its planned start: more than the idle chair time
    # (15 per quarter hour) and the waiting a shift could save, so the planned time of day comes first
    shift_weight: int = 64

    def __post_init__(self) -> None:
        if not 0 < self.time_limit_s <= 600 or self.workers < 1:
            raise ValidationError(
                f"Solver time limit {self.time_limit_s} s must be within 0-600 s and workers at least 1.",
                field="time_limit_s",
                value=self.time_limit_s,
            )
        if self.work_limit is not None and self.work_limit <= 0:
            raise ValidationError(
                f"Solver work limit {self.work_limit} must be positive.",
                field="work_limit",
                value=self.work_limit,
            )
        if min(self.idle_weight, self.wait_weight, self.soft_window_penalty, self.shift_weight) < 0:
            raise ValidationError("Objective weights cannot be negative.", field="weights", value=self)


@dataclass
class _Session:
    request: Request
    start: cp_model.IntVar
    present: cp_model.IntVar
    where: dict[Window, cp_model.IntVar] = field(default_factory=dict)
    desired: int = 0
    wait: cp_model.IntVar | None = None
    outside: cp_model.IntVar | None = None
    planned: int | None = None
    shift: cp_model.IntVar | None = None


class _WeekModel:
    def __init__(self, week: Week, settings: SolverSettings) -> None:
        self.week, self.settings, self.model = week, settings, cp_model.CpModel()
        self.sessions: list[_Session] = []
        self.in_window: dict[Window, list[tuple[_Session, cp_model.IntVar]]] = {}
        self.costs: list[cp_model.LinearExprT] = []
        self.spans: dict[Window, tuple[cp_model.IntVar, cp_model.IntVar]] = {}
        for request in week.requests:
            self._add_request(request)
        for key, members in self.in_window.items():
            self._add_window(key, members)

    def _add_request(self, request: Request) -> None:
        starts = {
            (c, w): starts_in_window(self.week, request, chair, w)
            for c, chair in enumerate(self.week.chairs)
            for w in range(len(chair.open_hours))
        }
        starts = {key: values for key, values in starts.items() if values}
        every = sorted({s for values in starts.values() for s in values})
        if not every:
            return
        step = max(request.spacing_min, request.duration_min)
        previous: _Session | None = None
        for k in range(self.week.wanted(request)):
            session = self._add_session(request, starts, every)
            if previous is not None:
                self.model.add_implication(session.present, previous.present)
                gap = session.start >= previous.start + step
                self.model.add(gap).only_enforce_if(session.present)
            planned = request.planned_min[k] if k < len(request.planned_min) else None
            desired = (
                request.earliest_min + k * step if planned is None else max(planned, request.earliest_min)
            )
            self._add_costs(session, desired=desired, every=every, planned=planned)
            previous = session

    def _add_session(
        self, request: Request, starts: dict[Window, tuple[int, ...]], every: list[int]
    ) -> _Session:
        m = self.model
        start = m.new_int_var_from_domain(cp_model.Domain.from_values(every), "start")
        session = _Session(request, start, m.new_bool_var("present"))
        for key, values in starts.items():
            here = m.new_bool_var("here")
            m.add_linear_expression_in_domain(start, cp_model.Domain.from_values(values)).only_enforce_if(
                here
            )
            session.where[key] = here
            self.in_window.setdefault(key, []).append((session, here))
        m.add(sum(session.where.values()) == session.present)
        self.sessions.append(session)
        return session

    def _add_costs(self, session: _Session, desired: int, every: list[int], planned: int | None) -> None:
        m, s = self.model, self.settings
        wait = m.new_int_var(0, WEEK_MINUTES // GRID_MINUTES, "wait")
        session.desired, session.wait = desired, wait
        m.add(GRID_MINUTES * wait >= session.start - desired).only_enforce_if(session.present)
        self.costs.append(s.wait_weight * wait)
        if planned is not None:  # quarter hours away from the planned start, earlier or later
            shift = session.shift = m.new_int_var(0, WEEK_MINUTES // GRID_MINUTES, "shift")
            session.planned = planned
            m.add(GRID_MINUTES * shift >= session.start - planned).only_enforce_if(session.present)
            m.add(GRID_MINUTES * shift >= planned - session.start).only_enforce_if(session.present)
            self.costs.append(s.shift_weight * shift)
        request = session.request
        if request.windows and not request.windows_hard:
            outside = session.outside = m.new_bool_var("outside")
            preferred = [v for v in every if in_soft_windows(request, v)]
            if preferred:
                inside = m.add_linear_expression_in_domain(
                    session.start, cp_model.Domain.from_values(preferred)
                )
                inside.only_enforce_if([session.present, outside.Not()])
            else:
                m.add_implication(session.present, outside)
            self.costs.append(s.soft_window_penalty * outside)

    def _add_window(self, key: Window, members: list[tuple[_Session, cp_model.IntVar]]) -> None:
        m = self.model
        chair = self.week.chairs[key[0]]
        hours = chair.open_hours[key[1]]
        low = m.new_int_var(hours.start_min, hours.end_min, "first_use")
        high = m.new_int_var(hours.start_min, hours.end_min, "last_use")
        self.spans[key] = (low, high)
        m.add(low <= high)
        intervals = []
        for b in chair.booked:
            if b.interval.overlaps(hours.start_min, hours.end_min):
                fixed_start = max(b.interval.start_min, hours.start_min)
                fixed_end = min(b.interval.end_min, hours.end_min)
                intervals.append(m.new_fixed_size_interval_var(fixed_start, fixed_end - fixed_start, "fixed"))
                m.add(low <= fixed_start)
                m.add(high >= fixed_end)
        for session, here in members:
            size = session.request.duration_min
            intervals.append(m.new_optional_fixed_size_interval_var(session.start, size, here, "session"))
            m.add(low <= session.start).only_enforce_if(here)
            m.add(high >= session.start + size).only_enforce_if(here)
            self.costs.append(-self.settings.idle_weight * size * here)
        m.add_no_overlap(intervals)
        # redundant, for a tighter bound: no more sessions than the shortest fits in the free stretches
        shortest = min(session.request.duration_min for session, _ in members)
        room = sum(length // shortest for length in free_stretches(chair, hours))
        m.add(cp_model.LinearExpr.sum([here for _, here in members]) <= room)
        self.costs.append(self.settings.idle_weight * (high - low))

    @property
    def placed(self) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.sum([session.present for session in self.sessions])

    def hint(self, placements: list[Placement]) -> None:
        """A complete hint (every variable) from ``placements``, so the solver starts from them."""
        chair_index = {c.chair_id: i for i, c in enumerate(self.week.chairs)}
        by_patient: dict[str, list[Placement]] = {}
        for p in sorted(placements, key=lambda p: p.start_min):
            by_patient.setdefault(p.patient_id, []).append(p)
        used: dict[Window, list[tuple[int, int]]] = {}
        for session in self.sessions:
            mine = by_patient.get(session.request.patient_id, [])
            booked = mine.pop(0) if mine else None
            self._hint_session(session, booked)
            for (c, w), here in session.where.items():
                hours = self.week.chairs[c].open_hours[w]
                chosen = (
                    booked is not None
                    and c == chair_index[booked.chair_id]
                    and hours.contains(booked.start_min, booked.end_min)
                )
                self.model.add_hint(here, chosen)
                if booked is not None and chosen:
                    used.setdefault((c, w), []).append((booked.start_min, booked.end_min))
        self._hint_spans(used)

    def _hint_session(self, session: _Session, booked: Placement | None) -> None:
        m = self.model
        m.add_hint(session.present, booked is not None)
        start = booked.start_min if booked else session.start.proto.domain[0]
        m.add_hint(session.start, start)
        if session.wait is not None:
            late = max(0, start - session.desired) if booked else 0
            m.add_hint(session.wait, -(-late // GRID_MINUTES))
        if session.shift is not None and session.planned is not None:
            away = abs(start - session.planned) if booked else 0
            m.add_hint(session.shift, -(-away // GRID_MINUTES))
        if session.outside is not None:
            m.add_hint(session.outside, booked is not None and not in_soft_windows(session.request, start))

    def _hint_spans(self, used: dict[Window, list[tuple[int, int]]]) -> None:
        for (c, w), (low, high) in self.spans.items():
            chair = self.week.chairs[c]
            hours = chair.open_hours[w]
            busy = used.get((c, w), []) + [
                (max(b.interval.start_min, hours.start_min), min(b.interval.end_min, hours.end_min))
                for b in chair.booked
                if b.interval.overlaps(hours.start_min, hours.end_min)
            ]
            self.model.add_hint(low, min((s for s, _ in busy), default=hours.start_min))
            self.model.add_hint(high, max((e for _, e in busy), default=hours.start_min))

    def _solver(self, seconds: float, work: float | None) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = seconds
        if work is not None:
            solver.parameters.max_deterministic_time = work
        solver.parameters.num_workers = self.settings.workers
        solver.parameters.random_seed = self.settings.seed
        # one thread still interleaves its search strategies and large-neighbourhood search, reproducibly
        solver.parameters.interleave_search = self.settings.interleave
        return solver

    def _read(self, solver: cp_model.CpSolver) -> list[Placement]:
        placements = []
        for session in self.sessions:
            for (c, _w), here in session.where.items():
                if solver.boolean_value(here):
                    start, size = solver.value(session.start), session.request.duration_min
                    placements.append(
                        Placement(
                            session.request.patient_id, self.week.chairs[c].chair_id, start, start + size
                        )
                    )
        return placements

    def solve(self, baseline: list[Placement]) -> tuple[str, list[Placement]] | None:
        """Two solves: the most sessions (half the time at most), then the best layout of that many."""
        limit, work = self.settings.time_limit_s, self.settings.work_limit
        self.hint(baseline)
        self.model.maximize(self.placed)
        first = self._solver(limit / 2, work / 2 if work else None)
        count_status = first.solve(self.model)
        if count_status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        most = self._read(first)
        self.model.add(self.placed >= len(most))
        self.model.clear_hints()
        # start the layout from the plan's own times when there are any and that placement keeps as many
        # sessions (without planned times the first solve's answer is the better start)
        near = planned_fit_place(self.week) if any(r.planned_min for r in self.week.requests) else []
        near_ok = bool(near) and len(near) >= len(most) and not placement_problems(self.week, near)
        self.hint(near if near_ok else most)
        self.model.minimize(cp_model.LinearExpr.sum(self.costs))
        second = self._solver(
            max(limit / 2, limit - first.wall_time),
            max(work / 2, work - first.response_proto.deterministic_time) if work else None,
        )
        layout_status = second.solve(self.model)
        if layout_status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return "cp-sat: " + _STATUS[count_status, cp_model.UNKNOWN], most
        return "cp-sat: " + _STATUS[count_status, layout_status], self._read(second)


_PROVEN, _BEST = cp_model.OPTIMAL, cp_model.FEASIBLE
_STATUS = {
    (_PROVEN, _PROVEN): "optimal",
    (_PROVEN, _BEST): "most sessions proven, layout best within the time limit",
    (_BEST, _PROVEN): "most sessions found within the time limit, their layout optimal",
    (_BEST, _BEST): "best within the time limit",
    (_PROVEN, cp_model.UNKNOWN): "most sessions proven, layout not improved within the time limit",
    (_BEST, cp_model.UNKNOWN): "most sessions found within the time limit, layout not improved",
}


def week_place(week: Week, settings: SolverSettings | None = None) -> WeekPlan:
    """Propose the week's placement of the pending requests (checked before it is returned)."""
    baseline = first_fit_place(week)
    model = _WeekModel(week, settings or SolverSettings())
    found = model.solve(baseline)
    if found is None:
        return plan_assemble(
            week, baseline, "first-fit (the solver found no placement within the time limit)"
        )
    method, placements = found
    if len(placements) < len(baseline):
        return plan_assemble(
            week, baseline, "first-fit (it placed more than the solver within the time limit)"
        )
    return plan_assemble(week, placements, method)
