"""A synthetic patient's visits: infusion sessions (order, pump events, vitals every five minutes) and
questionnaires on the plan's schedule, each value drawn within the core's plausible ranges and checked by
the core (``reading_check``, ``alerts_for``, ``score``) before it is queued."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.infusion.vitals import Sedation, VitalReading, alerts_for, reading_check
from ketaclinic.core.instruments.registry import get_instrument
from ketaclinic.core.instruments.scoring import score
from ketaclinic.core.outcomes.schedule import due_schedule
from ketaclinic.core.pharmacology.dosing import dose_calculate
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, RateEvent, VitalAlert, VitalSigns
from ketaclinic.infusions.selectors.orders import order_prediction
from ketaclinic.outcomes.models import QuestionnaireResponse, SafetyFlag
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.web.network.context import Context
from ketaclinic.web.network.people import PatientDraft

READING_EVERY_MIN = 5
RECOVERY_MIN = 30
CANCELLED_SHARE = 0.04
SPIKE_SHARE = 0.03


@cache
def _document(pv_pk: int) -> Any:
    return ProtocolVersion.objects.get(pk=pv_pk).parsed


_PREDICTIONS: dict[tuple[str | None, str], dict[str, Any] | None] = {}


def _prediction(pk_model: str | None, calc_key: str, calc: Any) -> dict[str, Any] | None:
    """The PK prediction of a pump program (the same program gives the same curve: computed once)."""
    if (pk_model, calc_key) not in _PREDICTIONS:
        _PREDICTIONS[pk_model, calc_key] = order_prediction(pk_model, calc)
    return _PREDICTIONS[pk_model, calc_key]


@cache
def _order_fields(pv_pk: int, weight_kg: Decimal, height_cm: Decimal, sex: str) -> dict[str, Any]:
    """The dose engine's order for this weight, height and sex under the protocol (the same inputs give the
    same order, so it is computed once)."""
    doc = _document(pv_pk)
    assert doc.dosing is not None  # only protocols with dosing are drawn
    calc = dose_calculate(
        doc.dosing, weight_kg=float(weight_kg), height_cm=float(height_cm), sex=sex, require_height=True
    )
    p = calc.pump
    # what the prediction depends on (selectors.orders.order_prediction): the pump program and the weight
    key = "" if p is None else f"{calc.dosing_weight.actual_kg}|{p.run_time_min}|{p.delivered_rate_mg_per_h}"
    return {
        "weight_kg": weight_kg,
        "dosing_weight_kg": calc.dosing_weight.kg,
        "dosing_weight_basis": calc.dosing_weight.basis.value,
        "dose_mg": calc.dose_mg,
        "dose_mg_per_kg": calc.dose_mg_per_kg,
        "route": calc.route.value,
        "duration_min": calc.duration_min,
        "rate_mg_per_h": None if p is None else p.delivered_rate_mg_per_h,
        "rate_ml_per_h": None if p is None else p.rate_ml_per_h,
        "concentration_mg_per_ml": None if p is None else p.concentration_mg_per_ml,
        "vial_mg_per_ml": None if p is None else p.vial_mg_per_ml,
        "drug_volume_ml": None if p is None else p.drug_volume_ml,
        "bag_ml": None if p is None else p.bag_ml,
        "vtbi_ml": None if p is None else p.vtbi_ml,
        "calculation": calc.as_dict(),
        "prediction": _prediction(doc.dosing.pk_model, key, calc),
    }


def _reading(rng: random.Random, phase: str, minute: float) -> VitalReading:
    rise = 10 if phase == "infusion" else (4 if phase == "recovery" else 0)
    sedation = Sedation.NONE
    if phase == "infusion" and minute > 5:
        sedation = rng.choice([Sedation.MILD, Sedation.MILD, Sedation.MODERATE])
    return VitalReading(
        systolic_mmhg=rng.randint(112, 132) + rise,
        diastolic_mmhg=rng.randint(70, 84) + rise // 2,
        heart_rate_bpm=rng.randint(62, 84) + rise // 2,
        spo2_percent=rng.randint(95, 99),
        respiratory_rate_per_min=rng.randint(12, 18),
        sedation=sedation,
    )


def _times(start: datetime, duration_min: float, now: datetime) -> dict[str, datetime | None]:
    checked_in = start - timedelta(minutes=10)
    prechecks = start + timedelta(minutes=5)
    started = start + timedelta(minutes=15)
    ended = started + timedelta(minutes=duration_min)
    discharged = ended + timedelta(minutes=RECOVERY_MIN + 5)
    moments = {
        "checked_in_at": checked_in,
        "prechecks_done_at": prechecks,
        "started_at": started,
        "ended_at": ended,
        "discharged_at": discharged,
    }
    return {k: (v if v <= now else None) for k, v in moments.items()}


def _state(t: dict[str, datetime | None]) -> str:
    for key, state in (
        ("discharged_at", "discharged"),
        ("ended_at", "recovering"),
        ("started_at", "running"),
        ("prechecks_done_at", "prechecks_done"),
        ("checked_in_at", "checked_in"),
    ):
        if t[key] is not None:
            return state
    return "scheduled"


def session_add(
    h: Context,
    d: PatientDraft,
    plan: TreatmentPlan | None,
    pv: ProtocolVersion,
    planned: PlannedInfusion | None,
    prescriber: User,
    *,
    start: datetime | None = None,
    chair: Any = None,
    added_reason: str = "",
    now: datetime | None = None,
) -> InfusionSession:
    """One session of ``planned`` (or an added one at ``start``): done when in the past, in the state the
    clock says when today."""
    rng, clinic, store = h.rng, d.clinic, h.store
    now = now or h.now
    start = start or (planned.scheduled_start if planned else h.now)
    series = pv.parsed.series
    monitoring = pv.parsed.monitoring
    assert series is not None  # only complete protocols are drawn
    assert monitoring is not None
    nurse = rng.choice(clinic.nurses)
    order_f = _order_fields(pv.pk, d.weight.value_si, d.height.value_si, d.patient.sex_at_birth)
    duration = float(order_f["duration_min"] or 40)
    cancelled = start < now - timedelta(days=1) and rng.random() < CANCELLED_SHARE
    t = _times(start, duration, now) if not cancelled else dict.fromkeys(_times(start, 0, start), None)
    state = "cancelled" if cancelled else _state(t)
    session = InfusionSession(
        external_id=uuid.uuid4(),
        created_at=plan.signed_at if plan and plan.signed_at else start - timedelta(days=1),
        updated_at=t["discharged_at"] or t["checked_in_at"] or start,
        created_by=nurse,
        patient=d.patient,
        planned_infusion=planned,
        protocol_version=pv,
        location=clinic.location,
        chair=chair if chair is not None else (planned.chair if planned else None),
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=series.chair_minutes),
        state=state,
        version=1 + sum(v is not None for v in t.values()) * 3,
        cancelled_at=start - timedelta(hours=20) if cancelled else None,
        cancel_reason="Patient unwell; rebooked" if cancelled else "",
        weight_kg=d.weight.value_si if t["checked_in_at"] else None,
        phq9_total=rng.randint(5, 22) if t["prechecks_done_at"] else None,
        treatment_plan=plan,
        added_reason=added_reason,
        **t,
    )
    store.add(session)
    if state in ("scheduled", "cancelled"):
        return session
    checked_in = t["checked_in_at"]
    assert checked_in is not None
    h.audit(checked_in, nurse, AuditEntry.Action.UPDATE, "Checked in for infusion", d)
    _vital(h, session, nurse, checked_in + timedelta(minutes=3), "baseline", 0, monitoring)
    if t["prechecks_done_at"] is None:
        return session
    signed = checked_in + timedelta(minutes=8)
    store.add(
        InfusionOrder(
            external_id=uuid.uuid4(),
            created_at=signed - timedelta(minutes=2),
            updated_at=signed,
            created_by=nurse,
            session=session,
            signed_by=prescriber,
            signed_at=signed,
            **order_f,
        )
    )
    h.audit(signed, prescriber, AuditEntry.Action.SIGN, "Signed infusion order", d)
    started, ended = t["started_at"], t["ended_at"]
    if started is None:
        return session
    rate = (order_f["rate_mg_per_h"] or 0, order_f["rate_ml_per_h"] or 0)
    store.add(
        RateEvent(
            session=session,
            kind="start",
            at=started,
            rate_mg_per_h=rate[0],
            rate_ml_per_h=rate[1],
            recorded_by=nurse,
            recorded_at=started,
        )
    )
    until = ended or now
    m = READING_EVERY_MIN
    while started + timedelta(minutes=m) <= until:
        _vital(h, session, nurse, started + timedelta(minutes=m), "infusion", m, monitoring)
        m += READING_EVERY_MIN
    if ended is None:
        h.tally.running += 1
        return session
    store.add(RateEvent(session=session, kind="stop", at=ended, recorded_by=nurse, recorded_at=ended))
    m = READING_EVERY_MIN
    until = min(now, ended + timedelta(minutes=RECOVERY_MIN))
    while ended + timedelta(minutes=m) <= until:
        _vital(h, session, nurse, ended + timedelta(minutes=m), "recovery", m, monitoring)
        m += READING_EVERY_MIN
    if t["discharged_at"] is not None:
        h.audit(t["discharged_at"], nurse, AuditEntry.Action.UPDATE, "Discharged after infusion", d)
    return session


_CHECKED: dict[tuple[int, VitalReading], tuple[Any, ...]] = {}


def _checked(pv_pk: int, reading: VitalReading, monitoring: Any) -> tuple[Any, ...]:
    """The core's check of a reading and the alerts it raises (the same values under the same protocol give
    the same answer, so each distinct reading is checked once)."""
    key = (pv_pk, reading)
    if key not in _CHECKED:
        reading_check(reading, monitoring)
        _CHECKED[key] = alerts_for(reading, monitoring)
    return _CHECKED[key]


def _vital(
    h: Context,
    session: InfusionSession,
    nurse: User,
    at: datetime,
    phase: str,
    minute: float,
    monitoring: Any,
) -> None:
    reading = _reading(h.rng, phase, minute)
    if phase == "infusion" and h.rng.random() < SPIKE_SHARE / 4:
        reading = VitalReading(h.rng.randint(172, 186), 96, 92, 97, 16, Sedation.MILD)
    alerts = _checked(session.protocol_version_id, reading, monitoring)
    vitals_id = h.store.add_row(
        VitalSigns,
        external_id=uuid.uuid4(),
        client_id=uuid.uuid4().hex,
        session_id=session.pk,
        phase=phase,
        taken_at=at,
        **VitalSigns.measured(reading),
        source="manual",
        recorded_by_id=nurse.pk,
        backdate_reason="",
        recorded_at=at + timedelta(seconds=40),
    )
    if phase == "baseline":
        return
    for a in alerts:
        h.tally.alerts += 1
        h.store.add(
            VitalAlert.raised_by(
                a,
                external_id=uuid.uuid4(),
                session=session,
                vitals_id=vitals_id,
                raised_at=at,
                acknowledged_by=nurse,
                acknowledged_at=at + timedelta(minutes=1),
                acknowledgement_note="Rechecked after two minutes; settling.",
            )
        )


def questionnaires_add(
    h: Context, d: PatientDraft, plan: TreatmentPlan, series_days: list[date], prescriber: User
) -> None:
    """PHQ-9 and GAD-7 at every time point the plan's schedule makes due up to today (a few missed), on a
    course that improves for about half the patients; an ideation answer raises the core's urgent flag."""
    rng, clinic = h.rng, d.clinic
    responder = rng.random() < 0.55
    base = {"phq9": rng.randint(12, 26), "gad7": rng.randint(8, 19)}
    ideation = 1 if rng.random() < 0.25 else 0
    staff = rng.choice(clinic.nurses)
    for k, due in enumerate(due_schedule(series_days, today=h.today)):
        if due.due_on > h.today or rng.random() < 0.08:
            continue
        fall = min(1.0, k / 8) * (0.6 if responder else 0.15)
        authored = datetime.combine(due.due_on, time(9, rng.randint(0, 59)), clinic.tz).astimezone(UTC)
        for instrument in due.instruments:
            inst = get_instrument(instrument)
            total = max(0, round(base.get(instrument, 10) * (1 - fall) + rng.randint(-2, 2)))
            item9 = ideation if (k < 3 or not responder) and instrument == "phq9" else 0
            answers = answers_for(instrument, total, rng, item9)
            result = _score(instrument, tuple(answers))
            response_id = h.store.add_row(
                QuestionnaireResponse,
                external_id=uuid.uuid4(),
                created_at=authored,
                updated_at=authored,
                created_by_id=staff.pk,
                updated_by_id=None,
                patient_id=d.patient.pk,
                instrument=inst.id,
                instrument_version=inst.version,
                answers={item.code: a for item, a in zip(inst.items, answers, strict=True)},
                total=result.total,
                severity=result.severity or "",
                flags=list(result.flags),
                prorated=result.prorated,
                suicidal_ideation=None if inst.ideation_item is None else item9 > 0,
                loinc_panel=result.loinc_panel or "",
                loinc_result=result.loinc_result or "",
                authored_at=authored,
                source="staff",
                timepoint=due.timepoint,
                infusion_number=due.infusion_number,
                indication=plan.indication,
                location_id=clinic.location.pk,
                plan_id=plan.pk,
                link_id=None,
                replaces_id=None,
                replace_reason="",
            )
            h.audit(
                authored, staff, AuditEntry.Action.CREATE, f"Recorded {inst.name}: total {result.total}", d
            )
            for declared in inst.flags:
                if declared.urgent and declared.id in result.flags:
                    recent = authored > h.now - timedelta(days=3)
                    h.tally.open_flags += recent
                    h.store.add(
                        SafetyFlag(
                            external_id=uuid.uuid4(),
                            created_at=authored,
                            updated_at=authored,
                            patient=d.patient,
                            response_id=response_id,
                            reason=declared.id,
                            summary=declared.summary or declared.id,
                            raised_at=authored,
                            status="open" if recent else "assessed",
                            assessment=""
                            if recent
                            else "Passive thoughts, no plan or intent; safety plan reviewed.",
                            plan="" if recent else "Continue series; therapist informed.",
                            assessed_by=None if recent else prescriber,
                            assessed_at=None if recent else authored + timedelta(hours=2),
                        )
                    )
                    h.audit(
                        authored,
                        staff,
                        AuditEntry.Action.CREATE,
                        f"URGENT safety flag raised: {declared.summary}",
                        d,
                    )


_SCORES: dict[tuple[str, tuple[int | None, ...]], Any] = {}


def _score(instrument: str, answers: tuple[int | None, ...]) -> Any:
    """The core's score of these answers (computed once for the same answers)."""
    if (instrument, answers) not in _SCORES:
        _SCORES[instrument, answers] = score(instrument, list(answers))
    return _SCORES[instrument, answers]


def answers_for(instrument: str, total: int, rng: random.Random, ideation: int = 0) -> list[int | None]:
    """Item answers adding up to ``total`` (the ideation item, when the instrument has one, answered
    ``ideation``), each within its item's range."""
    inst = get_instrument(instrument)
    top = [i.max_value for i in inst.items]
    out = [i.min_value for i in inst.items]
    codes = [i.code for i in inst.items]
    fixed = codes.index(inst.ideation_item) if inst.ideation_item in codes else None
    if fixed is not None:
        out[fixed] = ideation
    order = [i for i in range(len(codes)) if i != fixed]
    rest = min(total - sum(out), sum(top[i] - out[i] for i in order))
    while rest > 0:
        i = rng.choice(order)
        if out[i] < top[i]:
            out[i] += 1
            rest -= 1
    return list(out)
