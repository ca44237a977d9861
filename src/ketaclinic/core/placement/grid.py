"""Where a request's sessions may start: the quarter-hour grid inside each chair's opening hours, from the
patient's earliest start, within their hard windows, clear of the chair's fixed bookings and of the
patient's own fixed bookings (and the spacing around them). Shared by first-fit and the solver; the
checker does not use it."""

from __future__ import annotations

from ketaclinic.core.placement.week import GRID_MINUTES, Chair, Interval, Request, Week


def _first_on_grid(minute: int) -> int:
    return -(-minute // GRID_MINUTES) * GRID_MINUTES


def _clear_of_patient(week: Week, request: Request, start: int) -> bool:
    end = start + request.duration_min
    for b in week.patient_bookings(request.patient_id):
        if abs(start - b.start_min) < request.spacing_min or (start < b.end_min and b.start_min < end):
            return False
    return True


def starts_in_window(week: Week, request: Request, chair: Chair, window: int) -> tuple[int, ...]:
    """Allowed starts for ``request`` in ``chair``'s opening interval number ``window``."""
    hours = chair.open_hours[window]
    first = _first_on_grid(max(hours.start_min, request.earliest_min))
    found = []
    for start in range(first, hours.end_min - request.duration_min + 1, GRID_MINUTES):
        end = start + request.duration_min
        if request.windows_hard and not any(w.contains(start, end) for w in request.windows):
            continue
        if any(b.interval.overlaps(start, end) for b in chair.booked):
            continue
        if _clear_of_patient(week, request, start):
            found.append(start)
    return tuple(found)


def in_soft_windows(request: Request, start: int) -> bool:
    """The session keeps the patient's preferred windows (always true when they state none)."""
    end = start + request.duration_min
    return not request.windows or any(w.contains(start, end) for w in request.windows)


def longest_chain(starts: list[int], spacing_min: int, duration_min: int) -> int:
    """How many sessions at most fit among ``starts`` keeping the spacing (chairs otherwise empty)."""
    count, last = 0, None
    for start in sorted(set(starts)):
        if last is None or start - last >= max(spacing_min, duration_min):
            count, last = count + 1, start
    return count


def free_stretches(chair: Chair, hours: Interval) -> list[int]:
    """The lengths (minutes) of the stretches of ``hours`` the chair's fixed bookings leave free."""
    lengths, at = [], hours.start_min
    for b in sorted(b.interval for b in chair.booked if b.interval.overlaps(hours.start_min, hours.end_min)):
        lengths.append(max(0, b.start_min - at))
        at = max(at, b.end_min)
    return [*lengths, max(0, hours.end_min - at)]
