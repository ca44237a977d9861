"""A clinician's decisions: assess a safety flag (with a plan), accept or decline a proposed booster."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.outcomes.models import BoosterProposal, SafetyFlag
from ketaclinic.outcomes.selectors import current_plan
from ketaclinic.patients.access import patient_for
from ketaclinic.plans.models import PlannedInfusion

ASSESSMENT_REQUIRED = "Record the assessment: what the clinician found (at least 10 characters)."
PLAN_REQUIRED = "Record the safety plan: what happens next (at least 10 characters)."
FLAG_ALREADY_ASSESSED = "This flag was already assessed by {who} on {when}."
BOOSTER_ALREADY_DECIDED = "This proposal was already {status} by {who}."
DECLINE_REASON = "Declining a booster needs a reason (at least 5 characters)."
DECISION_UNKNOWN = "Decision {value!r} is unknown; allowed are accept, decline."


@transaction.atomic
def safety_flag_assess(*, user: User, flag: SafetyFlag, assessment: str, plan: str) -> SafetyFlag:
    """Close an urgent flag: only with a clinician's assessment AND a plan (the database refuses
    otherwise)."""
    patient_for(user, flag.patient, Permission.SAFETY_ASSESS)
    flag = SafetyFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status == SafetyFlag.Status.ASSESSED:
        raise ValidationError(
            FLAG_ALREADY_ASSESSED.format(who=flag.assessed_by, when=f"{flag.assessed_at:%Y-%m-%d %H:%M}"),
            field="flag",
            value=str(flag.external_id),
        )
    if len(assessment.strip()) < 10:
        raise ValidationError(ASSESSMENT_REQUIRED, field="assessment", value=assessment)
    if len(plan.strip()) < 10:
        raise ValidationError(PLAN_REQUIRED, field="plan", value=plan)
    flag.status, flag.assessment, flag.plan = SafetyFlag.Status.ASSESSED, assessment.strip(), plan.strip()
    flag.assessed_by, flag.assessed_at, flag.updated_by = user, timezone.now(), user
    flag.save()
    audit_record(
        action=AuditEntry.Action.REVIEW,
        actor=user,
        patient=flag.patient,
        summary=f"Safety flag assessed and plan recorded ({flag.reason})",
        detail={"flag": str(flag.external_id)},
    )
    return flag


@transaction.atomic
def booster_decide(
    *, user: User, proposal: BoosterProposal, decision: str, reason: str = ""
) -> BoosterProposal:
    """Accept (a booster PlannedInfusion is added when the patient has a plan) or decline with a reason."""
    require(user, Permission.BOOSTER_DECIDE)
    patient_for(user, proposal.patient, Permission.BOOSTER_DECIDE)
    proposal = BoosterProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != BoosterProposal.Status.PROPOSED:
        raise ValidationError(
            BOOSTER_ALREADY_DECIDED.format(
                status=proposal.get_status_display().lower(), who=proposal.decided_by
            ),
            field="proposal",
            value=None,
        )
    if decision not in ("accept", "decline"):
        raise ValidationError(DECISION_UNKNOWN.format(value=decision), field="decision", value=decision)
    if decision == "decline" and len(reason.strip()) < 5:
        raise ValidationError(DECLINE_REASON, field="reason", value=reason)
    if decision == "accept":
        plan = current_plan(proposal.patient)
        if plan is not None:
            last = plan.infusions.order_by("-sequence").first()
            start = timezone.now() + timedelta(days=7)
            proposal.planned_infusion = PlannedInfusion.objects.create(
                plan=plan,
                sequence=(last.sequence + 1) if last else 1,
                kind=PlannedInfusion.Kind.BOOSTER,
                scheduled_start=start.replace(hour=14, minute=0, second=0, microsecond=0),
                location=last.location if last else proposal.patient.location,
                created_by=user,
                updated_by=user,
            )
    proposal.status = "accepted" if decision == "accept" else "declined"
    proposal.decision_reason, proposal.decided_by, proposal.decided_at = reason.strip(), user, timezone.now()
    proposal.save()
    audit_record(
        action=AuditEntry.Action.SIGN,
        actor=user,
        patient=proposal.patient,
        summary=f"Booster {proposal.status}"
        + (f": {proposal.decision_reason}" if proposal.decision_reason else ""),
        detail={
            "proposal": str(proposal.external_id),
            "planned_infusion": str(proposal.planned_infusion.external_id)
            if proposal.planned_infusion
            else None,
        },
    )
    return proposal
