"""The esketamine (Spravato) REMS Patient Monitoring Form: prefilled from a session's facts, checked for gaps.

``rems_prefill`` builds the form's fields from what the session recorded (the devices given, vital signs
with their times, sedation/dissociation observations, adverse events, discharge, the patient's current
medications); ``rems_missing`` lists every required item that is empty or was taken outside the time the
protocol's ``rems`` section allows, each in words a clinic understands, with times on the location's clock
("Blood pressure about 40 minutes after the first device: none recorded between 10:35 and 10:45"). The
session's note is not signed while that list is not empty. Pure: no Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from ketaclinic.core.protocols.rems import RemsCheck, RemsCheckKind, RemsCheckSlot, RemsSection

LEVELS = ("none", "mild", "moderate", "severe")

NO_DEVICE = "Dose given: no esketamine device recorded on the MAR"
NO_LOT = "Device lot numbers: none entered (the lot printed on each device's box)"
NOT_DISCHARGED = "Monitoring time: the patient has not been discharged yet"
MONITORING_SHORT = (
    "Monitoring time: {minutes} min from the first device; the REMS asks at least {minimum} min"
)
NONE_IN_WINDOW = "{what}: none recorded between {start} and {end}"
OUTSIDE_WINDOW = "{what}: the one at {at} is outside {start} to {end}"
NO_ANCHOR = "{what}: cannot be placed in time ({anchor} is not recorded)"
BP_INCOMPLETE = "{what}: the reading at {at} has no {part} pressure"
LEVEL_UNKNOWN = "{what}: {value!r} is not one of none, mild, moderate, severe"
NO_SPO2 = "Pulse oximetry: no oxygen saturation recorded during the session"
NO_CONCOMITANT = "Concomitant medications: not answered (write 'none' if the patient takes none)"
NO_SAE_ANSWER = "Serious adverse events: not answered (yes or no)"
NO_SAE_TEXT = "Serious adverse events: answered yes, but not described"
NOT_CONFIRMED = "The prescriber has not confirmed the form yet"


@dataclass(frozen=True, slots=True)
class DeviceGiven:
    """One esketamine administration on the MAR (one device, or one line for several)."""

    at: datetime
    mg: Decimal
    lot: str = ""


@dataclass(frozen=True, slots=True)
class Reading:
    """One vital-sign reading as the form uses it (any part may be missing)."""

    at: datetime
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    spo2_percent: int | None = None
    sedation: str = ""  # the plain observation of sedation/dissociation: none, mild, moderate, severe


@dataclass(frozen=True, slots=True)
class EventFact:
    """An adverse event: what, when, how severe, notes."""

    at: datetime
    label: str
    severe: bool
    notes: str = ""


@dataclass(frozen=True, slots=True)
class SessionFacts:
    devices: tuple[DeviceGiven, ...] = ()
    readings: tuple[Reading, ...] = ()
    adverse_events: tuple[EventFact, ...] = ()
    medications: tuple[str, ...] = ()  # the patient's current medications, as named on the list
    discharged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CheckEntry:
    """The form's answer to one required check: when, and the value (BP, or a level)."""

    code: str
    at: datetime | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    level: str = ""


