"""The plan itself: draft it from the protocol (its series proposed as dated slots), sign it, revise a signed
plan (a new version superseding it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.base.signals import due_inputs_changed
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.series import SeriesRules, propose_series
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.plans.selectors import dose_strategy_of
from ketaclinic.plans.services._common import IN_THE_PAST, NOT_ACTIVE, _chair_free, _locked, _place, _tz
from ketaclinic.protocols.selectors import protocol_for_indication
from ketaclinic.screening.models import Screening

SCREENING_NOT_ELIGIBLE = (
    "A plan needs a signed eligible screening; this screening is {status}. Sign an eligible decision first."
)
SCREENING_OTHER_PATIENT = "That screening belongs to another patient."
NO_SERIES = (
    "Protocol {protocol} v{version} has no series section; "
    "it cannot propose a series. Load a version that has one."
)
ALREADY_SIGNED = (
    "This plan was signed by {who} on {when}; a signed plan cannot change. Revise it to make a new version."
)
ANOTHER_ACTIVE = (
    "This patient already has an active plan (signed {when}); revise that plan instead of signing "
    "a second one."
)
ALREADY_REVISED = "This plan already has a draft revision; finish or sign that one."
EVALUATION_AFTER_SERIES = "Evaluation after {evaluation} infusions is after the last of the series ({count})."

REVISABLE = (
    "series_count",
    "max_per_week",
    "min_spacing_hours",
    "evaluation_after",
    "booster_policy",
    "booster_min_days",
    "home_infusions",
    "notes",
)


@transaction.atomic
def plan_draft(
    *,
    user: User,
    patient: Patient,
    screening: Screening,
    start: date,
    weekdays: Iterable[int],
    at: time,
    location: Location,
    chair: Chair | None = None,
    at_home: bool = False,
    closed: Iterable[date] = (),
    notes: str = "",
) -> TreatmentPlan:
    """Draft a plan from the current protocol for the screening's indication, with the series proposed
    as dated slots in one chair (or at home)."""
    patient_for(user, patient, Permission.PLAN_WRITE)
    if screening.patient_id != patient.pk:
        raise ValidationError(SCREENING_OTHER_PATIENT, field="screening", value=str(screening.external_id))
    if screening.status != Screening.Status.SIGNED or screening.signed_outcome != "eligible":
        status = (
            ("signed " + screening.get_signed_outcome_display().lower())
            if screening.signed_outcome
            else screening.get_status_display().lower()
        )
        raise ValidationError(
            SCREENING_NOT_ELIGIBLE.format(status=status), field="screening", value=screening.status
        )
    pv = protocol_for_indication(screening.indication)
    series = pv.parsed.series
    if series is None:
        raise ValidationError(
            NO_SERIES.format(protocol=pv.protocol_id, version=pv.version),
            field="screening",
            value=pv.protocol_id,
        )
    chair = None if at_home else chair
    _place(patient=patient, location=location, chair=chair, at_home=at_home)
    if start < timezone.localdate():
        raise ValidationError(
            IN_THE_PAST.format(label="The series", when=start.isoformat()), field="start", value=start
        )
    rules = SeriesRules(
        count=series.initial_count,
        max_per_week=series.max_per_week,
        min_spacing_hours=series.min_spacing_hours,
    )
    starts = propose_series(
        rules=rules, start=start, weekdays=tuple(weekdays), at=at, tz=_tz(location), closed=closed
    )
    plan = TreatmentPlan(
        patient=patient,
        screening=screening,
        indication=screening.indication,
        protocol_version=pv,
        dose_strategy=dose_strategy_of(pv.parsed.dosing),
        series_count=series.initial_count,
        max_per_week=series.max_per_week,
        min_spacing_hours=series.min_spacing_hours,
        evaluation_after=series.evaluation_after,
        booster_policy=series.booster.text,
        booster_min_days=series.booster.min_days_between,
        home_infusions=at_home,
        notes=notes.strip(),
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(plan)
    plan.save()
    for n, moment in enumerate(starts, 1):
        _chair_free(
            chair=chair, start=moment, minutes=series.chair_minutes, label=f"Infusion {n}", location=location
        )
        PlannedInfusion.objects.create(
            plan=plan,
            sequence=n,
            scheduled_start=moment,
            duration_minutes=series.chair_minutes,
            location=location,
            chair=chair,
            at_home=at_home,
            created_by=user,
            updated_by=user,
        )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Drafted treatment plan ({plan.get_indication_display()}, {pv.protocol_id} v{pv.version}): "
        f"{len(starts)} infusions from {starts[0].date().isoformat()}",
        detail={"plan": str(plan.external_id), "slots": [s.isoformat() for s in starts]},
    )
    return plan


@transaction.atomic
def plan_sign(*, user: User, plan: TreatmentPlan) -> TreatmentPlan:
    """A prescriber signs the draft; it becomes the active plan (superseding the version it revises,
    whose planned slots it takes over)."""
    plan = _locked(plan)
    patient_for(user, plan.patient, Permission.PLAN_SIGN)
    if plan.status != TreatmentPlan.Status.DRAFT:
        raise ValidationError(
            ALREADY_SIGNED.format(who=plan.signed_by, when=f"{plan.signed_at:%Y-%m-%d %H:%M}"),
            field="status",
            value=plan.status,
        )
    actives = TreatmentPlan.objects.select_for_update().filter(
        patient=plan.patient, status=TreatmentPlan.Status.ACTIVE
    )
    if plan.supersedes_id is not None:  # the plan this one revises is replaced below, not refused
        actives = actives.exclude(pk=plan.supersedes_id)
    active = actives.first()
    if active is not None:
        raise ValidationError(
            ANOTHER_ACTIVE.format(when=f"{active.signed_at:%Y-%m-%d}"), field="status", value=plan.status
        )
    detail: dict[str, Any] = {"plan": str(plan.external_id)}
    old = None
    if plan.supersedes is not None:  # the old version steps down first: one active plan per patient
        old = _locked(plan.supersedes)
        old.status, old.updated_by = TreatmentPlan.Status.SUPERSEDED, user
        old.save(update_fields=["status", "updated_by", "updated_at"])
    plan.status, plan.signed_by, plan.signed_at, plan.updated_by = (
        TreatmentPlan.Status.ACTIVE,
        user,
        timezone.now(),
        user,
    )
    plan.save()
    if old is not None:
        moved = old.infusions.filter(status=PlannedInfusion.Status.PLANNED).update(plan=plan, updated_by=user)
        detail.update(supersedes=str(old.external_id), slots_taken_over=moved)
    audit_record(
        action=AuditEntry.Action.SIGN,
        actor=user,
        patient=plan.patient,
        summary=f"Signed treatment plan ({plan.get_indication_display()}, {plan.protocol_version})"
        + (" superseding the previous version" if plan.supersedes_id else ""),
        detail=detail,
    )
    due_inputs_changed.send(sender=TreatmentPlan, patient_ids=[plan.patient_id])  # its series is what is due
    return plan


@transaction.atomic
def plan_revise(*, user: User, plan: TreatmentPlan, **changes: Any) -> TreatmentPlan:
    """Changing a signed plan's clinical content: a new draft version that supersedes it once signed."""
    plan = _locked(plan)
    patient_for(user, plan.patient, Permission.PLAN_WRITE)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            NOT_ACTIVE.format(status=plan.get_status_display().lower(), what="revised"),
            field="status",
            value=plan.status,
        )
    if TreatmentPlan.objects.filter(supersedes=plan).exists():
        raise ValidationError(ALREADY_REVISED, field="status", value=plan.status)
    unknown = set(changes) - set(REVISABLE)
    if unknown:
        raise ValidationError(
            f"Cannot revise {', '.join(sorted(unknown))}: revisable are {', '.join(REVISABLE)}.",
            field=sorted(unknown)[0],
            value=None,
        )
    fields = {f: getattr(plan, f) for f in REVISABLE} | {k: v for k, v in changes.items() if v is not None}
    SeriesRules(
        count=fields["series_count"],
        max_per_week=fields["max_per_week"],
        min_spacing_hours=fields["min_spacing_hours"],
    )
    if fields["evaluation_after"] > fields["series_count"]:
        raise ValidationError(
            EVALUATION_AFTER_SERIES.format(
                evaluation=fields["evaluation_after"], count=fields["series_count"]
            ),
            field="evaluation_after",
            value=fields["evaluation_after"],
        )
    draft = TreatmentPlan(
        patient=plan.patient,
        screening=plan.screening,
        indication=plan.indication,
        protocol_version=plan.protocol_version,
        dose_strategy=plan.dose_strategy,
        supersedes=plan,
        created_by=user,
        updated_by=user,
        **fields,
    )
    clean_or_refuse(draft)
    draft.save()
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=plan.patient,
        summary="Drafted a revision of the treatment plan",
        detail={
            "plan": str(draft.external_id),
            "supersedes": str(plan.external_id),
            "changes": {k: str(v) for k, v in changes.items() if v is not None},
        },
    )
    return draft
