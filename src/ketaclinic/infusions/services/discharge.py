"""Recovery and discharge: the PADSS assessment and the discharge itself."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.base.signals import session_completed
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.actions import SessionOp
from ketaclinic.core.infusion.discharge import assessment_voided as core_assessment_voided
from ketaclinic.core.infusion.discharge import discharge_assess as core_discharge_assess
from ketaclinic.core.infusion.discharge import recovery_evidence as core_recovery_evidence
from ketaclinic.core.infusion.state import Guards, SessionAction
from ketaclinic.infusions.models import DischargeAssessment, InfusionSession
from ketaclinic.infusions.selectors.checklist import baseline_reading
from ketaclinic.infusions.selectors.pathway import session_sections
from ketaclinic.infusions.selectors.recovery import adverse_events_unreviewed, recovery_readings
from ketaclinic.infusions.services._common import _allowed, _audit, _lock, _move, _save
from ketaclinic.outcomes.services.due import due_refresh
from ketaclinic.plans.models import PlannedInfusion

OPEN_ALERTS = "Acknowledge the open alerts first: {rules}."


def _minutes_since_end(session: InfusionSession, now: datetime) -> float | None:
    return None if session.ended_at is None else (now - session.ended_at).total_seconds() / 60.0


@transaction.atomic
def discharge_assess(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    activity_mental_status: int,
    pain: int,
    nausea_vomiting: int,
    intake_output: int,
    escort_present: bool,
    instructions_given: bool,
    escort_name: str = "",
) -> DischargeAssessment:
    """Score PADSS with the latest vitals against baseline; the core decides fit or not, with reasons."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _allowed(session, SessionOp.DISCHARGE_ASSESS)
    monitoring, _, section = session_sections(session)
    now = timezone.now()
    baseline = baseline_reading(session)
    evidence = core_recovery_evidence(
        recovery_readings(session),
        ended_at=session.ended_at,
        now=now,
        section=section,
        monitoring=monitoring,
        baseline=baseline,
    )
    decision = core_discharge_assess(
        section,
        scores={
            "activity_mental_status": activity_mental_status,
            "pain": pain,
            "nausea_vomiting": nausea_vomiting,
            "intake_output": intake_output,
        },
        baseline=baseline,
        latest=evidence.latest,
        recovery_problems=evidence.problems,
        escort_present=escort_present,
        instructions_given=instructions_given,
        minutes_since_infusion_end=_minutes_since_end(session, now),
    )
    a = DischargeAssessment(
        session=session,
        assessed_at=now,
        scores=decision.scores,
        total=decision.total,
        deviation_percent=decision.deviation_percent,
        escort_present=escort_present,
        escort_name=escort_name.strip()[:120],
        instructions_given=instructions_given,
        fit=decision.fit,
        reasons=list(decision.reasons),
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(a)
    a.save()
    _save(session, user)
    _audit(
        user,
        session,
        f"Discharge assessment: PADSS {decision.total}/10, "
        + ("fit for discharge" if decision.fit else "not yet fit: " + "; ".join(decision.reasons)),
        AuditEntry.Action.CREATE,
        assessment=str(a.external_id),
    )
    return a


@transaction.atomic
def session_discharge(*, user: User, session: InfusionSession, expected_version: int) -> InfusionSession:
    """Discharge: after the observation minimum, with a fit assessment and every alert acknowledged."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    open_alerts = list(session.alerts.filter(acknowledged_at__isnull=True).values_list("rule", flat=True))
    if open_alerts:
        raise ValidationError(
            OPEN_ALERTS.format(rules=", ".join(open_alerts)), field="alerts", value=open_alerts
        )
    monitoring, _, section = session_sections(session)
    now = timezone.now()
    last = session.discharge_assessments.order_by("-assessed_at", "-id").first()
    failures = ("no assessment",) if last is None else tuple(last.reasons) if not last.fit else ()
    if last is not None and last.fit:  # re-evaluated with every reading taken since the assessment
        failures = core_assessment_voided(
            last.assessed_at,
            recovery_readings(session),
            section=section,
            monitoring=monitoring,
            baseline=baseline_reading(session),
        )
    failures += adverse_events_unreviewed(session)
    _move(
        session,
        SessionAction.DISCHARGE,
        Guards(
            minutes_since_infusion_end=_minutes_since_end(session, now),
            observation_min=section.observation_min,
            discharge_failures=failures,
        ),
    )
    session.discharged_at = now
    _save(session, user, "state", "discharged_at")
    if session.planned_infusion_id:
        PlannedInfusion.objects.filter(pk=session.planned_infusion_id).update(
            status=PlannedInfusion.Status.DONE
        )
        due_refresh(patient_ids=[session.patient_id])  # an infusion given: what is due may follow it
    _audit(
        user, session, "Discharged home" + (f" with {last.escort_name}" if last and last.escort_name else "")
    )
    session_completed.send(
        sender=InfusionSession, session=session, user=user
    )  # billing: the package unit used
    return session