@dataclass(frozen=True, slots=True)
class RemsForm:
    first_device_at: datetime | None
    discharged_at: datetime | None
    dose_total_mg: Decimal | None
    device_count: int
    device_lots: tuple[str, ...]
    checks: tuple[CheckEntry, ...]
    spo2_lowest_percent: int | None
    concomitant_medications: str
    serious_adverse_event: bool | None
    serious_adverse_event_description: str

    @property
    def monitoring_min(self) -> int | None:
        """Whole minutes from the first device to discharge (the form's "total time")."""
        if self.first_device_at is None or self.discharged_at is None:
            return None
        return int((self.discharged_at - self.first_device_at).total_seconds() // 60)

    def entry(self, code: str) -> CheckEntry | None:
        return next((e for e in self.checks if e.code == code), None)


def check_label(check: RemsCheck) -> str:
    """'Blood pressure about 40 minutes after the first device', 'Sedation before discharge'."""
    if check.slot is RemsCheckSlot.AFTER_FIRST_DEVICE:
        return f"{check.kind.label} about {check.minutes} minutes after the first device"
    return f"{check.kind.label} {check.slot.label}"


def check_window(
    check: RemsCheck, first_device_at: datetime | None, discharged_at: datetime | None
) -> tuple[datetime, datetime] | None:
    """When a reading counts for ``check`` (both ends included), or None when its anchor is unknown."""
    if check.slot is RemsCheckSlot.BEFORE_DISCHARGE:
        if discharged_at is None:
            return None
        return discharged_at - timedelta(minutes=check.window_min), discharged_at
    if first_device_at is None:
        return None
    if check.slot is RemsCheckSlot.PRE_DOSE:
        return first_device_at - timedelta(minutes=check.window_min), first_device_at
    target = first_device_at + timedelta(minutes=check.minutes or 0)
    tolerance = timedelta(minutes=check.tolerance_min)
    return target - tolerance, target + tolerance


def _value_of(check: RemsCheck, r: Reading) -> CheckEntry | None:
    if check.kind is RemsCheckKind.BLOOD_PRESSURE:
        if r.systolic_mmhg is None and r.diastolic_mmhg is None:
            return None
        return CheckEntry(check.code, r.at, r.systolic_mmhg, r.diastolic_mmhg)
    return CheckEntry(check.code, r.at, level=r.sedation) if r.sedation else None


def _pick(
    check: RemsCheck, readings: Sequence[Reading], window: tuple[datetime, datetime] | None
) -> CheckEntry:
    """The reading that answers ``check``: in its window, the latest one (the one nearest the target time
    for a check after the first device); an empty entry when none is."""
    if window is None:
        return CheckEntry(check.code)
    start, end = window
    found = [(r.at, e) for r in readings if start <= r.at <= end and (e := _value_of(check, r)) is not None]
    if not found:
        return CheckEntry(check.code)
    if check.slot is RemsCheckSlot.AFTER_FIRST_DEVICE:
        middle = start + (end - start) / 2
        return min(found, key=lambda f: (abs(f[0] - middle), f[0]))[1]
    return max(found, key=lambda f: f[0])[1]


def rems_prefill(section: RemsSection, facts: SessionFacts) -> RemsForm:
    """The form as the session's records fill it; the prescriber completes and confirms the rest."""
    first = min((d.at for d in facts.devices), default=None)
    readings = sorted(facts.readings, key=lambda r: r.at)
    lots = tuple(dict.fromkeys(d.lot.strip() for d in facts.devices if d.lot.strip()))
    severe = [e for e in facts.adverse_events if e.severe]
    spo2 = [r.spo2_percent for r in readings if r.spo2_percent is not None]
    return RemsForm(
        first_device_at=first,
        discharged_at=facts.discharged_at,
        dose_total_mg=sum((d.mg for d in facts.devices), Decimal(0)) if facts.devices else None,
        device_count=len(facts.devices),
        device_lots=lots,
        checks=tuple(_pick(c, readings, check_window(c, first, facts.discharged_at)) for c in section.checks),
        spo2_lowest_percent=min(spo2, default=None),
        concomitant_medications=", ".join(facts.medications),
        serious_adverse_event=True if severe else None,
        serious_adverse_event_description="; ".join(
            f"{e.label}{f': {e.notes}' if e.notes else ''}" for e in severe
        ),
    )


def _check_problem(check: RemsCheck, form: RemsForm, zone: tzinfo) -> str | None:
    what = check_label(check)
    window = check_window(check, form.first_device_at, form.discharged_at)
    if window is None:
        anchor = "the discharge" if check.slot is RemsCheckSlot.BEFORE_DISCHARGE else "the first device"
        return NO_ANCHOR.format(what=what, anchor=anchor)
    start, end = (t.astimezone(zone).strftime("%H:%M") for t in window)
    e = form.entry(check.code)
    if e is None or e.at is None:
        return NONE_IN_WINDOW.format(what=what, start=start, end=end)
    at = e.at.astimezone(zone).strftime("%H:%M")
    if not window[0] <= e.at <= window[1]:
        return OUTSIDE_WINDOW.format(what=what, at=at, start=start, end=end)
    if check.kind is RemsCheckKind.BLOOD_PRESSURE:
        for part, value in (("systolic", e.systolic_mmhg), ("diastolic", e.diastolic_mmhg)):
            if value is None:
                return BP_INCOMPLETE.format(what=what, at=at, part=part)
    elif e.level not in LEVELS:
        return LEVEL_UNKNOWN.format(what=what, value=e.level)
    return None


def rems_missing(section: RemsSection, form: RemsForm, zone: tzinfo) -> tuple[str, ...]:
    """Every required item that is empty or out of its time window, in the form's order."""
    problems: list[str] = []
    if not form.device_count or not form.dose_total_mg:
        problems.append(NO_DEVICE)
    if not form.device_lots:
        problems.append(NO_LOT)
    minutes = form.monitoring_min
    if form.discharged_at is None:
        problems.append(NOT_DISCHARGED)
    elif minutes is not None and minutes < section.monitoring_min:
        problems.append(MONITORING_SHORT.format(minutes=minutes, minimum=section.monitoring_min))
    problems.extend(p for c in section.checks if (p := _check_problem(c, form, zone)) is not None)
    if form.spo2_lowest_percent is None:
        problems.append(NO_SPO2)
    if not form.concomitant_medications.strip():
        problems.append(NO_CONCOMITANT)
    if form.serious_adverse_event is None:
        problems.append(NO_SAE_ANSWER)
    elif form.serious_adverse_event and not form.serious_adverse_event_description.strip():
        problems.append(NO_SAE_TEXT)
    return tuple(problems)


@dataclass(frozen=True, slots=True)
class RemsDeadline:
    """When a form is due, on the location's calendar: the last day to submit, and how it stands today."""

    session_day: date
    due: date
    days_left: int  # negative when overdue

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


def rems_deadline(section: RemsSection, session_at: datetime, now: datetime, zone: tzinfo) -> RemsDeadline:
    """The form is due by the end of the day ``submit_within_days`` after the session's day, both days on
    the location's calendar (a session at 23:30 local is that day's session whatever UTC says)."""
    day = session_at.astimezone(zone).date()
    due = day + timedelta(days=section.submit_within_days)
    return RemsDeadline(day, due, (due - now.astimezone(zone).date()).days)


def rems_due_soon(section: RemsSection, deadline: RemsDeadline) -> bool:
    return 0 <= deadline.days_left <= section.due_soon_days
