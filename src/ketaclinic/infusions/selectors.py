"""Reads of infusion sessions that pages and the API share: detail, day board, MAR, chart series.

Each checks its permission (and the patient's location) and keeps its query count bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.services import audit_list, audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion.checklist import ChecklistResult
from ketaclinic.core.infusion.delivery import Delivery, RateEventKind, RatePoint, delivered_regimen
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.core.infusion.vitals import VitalsDue, reading_complete, vitals_due
from ketaclinic.core.pharmacology.models import pk_model_get
from ketaclinic.core.pharmacology.simulation import simulate
from ketaclinic.core.protocols.monitoring import MonitoringSection
from ketaclinic.infusions.models import (
    DischargeAssessment,
    InfusionOrder,
    InfusionSession,
    MedicationAdministration,
    RateEvent,
    SessionNote,
    VialCheck,
    VitalAlert,
    VitalSigns,
)
from ketaclinic.infusions.services import (
    bag_delivery,
    checklist_result,
    current_order,
    interacting_medications,
    reading_of,
    signed_order,
)
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.outcomes.selectors import open_safety_flags
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.plans.selectors import planned_infusions_on

LOCATION_NOT_YOURS = "You do not work at {value}."


def session_get(*, user: User, external_id: str, permission: Permission = Permission.SESSION_VIEW) -> InfusionSession:
    """One session by its public id, if the user may see it (404 when unknown, 403 outside their locations)."""
    require(user, permission)
    session = (InfusionSession.objects.select_related("patient", "patient__location", "protocol_version", "location",
                                                      "chair", "updated_by")
               .get(external_id=external_id))
    patient_for(user, session.patient, permission)
    return session


def sessions_for_patient(*, user: User, patient: Patient) -> QuerySet[InfusionSession]:
    patient_for(user, patient, Permission.SESSION_VIEW)
    audit_read(patient, "infusion sessions")
    return (InfusionSession.objects.filter(patient=patient).select_related("location", "chair", "protocol_version")
            .order_by("-scheduled_start"))


def last_complete_taken_at(vitals: list[VitalSigns], monitoring: MonitoringSection | None) -> datetime | None:
    """When the last COMPLETE set of vital signs was taken (a partial reading does not reset the clock)."""
    if monitoring is None:
        return max((v.taken_at for v in vitals), default=None)
    return max((v.taken_at for v in vitals if reading_complete(reading_of(v), monitoring)), default=None)


def _due(session: InfusionSession, last_taken_at: datetime | None, now: datetime) -> VitalsDue | None:
    """When the next reading is due while infusing or recovering (None in other states)."""
    doc = session.protocol_version.parsed
    if doc.monitoring is None:
        return None
    m = doc.monitoring
    state = session.state_enum
    if state.infusing and session.started_at is not None:
        return vitals_due(since=session.started_at, last_reading_at=last_taken_at, now=now,
                          interval_min=m.vitals_interval_min, grace_min=m.overdue_grace_min)
    if state is SessionState.RECOVERING and session.ended_at is not None:
        return vitals_due(since=session.ended_at, last_reading_at=last_taken_at, now=now,
                          interval_min=m.recovery_interval_min, grace_min=m.overdue_grace_min)
    return None


@dataclass(frozen=True)
class SessionDetail:
    session: InfusionSession
    order: InfusionOrder | None
    signed_order: InfusionOrder | None
    checklist: ChecklistResult | None
    delivery: Delivery
    vitals_due: VitalsDue | None
    open_alerts: list[VitalAlert]
    vitals: list[VitalSigns]
    rate_events: list[RateEvent]
    observation_remaining_min: float | None
    discharge_assessment: DischargeAssessment | None
    now: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    interacting_medications: list[str] = field(default_factory=list)  # for the "medications reviewed" item
    vial_check: VialCheck | None = None  # the latest independent check of the signed order's bag


def session_detail(*, user: User, session: InfusionSession, now: datetime | None = None) -> SessionDetail:
    """Everything the live page shows: delivered dose, elapsed time, vitals due/overdue, open alerts."""
    patient_for(user, session.patient, Permission.SESSION_VIEW)
    audit_read(session.patient, "infusion session")
    now = now or timezone.now()
    vitals = list(session.vitals.all())
    events = list(session.rate_events.select_related("recorded_by", "signer", "cosigned_by"))
    points = [RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h) for e in events]
    doc = session.protocol_version.parsed
    last_taken = last_complete_taken_at(vitals, doc.monitoring)
    remaining = None
    if session.ended_at is not None and doc.discharge is not None and session.state == SessionState.RECOVERING:
        remaining = max(doc.discharge.observation_min - (now - session.ended_at).total_seconds() / 60.0, 0.0)
    closed = session.state_enum in (SessionState.SCHEDULED, SessionState.CANCELLED)
    signed = signed_order(session)
    return SessionDetail(
        session=session, order=current_order(session), signed_order=signed,
        checklist=None if closed or doc.checklist is None else checklist_result(session),
        delivery=bag_delivery(points, now, signed), vitals_due=_due(session, last_taken, now),
        open_alerts=[a for a in session.alerts.all() if a.open], vitals=vitals, rate_events=events,
        observation_remaining_min=remaining,
        discharge_assessment=session.discharge_assessments.order_by("-assessed_at", "-id").first(), now=now,
        interacting_medications=interacting_medications(session.patient),
        vial_check=None if signed is None else signed.vial_checks.select_related("checked_by")
        .order_by("-checked_at", "-id").first(),
    )


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
        return list(dict.fromkeys([*(r.session.patient for r in self.rows), *(s.patient for s in self.slots),
                                   *(f.patient for f in self.flags)]))


OPEN_STATES = (SessionState.CHECKED_IN, SessionState.PRECHECKS_DONE, SessionState.RUNNING, SessionState.PAUSED,
               SessionState.RECOVERING)


def day_board(*, user: User, location: Location, day: date | None = None, now: datetime | None = None) -> DayBoard:
    """Every chair and home visit of a location for a day (in the location's time zone): the sessions, the
    planned infusions not checked in yet, and the open urgent safety flags of the location's patients and of
    the patients on the board, in 6 queries (sessions, pump events, open alerts, planned slots, flags, chairs)."""
    require(user, Permission.BOARD_VIEW)
    if location.pk not in user_location_ids(user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(LOCATION_NOT_YOURS.format(value=location))
    now = now or timezone.now()
    tz = ZoneInfo(location.timezone)
    day = day or now.astimezone(tz).date()
    start = datetime.combine(day, time.min, tzinfo=tz)
    on_day = Q(scheduled_start__gte=start, scheduled_start__lt=start + timedelta(days=1))
    if day == now.astimezone(tz).date():  # a patient still in the chair after midnight stays on today's board
        on_day |= Q(scheduled_start__gte=start - timedelta(days=1), scheduled_start__lt=start,
                    state__in=[st.value for st in OPEN_STATES])
    sessions = list(
        InfusionSession.objects.filter(on_day, location=location)
        .select_related("patient", "chair", "protocol_version", "planned_infusion__plan")
        .prefetch_related(Prefetch("rate_events", queryset=RateEvent.objects.order_by("at", "id")),
                          Prefetch("vitals", queryset=VitalSigns.objects.order_by("taken_at", "id"), to_attr="vital_list"),
                          Prefetch("orders", queryset=InfusionOrder.objects.filter(signed_at__isnull=False),
                                   to_attr="signed_orders"),
                          Prefetch("alerts", queryset=VitalAlert.objects.filter(acknowledged_at__isnull=True),
                                   to_attr="open_alert_list"))
        .order_by("scheduled_start")
    )
    planned = list(planned_infusions_on(user=user, location=location, day=day, permission=Permission.BOARD_VIEW)
                   .filter(status=PlannedInfusion.Status.PLANNED)
                   # a slot whose sessions were all cancelled (a mistaken check-in) is expected again
                   .filter(~Exists(InfusionSession.objects.filter(planned_infusion=OuterRef("pk"))
                                   .exclude(state=SessionState.CANCELLED.value)))
                   .order_by("scheduled_start"))
    with timezone.override(tz):
        flags = open_safety_flags(location, day, patients=[*(s.patient_id for s in sessions),
                                                           *(p.plan.patient_id for p in planned)])
    flagged = {f.patient_id for f in flags}
    rows: dict[int | None, list[BoardRow]] = {}
    for s in sessions:
        points = [RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h) for e in s.rate_events.all()]
        rows.setdefault(s.chair_id, []).append(BoardRow(
            session=s, state=s.state_enum, open_alerts=len(s.open_alert_list),
            vitals_due=_due(s, last_complete_taken_at(s.vital_list, s.protocol_version.parsed.monitoring), now),
            delivery=bag_delivery(points, now, next(iter(s.signed_orders), None)), flagged=s.patient_id in flagged))
    slots: dict[int | None, list[BoardSlot]] = {}
    for p in planned:
        slots.setdefault(p.chair_id, []).append(BoardSlot(planned=p, flagged=p.plan.patient_id in flagged))
    board = DayBoard(location=location, day=day, now=now, flags=flags, chairs=[])
    audit_list([*dict.fromkeys([*(s.patient for s in sessions), *(p.plan.patient for p in planned),
                                *(f.patient for f in flags)])], f"day board {location.code} {day.isoformat()}")
    lanes = list(Chair.objects.filter(location=location, active=True))
    # A chair taken out of service today still shows what was booked in it.
    lanes += [c for c in {*(s.chair for s in sessions), *(p.chair for p in planned)} - {None, *lanes} if c is not None]
    board.chairs.extend(BoardChair(c, rows.get(c.pk, []), slots.get(c.pk, [])) for c in lanes)
    board.chairs.append(BoardChair(None, rows.get(None, []), slots.get(None, [])))
    return board


@dataclass(frozen=True)
class MarEntry:
    """One line of the medication administration record."""

    session: InfusionSession
    medication: str
    rxnorm: str
    dose: str
    unit: str
    route: str
    at: datetime
    ended_at: datetime | None
    given_by: str
    reason: str
    rates: list[dict[str, Any]]
    bag: str = ""  # for the ketamine infusion: the bag it came from (the order is the bag)


def _mar_entries(sessions: list[InfusionSession]) -> list[MarEntry]:
    out = []
    for s in sessions:
        rates = [{"kind": e.kind, "at": e.at, "rate_mg_per_h": e.rate_mg_per_h, "rate_ml_per_h": e.rate_ml_per_h,
                  "reason": e.reason, "signer": str(e.signer) if e.signer else ""} for e in s.rate_events.all()]
        order = next((o for o in s.orders.all() if o.signed_at is not None), None)
        for m in s.administrations.all():
            infusion = m.medication == "ketamine" and m.ended_at is not None
            out.append(MarEntry(session=s, medication=m.medication, rxnorm=m.rxnorm, dose=f"{m.dose.normalize():f}",
                                unit=m.unit, route=m.route, at=m.at, ended_at=m.ended_at, given_by=str(m.created_by),
                                reason=m.reason, rates=rates if infusion else [],
                                bag=bag_summary(order) if infusion and order is not None else ""))
    return out


def bag_summary(order: InfusionOrder) -> str:
    """The bag of a signed order, in words: what was drawn into what, and the volume the pump gives."""
    if order.vtbi_ml is None or order.vial_mg_per_ml is None or order.drug_volume_ml is None or order.bag_ml is None:
        return ""
    return (f"Bag: {order.dose_mg:.1f} mg ({order.drug_volume_ml:.2f} mL of {order.vial_mg_per_ml:g} mg/mL) in "
            f"{order.bag_ml:g} mL; volume to be infused {order.vtbi_ml:.1f} mL")


def _mar_queryset() -> QuerySet[InfusionSession]:
    return InfusionSession.objects.select_related("patient", "location").prefetch_related(
        Prefetch("administrations", queryset=MedicationAdministration.objects.select_related("created_by")),
        Prefetch("rate_events", queryset=RateEvent.objects.select_related("signer").order_by("at", "id")), "orders")


def mar_for_session(*, user: User, session: InfusionSession) -> list[MarEntry]:
    patient_for(user, session.patient, Permission.MAR_VIEW)
    audit_read(session.patient, "medication administration record")
    return _mar_entries(list(_mar_queryset().filter(pk=session.pk)))


def mar_for_patient(*, user: User, patient: Patient) -> list[MarEntry]:
    patient_for(user, patient, Permission.MAR_VIEW)
    audit_read(patient, "medication administration record")
    return _mar_entries(list(_mar_queryset().filter(patient=patient).order_by("scheduled_start")))


@dataclass(frozen=True)
class ChartSeries:
    """Vitals over time and the predicted plasma concentration, both in minutes from the infusion start."""

    started_at: datetime | None
    vitals: list[dict[str, Any]]
    predicted: list[tuple[float, float]]  # the signed order's pump program, as planned
    predicted_note: str
    predicted_given: list[tuple[float, float]] = field(default_factory=list)  # from the rate history so far


def vitals_chart(*, user: User, session: InfusionSession, now: datetime | None = None) -> ChartSeries:
    patient_for(user, session.patient, Permission.SESSION_VIEW)
    audit_read(session.patient, "vital signs chart")
    origin = session.started_at or session.checked_in_at or session.scheduled_start
    vitals = [{"minute": round((v.taken_at - origin).total_seconds() / 60.0, 1), "taken_at": v.taken_at,
               "phase": v.phase, "systolic_mmhg": v.systolic_mmhg, "diastolic_mmhg": v.diastolic_mmhg,
               "heart_rate_bpm": v.heart_rate_bpm, "spo2_percent": v.spo2_percent,
               "respiratory_rate_per_min": v.respiratory_rate_per_min, "sedation": v.sedation}
              for v in session.vitals.all()]
    order = signed_order(session) or current_order(session)
    prediction = (order.prediction or {}) if order is not None else {}
    curve = [(float(t), float(c)) for t, c in prediction.get("curve", [])]
    return ChartSeries(started_at=session.started_at, vitals=vitals, predicted=curve,
                       predicted_note=str(prediction.get("note", "")),
                       predicted_given=_given_curve(session, order, now or timezone.now()))


def _given_curve(session: InfusionSession, order: InfusionOrder | None, now: datetime) -> list[tuple[float, float]]:
    """Predicted plasma concentration (ng/mL) for what the pump actually delivered, to an hour past now/the stop."""
    dosing = session.protocol_version.parsed.dosing
    if order is None or dosing is None or dosing.pk_model is None:
        return []
    events = list(session.rate_events.all())
    regimen = delivered_regimen([RatePoint(RateEventKind(e.kind), e.at, e.rate_mg_per_h, e.rate_ml_per_h)
                                 for e in events], now, vtbi_ml=order.vtbi_ml or None)
    if regimen is None:
        return []
    sim = simulate(pk_model_get(dosing.pk_model), float(order.weight_kg), regimen,
                   until_min=regimen.end_min + 60.0, step_min=2.0)
    return [(round(float(t), 2), round(float(c), 2)) for t, c in zip(sim.t_min, sim.plasma_ng_per_ml, strict=True)]


# --- the prescriber's worklist -------------------------------------------------------------------------


@dataclass(frozen=True)
class CosignItem:
    """A verbal titration order waiting for a prescriber's co-signature, due within the protocol's window."""

    event: RateEvent
    due: datetime | None
    overdue: bool

    @property
    def session(self) -> InfusionSession:
        return self.event.session


@dataclass(frozen=True)
class PrescriberWorklist:
    orders: list[InfusionOrder]  # calculated, not yet signed
    cosigns: list[CosignItem]  # verbal titrations not yet co-signed (overdue first)
    notes: list[SessionNote]  # generated, not yet signed

    @property
    def empty(self) -> bool:
        return not (self.orders or self.cosigns or self.notes)

    @property
    def patients(self) -> list[Patient]:
        return [*(o.session.patient for o in self.orders), *(c.session.patient for c in self.cosigns),
                *(n.session.patient for n in self.notes)]


def _cosign_hours(session: InfusionSession) -> float | None:
    dosing = session.protocol_version.parsed.dosing
    return None if dosing is None or dosing.verbal_orders is None else dosing.verbal_orders.cosign_within_hours


def prescriber_worklist(*, user: User, now: datetime | None = None, limit: int = 50) -> PrescriberWorklist:
    """Orders to sign, verbal titrations to co-sign (overdue past the protocol's window) and notes to sign,
    at the prescriber's locations; a bounded number of queries whatever the length."""
    require(user, Permission.ORDER_SIGN)
    now = now or timezone.now()
    where = user_location_ids(user)
    related = ("session__patient", "session__protocol_version", "session__location")
    orders = list(InfusionOrder.objects.filter(
        session__location_id__in=where, signed_at__isnull=True, superseded=False,
        session__state__in=[SessionState.CHECKED_IN.value, SessionState.PRECHECKS_DONE.value],
    ).select_related(*related).order_by("created_at")[:limit])
    events = list(RateEvent.objects.filter(session__location_id__in=where, verbal_order=True, cosigned_at__isnull=True)
                  .select_related(*related, "signer", "recorded_by").order_by("recorded_at")[:limit])
    cosigns: list[CosignItem] = []
    windows: dict[int, float | None] = {}
    for e in events:
        pv = e.session.protocol_version_id
        hours = windows[pv] if pv in windows else windows.setdefault(pv, _cosign_hours(e.session))
        due = None if hours is None else e.recorded_at + timedelta(hours=hours)
        cosigns.append(CosignItem(e, due, due is not None and now > due))
    cosigns.sort(key=lambda c: (not c.overdue, c.event.recorded_at))
    notes = list(SessionNote.objects.filter(session__location_id__in=where, signed_at__isnull=True)
                 .select_related(*related).order_by("created_at")[:limit])
    return PrescriberWorklist(orders, cosigns, notes)


def rate_event_get(*, session: InfusionSession, number: int) -> RateEvent | None:
    """The session's ``number``-th pump event (1-based, in time order), or None."""
    if number < 1:
        return None
    return session.rate_events.order_by("at", "id").select_related("signer", "cosigned_by")[number - 1:number].first()


def rate_event_number(event: RateEvent) -> int:
    """The 1-based position of ``event`` among its session's pump events (time order)."""
    earlier = RateEvent.objects.filter(session_id=event.session_id).filter(
        models.Q(at__lt=event.at) | models.Q(at=event.at, id__lt=event.pk))
    return earlier.count() + 1
