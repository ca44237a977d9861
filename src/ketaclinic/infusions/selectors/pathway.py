"""The session's protocol document and the facts the treatment pathway rule needs (reads only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.home_safety import checklist_for_place
from ketaclinic.core.infusion.pathway import OpenFlag, PathwayFacts
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.core.protocols import ProtocolDocument
from ketaclinic.core.protocols.monitoring import ChecklistSection, DischargeSection, MonitoringSection
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import TreatmentPlan

NO_SESSION_SECTIONS = (
    "Protocol {value} has no monitoring, checklist and discharge sections; "
    "load a version that has them before running a session under it."
)


def session_document(session: InfusionSession) -> ProtocolDocument:
    doc = session.protocol_version.parsed
    if doc.monitoring is None or doc.checklist is None or doc.discharge is None:
        raise ValidationError(
            NO_SESSION_SECTIONS.format(value=str(session.protocol_version)),
            field="protocol",
            value=str(session.protocol_version),
        )
    return doc


def session_sections(
    session: InfusionSession,
) -> tuple[MonitoringSection, ChecklistSection, DischargeSection]:
    doc = session_document(session)
    if (
        doc.monitoring is None or doc.checklist is None or doc.discharge is None
    ):  # session_document refused already
        raise ValidationError(NO_SESSION_SECTIONS.format(value=doc.id), field="protocol", value=doc.id)
    return doc.monitoring, doc.checklist, doc.discharge


def session_checklist(session: InfusionSession) -> ChecklistSection:
    """The protocol's pre-infusion checklist, with the home-safety items when the session is at home."""
    return checklist_for_place(session_sections(session)[1], at_home=session.at_home)


def active_plan(patient: Patient) -> TreatmentPlan | None:
    return (
        TreatmentPlan.objects.select_related("screening")
        .filter(patient=patient, status=TreatmentPlan.Status.ACTIVE)
        .order_by("-signed_at")
        .first()
    )


OPEN_STATES = (
    SessionState.CHECKED_IN,
    SessionState.PRECHECKS_DONE,
    SessionState.RUNNING,
    SessionState.PAUSED,
    SessionState.RECOVERING,
)


def pathway_facts(session: InfusionSession, *, at: datetime) -> PathwayFacts:
    """The facts the pathway rule needs, read for ``session`` (saved or about to be)."""
    plan = session.treatment_plan if session.treatment_plan_id else active_plan(session.patient)
    doc = session.protocol_version.parsed
    screening = plan.screening if plan is not None else None
    others = InfusionSession.objects.filter(patient=session.patient).exclude(pk=session.pk)
    previous = (
        others.filter(started_at__isnull=False, started_at__lte=at)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    # one infusion at a time: another session of the patient open around this one (booked within 12 h of it)
    other_open = (
        others.filter(
            state__in=[st.value for st in OPEN_STATES],
            scheduled_start__gt=at - timedelta(hours=12),
            scheduled_start__lt=at + timedelta(hours=12),
        )
        .order_by("scheduled_start")
        .first()
    )
    zone = ZoneInfo(session.location.timezone)
    flags = tuple(
        OpenFlag(summary=f.summary, raised=f.raised_at.astimezone(zone).strftime("%a %d %b %H:%M"))
        for f in SafetyFlag.objects.filter(patient=session.patient, status=SafetyFlag.Status.OPEN).order_by(
            "raised_at"
        )
    )
    return PathwayFacts(
        plan_active=plan is not None and plan.status == TreatmentPlan.Status.ACTIVE,
        screening_status=(
            "not screened"
            if screening is None
            else f"{screening.get_status_display().lower()}"
            + (f", {screening.get_signed_outcome_display().lower()}" if screening.signed_outcome else "")
        ),
        screening_eligible=screening is not None
        and screening.status == "signed"
        and screening.signed_outcome == "eligible",
        indication=plan.indication if plan is not None else None,
        protocol=doc.title,
        protocol_indications=tuple(i.value if hasattr(i, "value") else str(i) for i in doc.indications),
        from_planned_slot=session.planned_infusion_id is not None,
        added_reason=session.added_reason,
        at=at,
        previous_infusion_at=previous,
        min_spacing_hours=float(doc.series.min_spacing_hours) if doc.series is not None else None,
        other_open_session=None
        if other_open is None
        else f"{other_open.get_state_display().lower()} "
        f"since {other_open.scheduled_start.astimezone(zone):%H:%M}",
        open_flags=flags,
    )
