"""The day board of a location: chairs and home visits, sessions, planned slots not checked in, safety
flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.services import audit_list
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion.delivery import Delivery
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.core.infusion.vitals import VitalsDue
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.infusions.selectors.pathway import OPEN_STATES
from ketaclinic.infusions.selectors.polls import board_row_parts, board_rows, fingerprinted
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.outcomes.selectors import open_safety_flags
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.plans.selectors import planned_infusions_on

LOCATION_NOT_YOURS = "You do not work at {value}."


def infusion_number(planned: PlannedInfusion | None) -> str:
    """Which infusion of the plan a slot is, as the board says it: "3 of 6", or "booster"."""
    if planned is None:
        return ""
    if planned.kind == PlannedInfusion.Kind.BOOSTER:
        return "booster"
    return f"{planned.sequence} of {planned.plan.series_count}"


@dataclass(frozen=True)
class BoardRow:
    session: InfusionSession
    state: SessionState
    open_alerts: int
    vitals_due: VitalsDue | None
    delivery: Delivery
    flagged: bool = False  # the patient has an open safety flag

    @property
    def overdue(self) -> bool:
        return self.vitals_due is not None and self.vitals_due.overdue

    @property
    def number(self) -> str:
        return infusion_number(self.session.planned_infusion)

    @property
    def scheduled_start(self) -> datetime:
        return self.session.scheduled_start

    is_slot = False


@dataclass(frozen=True)
class BoardSlot:
    """A planned infusion of today that has no session yet: the patient is expected, not checked in."""

    planned: PlannedInfusion
    flagged: bool = False

    @property
    def patient(self) -> Patient:
        return self.planned.plan.patient

    @property
    def number(self) -> str:
        return infusion_number(self.planned)

    @property
    def preparation(self) -> Any:
        """The day-before reminder's answer (the reminders app's row) for the slot's present time, or None
        before one was made: a reminder of a cancelled booking, or of the time before a move, is not it."""
        current = [
            r
            for r in self.planned.preparations.all()  # prefetched with their message and appointment
            if r.starts_at == self.planned.scheduled_start
            and (r.appointment is None or r.appointment.status == "booked")
        ]
        return max(current, key=lambda r: r.created_at, default=None)

    @property
    def scheduled_start(self) -> datetime:
        return self.planned.scheduled_start

    is_slot = True


@dataclass(frozen=True)
class BoardChair:
    chair: Chair | None  # None: home visits
    rows: list[BoardRow]
    slots: list[BoardSlot] = field(default_factory=list)

    @property
    def entries(self) -> list[BoardRow | BoardSlot]:
        """Sessions and slots not yet checked in, by time: one lane of the board."""
        return sorted([*self.rows, *self.slots], key=lambda e: e.scheduled_start)


@dataclass(frozen=True)
class DayBoard:
    location: Location
    day: date
    chairs: list[BoardChair]
    now: datetime
    flags: list[SafetyFlag] = field(default_factory=list)  # open urgent safety flags, oldest first

    @property
    def rows(self) -> list[BoardRow]:
        return [r for c in self.chairs for r in c.rows]

    @property
    def slots(self) -> list[BoardSlot]:
        return [s for c in self.chairs for s in c.slots]

    @property
    def patients(self) -> list[Patient]:
        """Every patient the board names (sessions, slots, flags), once each."""
        return list(
            dict.fromkeys(
                [
                    *(r.session.patient for r in self.rows),
                    *(s.patient for s in self.slots),
                    *(f.patient for f in self.flags),
                ]
            )
        )


def day_board(
    *, user: User, location: Location, day: date | None = None, now: datetime | None = None
) -> DayBoard:
    """Every chair and home visit of a location for a day (in the location's time zone): the sessions, the
    planned infusions not checked in yet, and the open urgent safety flags of the location's patients and of
    the patients on the board: sessions, planned slots, flags, chairs; each session's pump events, readings,
    signed order and open alerts are read only when they changed since the board was last read (``polls``)."""
    require(user, Permission.BOARD_VIEW)
    if location.pk not in user_location_ids(user):
        raise PermissionDenied(LOCATION_NOT_YOURS.format(value=location))
    now = now or timezone.now()
    tz = ZoneInfo(location.timezone)
    day = day or now.astimezone(tz).date()
    start = datetime.combine(day, time.min, tzinfo=tz)
    on_day = Q(scheduled_start__gte=start, scheduled_start__lt=start + timedelta(days=1))
    if day == now.astimezone(tz).date():  # a patient still in the chair after midnight stays on today's board
        on_day |= Q(
            scheduled_start__gte=start - timedelta(days=1),
            scheduled_start__lt=start,
            state__in=[st.value for st in OPEN_STATES],
        )
    sessions = list(
        fingerprinted(InfusionSession.objects.filter(on_day, location=location))
        .select_related("patient", "location", "chair", "protocol_version", "planned_infusion__plan")
        # the version's document (about 20 kB of JSON a row) is read only when ``parsed`` has not seen it
        .defer("protocol_version__document")
        .order_by("scheduled_start")
    )
    polled = board_rows(sessions)  # pump events, readings, signed order, open alerts: cached per session
    planned = list(
        planned_infusions_on(user=user, location=location, day=day, permission=Permission.BOARD_VIEW)
        .filter(status=PlannedInfusion.Status.PLANNED)
        # a slot whose sessions were all cancelled (a mistaken check-in) is expected again
        .filter(
            ~Exists(
                InfusionSession.objects.filter(planned_infusion=OuterRef("pk")).exclude(
                    state=SessionState.CANCELLED.value
                )
            )
        )
        # the day-before reminders' answers: two queries, however many slots
        .prefetch_related(
            Prefetch(
                "preparations",
                queryset=PlannedInfusion._meta.get_field("preparations")
                .related_model._default_manager.select_related("message", "appointment")
                .order_by("pk"),
            )
        )
        .order_by("scheduled_start")
    )
    with timezone.override(tz):
        flags = open_safety_flags(
            location, day, patients=[*(s.patient_id for s in sessions), *(p.plan.patient_id for p in planned)]
        )
    flagged = {f.patient_id for f in flags}
    rows: dict[int | None, list[BoardRow]] = {}
    for s in sessions:
        alerts, due, delivered = board_row_parts(s, polled[s.pk], now)
        rows.setdefault(s.chair_id, []).append(
            BoardRow(
                session=s,
                state=s.state_enum,
                open_alerts=alerts,
                vitals_due=due,
                delivery=delivered,
                flagged=s.patient_id in flagged,
            )
        )
    slots: dict[int | None, list[BoardSlot]] = {}
    for p in planned:
        slots.setdefault(p.chair_id, []).append(BoardSlot(planned=p, flagged=p.plan.patient_id in flagged))
    board = DayBoard(location=location, day=day, now=now, flags=flags, chairs=[])
    audit_list(
        [
            *dict.fromkeys(
                [
                    *(s.patient for s in sessions),
                    *(p.plan.patient for p in planned),
                    *(f.patient for f in flags),
                ]
            )
        ],
        f"day board {location.code} {day.isoformat()}",
    )
    lanes = list(Chair.objects.filter(location=location, active=True))
    # A chair taken out of service today still shows what was booked in it.
    lanes += [
        c
        for c in {*(s.chair for s in sessions), *(p.chair for p in planned)} - {None, *lanes}
        if c is not None
    ]
    board.chairs.extend(BoardChair(c, rows.get(c.pk, []), slots.get(c.pk, [])) for c in lanes)
    board.chairs.append(BoardChair(None, rows.get(None, []), slots.get(None, [])))
    return board
