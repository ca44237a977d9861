"""Reads behind the REMS Patient Monitoring Form: the session's facts, the form as it stands, what is missing,
and the forms each prescriber still has to have submitted (overdue and due soon)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion import rems as core
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.core.protocols.rems import RemsSection
from ketaclinic.infusions.models import InfusionSession, RemsMonitoringForm
from ketaclinic.protocols.models import ProtocolVersion

ESKETAMINE = "esketamine"


def rems_section(session: InfusionSession) -> RemsSection | None:
    """The protocol's ``rems`` section, or None when the session's protocol asks for no REMS form."""
    return session.protocol_version.parsed.rems


def rems_zone(session: InfusionSession) -> ZoneInfo:
    return ZoneInfo(session.location.timezone)


def rems_facts(session: InfusionSession) -> core.SessionFacts:
    """What the session recorded, as the core reads it (four queries whatever the session's length)."""
    devices = session.administrations.filter(medication=ESKETAMINE).order_by("at", "id")
    return core.SessionFacts(
        devices=tuple(core.DeviceGiven(a.at, a.dose) for a in devices),
        readings=tuple(
            core.Reading(v.taken_at, v.systolic_mmhg, v.diastolic_mmhg, v.spo2_percent, v.sedation)
            for v in session.vitals.order_by("taken_at", "id")
        ),
        adverse_events=tuple(
            core.EventFact(e.at, e.get_kind_display(), e.severity == "severe", e.notes)
            for e in session.adverse_events.order_by("at", "id")
        ),
        medications=tuple(
            f"{m.name} {m.dose}".strip()
            for m in session.patient.medications.filter(stopped_at__isnull=True).order_by("name")
        ),
        discharged_at=session.discharged_at,
    )


def _entry(raw: dict[str, Any]) -> core.CheckEntry:
    at = raw.get("at")
    return core.CheckEntry(
        code=str(raw.get("code", "")),
        at=None if not at else datetime.fromisoformat(str(at)),
        systolic_mmhg=raw.get("systolic_mmhg"),
        diastolic_mmhg=raw.get("diastolic_mmhg"),
        level=str(raw.get("level") or ""),
    )


def form_of(row: RemsMonitoringForm) -> core.RemsForm:
    """The stored form as the core's value."""
    return core.RemsForm(
        first_device_at=row.first_device_at,
        discharged_at=row.discharged_at,
        dose_total_mg=row.dose_total_mg,
        device_count=row.device_count,
        device_lots=row.lots,
        checks=tuple(_entry(c) for c in row.checks),
        spo2_lowest_percent=row.spo2_lowest_percent,
        concomitant_medications=row.concomitant_medications,
        serious_adverse_event=row.serious_adverse_event,
        serious_adverse_event_description=row.serious_adverse_event_description,
    )


def rems_form_row(session: InfusionSession) -> RemsMonitoringForm | None:
    return (
        RemsMonitoringForm.objects.filter(session=session)
        .select_related("confirmed_by", "submitted_by")
        .first()
    )


@dataclass(frozen=True)
class RemsFormState:
    """The form as a page shows it: the stored answers (or the prefill), what is missing, who confirmed."""

    section: RemsSection
    form: core.RemsForm
    row: RemsMonitoringForm | None
    missing: tuple[str, ...]
    zone: ZoneInfo

    @property
    def confirmed(self) -> bool:
        return self.row is not None and self.row.confirmed_at is not None

    @property
    def submitted(self) -> bool:
        return self.row is not None and self.row.submitted


def rems_form_state(session: InfusionSession) -> RemsFormState | None:
    """The form of an esketamine session: the record's facts (dose, devices, first device, discharge) always
    come from the session; the rest from the prescriber's confirmed answers, or prefilled until then."""
    section = rems_section(session)
    if section is None:
        return None
    row = rems_form_row(session)
    facts = core.rems_prefill(section, rems_facts(session))
    if row is not None:
        stored = form_of(row)
        facts = stored if row.submitted else _with_record_facts(stored, facts)
    zone = rems_zone(session)
    missing = core.rems_missing(section, facts, zone)
    if row is None or row.confirmed_at is None:
        missing = (*missing, core.NOT_CONFIRMED)
    return RemsFormState(section, facts, row, missing, zone)


def _with_record_facts(stored: core.RemsForm, prefill: core.RemsForm) -> core.RemsForm:
    """A confirmed form whose session records changed since (a late MAR line): the record wins."""
    return replace(
        stored,
        first_device_at=prefill.first_device_at,
        discharged_at=prefill.discharged_at,
        dose_total_mg=prefill.dose_total_mg,
        device_count=prefill.device_count,
    )


def rems_missing_items(session: InfusionSession) -> tuple[str, ...]:
    """What stops the note from being signed: every REMS item empty or out of its window (none when the
    protocol asks for no REMS form)."""
    state = rems_form_state(session)
    return () if state is None else state.missing


@dataclass(frozen=True)
class RemsDue:
    """A form still to be submitted, on the prescriber's worklist."""

    session: InfusionSession
    deadline: core.RemsDeadline
    due_soon: bool
    confirmed: bool


def rems_protocol_versions() -> dict[int, RemsSection]:
    """The protocol versions that ask for a REMS form (a small table: every version is parsed once)."""
    return {pv.pk: s for pv in ProtocolVersion.objects.all() if (s := pv.parsed.rems) is not None}


def rems_forms_due(*, user: User, now: datetime | None = None, limit: int = 50) -> list[RemsDue]:
    """Discharged esketamine sessions at the user's locations whose form is not submitted: overdue first
    (most days overdue first), then by due date; a bounded number of queries."""
    require(user, Permission.ORDER_SIGN)
    now = now or timezone.now()
    sections = rems_protocol_versions()
    sessions = (
        InfusionSession.objects.filter(
            location_id__in=user_location_ids(user),
            protocol_version_id__in=list(sections),
            state=SessionState.DISCHARGED.value,
        )
        .exclude(rems_form__submitted_at__isnull=False)
        .select_related("patient", "location", "rems_form")
        .order_by("started_at", "scheduled_start")[:limit]
    )
    due: list[RemsDue] = []
    for s in sessions:
        section = sections[s.protocol_version_id]
        deadline = core.rems_deadline(section, s.started_at or s.scheduled_start, now, rems_zone(s))
        form = getattr(s, "rems_form", None)
        confirmed = form is not None and form.confirmed_at is not None
        due.append(RemsDue(s, deadline, core.rems_due_soon(section, deadline), confirmed))
    due.sort(key=lambda d: (d.deadline.days_left, d.session.scheduled_start))
    return due[:limit]
