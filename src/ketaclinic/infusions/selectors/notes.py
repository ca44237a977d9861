"""The session note's text, formatted from what was recorded (a read: nothing is written here).

One function per part of the note, in the order a reader meets them: who and where, pre-checks, the order
and the bag, the pump, vital signs and alerts, events and medications, safety flags, discharge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from ketaclinic.base.time_zones import zone_words
from ketaclinic.core.protocols.monitoring import ChecklistKind
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, RateEvent
from ketaclinic.infusions.selectors.checklist import checklist_result
from ketaclinic.infusions.selectors.orders import session_delivery, signed_order
from ketaclinic.outcomes.models import SafetyFlag

Clock = Callable[[datetime | None], str]


def note_text(session: InfusionSession) -> str:
    """The note, from what was recorded (times in the location's zone, whoever generates it and wherever)."""
    zone = ZoneInfo(session.location.timezone)

    def t(dt: datetime | None) -> str:
        return "—" if dt is None else dt.astimezone(zone).strftime("%H:%M")

    order = signed_order(session)
    lines = _header(session, zone, t)
    lines += _order_and_bag(session, order, t)
    lines += _pump(session, t)
    lines += _vitals_and_alerts(session, t)
    lines += _events_and_medications(session, t)
    lines += _safety_flags(session, zone)
    lines += _discharge(session, t)
    return "\n".join(lines)


def _header(session: InfusionSession, zone: ZoneInfo, t: Clock) -> list[str]:
    overridden = checklist_result(session).overridden
    lines = [
        f"Infusion session {session.scheduled_start.astimezone(zone):%Y-%m-%d} "
        f"(times in {zone_words(session.location.timezone, [session.scheduled_start])}), "
        f"{session.location.name}"
        + (" (home)" if session.at_home else f", {session.chair.name}" if session.chair else ""),
        f"Patient: {session.patient.display_name} (MRN {session.patient.mrn}). "
        f"Protocol {session.protocol_version}.",
        f"Checked in {t(session.checked_in_at)}; checklist passed {t(session.prechecks_done_at)}"
        + (f"; overridden: {', '.join(overridden)}" if overridden else "")
        + (f"; PHQ-9 today {session.phq9_total}" if session.phq9_total is not None else "")
        + ".",
    ]
    checklist = session.protocol_version.parsed.checklist
    item = None if checklist is None else checklist.item_of_kind(ChecklistKind.MEDICATIONS_REVIEW)
    reviewed = (
        None
        if item is None
        else session.checklist_responses.filter(code=item.code).exclude(detail="").first()
    )
    if reviewed is not None:
        lines.append(f"Interacting medications reviewed: {reviewed.detail}")
    return lines


def _order_and_bag(session: InfusionSession, order: InfusionOrder | None, t: Clock) -> list[str]:
    given = session_delivery(session, session.ended_at or timezone.now())
    lines = []
    if order is not None:
        lines.append(
            f"Order: ketamine {order.dose_mg:.1f} mg ({order.dose_mg_per_kg:.2f} mg/kg, dosing weight "
            f"{order.dosing_weight_kg:.1f} kg) over {order.duration_min or 0:g} min, "
            f"signed by {order.signed_by} "
            f"at {t(order.signed_at)}"
            + (f"; soft-limit override: {order.override_reason}" if order.override_reason else "")
            + "."
        )
    lines.append(
        f"Infusion {t(session.started_at)}–{t(session.ended_at)}: {given.delivered_mg:.1f} mg "
        f"({given.delivered_ml:.1f} mL) over {given.infusing_min:.0f} min running, "
        f"{given.paused_min:.0f} min paused."
    )
    if order is not None and order.vtbi_ml:
        lines.append(
            f"Bag: {order.drug_volume_ml or 0:.2f} mL of {order.vial_mg_per_ml or 0:g} mg/mL drawn into "
            f"{order.bag_ml or 0:g} mL; volume to be infused {order.vtbi_ml:.1f} mL"
            + (
                f"; the bag ran empty at {t(given.vtbi_reached_at)}: the record stops at what it held"
                if given.vtbi_reached_at
                else ""
            )
            + "."
        )
    return lines


def _pump(session: InfusionSession, t: Clock) -> list[str]:
    lines = []
    for e in session.rate_events.all():
        if e.kind == RateEvent.Kind.RATE:
            lines.append(
                f"  {t(e.at)} rate changed to {e.rate_mg_per_h:g} mg/h, "
                + (f"verbal order of {e.signer}, read back" if e.verbal_order else f"ordered by {e.signer}")
                + f": {e.reason}"
                + (f" (beyond a soft limit: {e.override_reason})" if e.override_reason else "")
                + (
                    ""
                    if not e.verbal_order
                    else f"; co-signed by {e.cosigned_by} {t(e.cosigned_at)}"
                    if e.cosigned_at
                    else "; not yet co-signed"
                )
            )
        elif e.kind in (RateEvent.Kind.PAUSE, RateEvent.Kind.RESUME, RateEvent.Kind.STOP):
            lines.append(
                f"  {t(e.at)} {e.get_kind_display().lower()}" + (f": {e.reason}" if e.reason else "")
            )
    return lines


def _vitals_and_alerts(session: InfusionSession, t: Clock) -> list[str]:
    vitals = list(session.vitals.all())
    lines = []
    if vitals:

        def span(name: str) -> str:
            xs = [getattr(v, name) for v in vitals if getattr(v, name) is not None]
            return f"{min(xs)}–{max(xs)}" if xs else "—"

        lines.append(
            f"Vital signs: {len(vitals)} readings; BP systolic {span('systolic_mmhg')}, diastolic "
            f"{span('diastolic_mmhg')} mmHg; HR {span('heart_rate_bpm')}/min; SpO2 {span('spo2_percent')}%; "
            f"RR {span('respiratory_rate_per_min')}/min."
        )
    for a in session.alerts.select_related("acknowledged_by"):
        lines.append(
            f"  Alert {t(a.raised_at)}: {a.message} "
            f"Acknowledged by {a.acknowledged_by} at {t(a.acknowledged_at)}"
            + (f" ({a.acknowledgement_note})" if a.acknowledgement_note else "")
            + "."
        )
    return lines


def _events_and_medications(session: InfusionSession, t: Clock) -> list[str]:
    lines = [
        f"Adverse event {t(ev.at)}: {ev.get_kind_display()} ({ev.severity})"
        + (f" — {ev.notes}" if ev.notes else "")
        for ev in session.adverse_events.all()
    ]
    lines += [
        f"Given {t(m.at)}: {m.medication} {m.dose.normalize()} {m.unit} {m.route}"
        + (f" ({m.reason})" if m.reason else "")
        for m in session.administrations.by_hand()
    ]
    return lines


def _safety_flags(session: InfusionSession, zone: ZoneInfo) -> list[str]:
    """The patient's urgent safety flags that bear on this session: those still open, and those assessed
    since the patient checked in (the start waited for that assessment)."""

    def when(dt: datetime | None) -> str:
        return "—" if dt is None else f"{dt.astimezone(zone):%Y-%m-%d %H:%M}"

    since = session.checked_in_at or session.scheduled_start
    flags = (
        SafetyFlag.objects.filter(patient=session.patient)
        .filter(Q(status=SafetyFlag.Status.OPEN) | Q(assessed_at__gte=since))
        .select_related("assessed_by")
        .order_by("raised_at", "id")
    )
    lines = []
    for f in flags:
        if f.status == SafetyFlag.Status.OPEN:
            lines.append(f"Safety flag OPEN, raised {when(f.raised_at)}: {f.summary} Not yet assessed.")
        else:
            lines.append(
                f"Safety flag raised {when(f.raised_at)}: {f.summary} Assessed by {f.assessed_by} "
                f"{when(f.assessed_at)}: {f.assessment} Plan: {f.plan}"
            )
    return lines or ["Safety flags: none open."]


def _discharge(session: InfusionSession, t: Clock) -> list[str]:
    lines = []
    last = session.discharge_assessments.order_by("-assessed_at", "-id").first()
    if last is not None:
        lines.append(
            f"Discharge assessment {t(last.assessed_at)}: PADSS {last.total}/10"
            + (
                f", vitals within {last.deviation_percent:.0f}% of baseline"
                if last.deviation_percent is not None
                else ""
            )
            + f"; escort {'present' if last.escort_present else 'absent'}"
            + (f" ({last.escort_name})" if last.escort_name else "")
            + f"; instructions {'given' if last.instructions_given else 'not given'}."
        )
    lines.append(f"Discharged {t(session.discharged_at)}.")
    return lines
