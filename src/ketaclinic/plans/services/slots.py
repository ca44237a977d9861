"""The plan's slots: move or cancel a planned infusion, add a booster."""

from __future__ import annotations

from datetime import datetime
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
from ketaclinic.core.series import Slot, check_slot
from ketaclinic.patients.access import patient_for
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.plans.services._common import (
    IN_THE_PAST,
    NOT_ACTIVE,
    _chair_free,
    _locked,
    _place,
    _rules,
    _slots,
    _tz,
    _when,
)

NOT_PLANNED = "{label} is {status}; only a planned infusion can be {what}."
REASON_REQUIRED = "Give a reason for cancelling."
BOOSTER_DURING_SERIES = "A booster comes after the series; {label} of the series is planned on {when}."
BOOSTER_TOO_SOON = (
    "A booster on {when} would be {days} days after {label} on {last}; the plan sets at least "
    "{min_days} days between a booster and the previous infusion."
)


def _infusion_locked(infusion: PlannedInfusion) -> tuple[PlannedInfusion, TreatmentPlan]:
    infusion = PlannedInfusion.objects.select_related("plan", "location", "chair").get(pk=infusion.pk)
    plan = _locked(infusion.plan)  # one plan's slots change one at a time
    return PlannedInfusion.objects.select_related("location", "chair").get(pk=infusion.pk), plan


@transaction.atomic
def infusion_move(
    *,
    user: User,
    infusion: PlannedInfusion,
    start: datetime,
    location: Location | None = None,
    chair: Chair | None = None,
    at_home: bool | None = None,
) -> PlannedInfusion:
    """Move a planned slot (and optionally its place); the series rules and the chair's other bookings
    hold."""
    infusion, plan = _infusion_locked(infusion)
    patient_for(user, plan.patient, Permission.SCHEDULE_MANAGE)
    if infusion.status != PlannedInfusion.Status.PLANNED:
        raise ValidationError(
            NOT_PLANNED.format(
                label=infusion.label, status=infusion.get_status_display().lower(), what="moved"
            ),
            field="status",
            value=infusion.status,
        )
    location = location or infusion.location
    at_home = infusion.at_home if at_home is None else at_home
    chair = None if at_home else (chair or (infusion.chair if location.pk == infusion.location_id else None))
    _place(patient=plan.patient, location=location, chair=chair, at_home=at_home)
    if start <= timezone.now():
        raise ValidationError(
            IN_THE_PAST.format(label=infusion.label, when=_when(start, location)),
            field="scheduled_start",
            value=start,
        )
    check_slot(
        rules=_rules(plan),
        slot=Slot(infusion.label, start),
        others=_slots(plan, exclude=infusion.pk),
        tz=_tz(location),
    )
    _chair_free(
        chair=chair,
        start=start,
        minutes=infusion.duration_minutes,
        label=infusion.label,
        location=location,
        exclude=infusion.pk,
    )
    before: dict[str, Any] = {
        "start": infusion.scheduled_start.isoformat(),
        "location": infusion.location.code,
        "chair": infusion.chair.name if infusion.chair else None,
        "at_home": infusion.at_home,
    }
    infusion.scheduled_start, infusion.location, infusion.chair, infusion.at_home = (
        start,
        location,
        chair,
        at_home,
    )
    infusion.updated_by = user
    clean_or_refuse(infusion)
    infusion.save()
    after: dict[str, Any] = {
        "start": start.isoformat(),
        "location": location.code,
        "chair": chair.name if chair else None,
        "at_home": at_home,
    }
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        patient=plan.patient,
        summary=f"Moved {infusion.label} from {before['start'][:16]} to {after['start'][:16]}",
        detail={"infusion": str(infusion.external_id), "from": before, "to": after},
    )
    due_inputs_changed.send(sender=PlannedInfusion, patient_ids=[plan.patient_id])  # its questionnaires move
    return infusion


@transaction.atomic
def infusion_cancel(*, user: User, infusion: PlannedInfusion, reason: str) -> PlannedInfusion:
    infusion, plan = _infusion_locked(infusion)
    patient_for(user, plan.patient, Permission.SCHEDULE_MANAGE)
    if infusion.status != PlannedInfusion.Status.PLANNED:
        raise ValidationError(
            NOT_PLANNED.format(
                label=infusion.label, status=infusion.get_status_display().lower(), what="cancelled"
            ),
            field="status",
            value=infusion.status,
        )
    if not reason.strip():
        raise ValidationError(REASON_REQUIRED, field="reason", value=reason)
    infusion.status, infusion.cancel_reason, infusion.updated_by = (
        PlannedInfusion.Status.CANCELLED,
        reason.strip(),
        user,
    )
    clean_or_refuse(infusion)
    infusion.save()
    audit_record(
        action=AuditEntry.Action.UPDATE,
        actor=user,
        patient=plan.patient,
        summary=f"Cancelled {infusion.label} of "
        f"{infusion.scheduled_start:%Y-%m-%d}: {infusion.cancel_reason}",
        detail={"infusion": str(infusion.external_id), "reason": infusion.cancel_reason},
    )
    due_inputs_changed.send(sender=PlannedInfusion, patient_ids=[plan.patient_id])  # one infusion fewer
    return infusion


@transaction.atomic
def booster_add(
    *,
    user: User,
    plan: TreatmentPlan,
    start: datetime,
    location: Location,
    chair: Chair | None = None,
    at_home: bool = False,
) -> PlannedInfusion:
    """A booster slot after the series, at least the plan's minimum days after the previous infusion."""
    plan = _locked(plan)
    patient_for(user, plan.patient, Permission.SCHEDULE_MANAGE)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            NOT_ACTIVE.format(status=plan.get_status_display().lower(), what="given a booster"),
            field="status",
            value=plan.status,
        )
    chair = None if at_home else chair
    _place(patient=plan.patient, location=location, chair=chair, at_home=at_home)
    if start <= timezone.now():
        raise ValidationError(
            IN_THE_PAST.format(label="The booster", when=_when(start, location)),
            field="scheduled_start",
            value=start,
        )
    live = list(plan.infusions.exclude(status=PlannedInfusion.Status.CANCELLED).order_by("scheduled_start"))
    later_series = [i for i in live if i.kind == PlannedInfusion.Kind.SERIES and i.scheduled_start >= start]
    if later_series:
        last = later_series[-1]
        raise ValidationError(
            BOOSTER_DURING_SERIES.format(label=last.label, when=_when(last.scheduled_start, location)),
            field="scheduled_start",
            value=start,
        )
    before = [i for i in live if i.scheduled_start < start]
    if before:
        prev = before[-1]
        days = (start - prev.scheduled_start).total_seconds() / 86400
        if days < plan.booster_min_days:
            raise ValidationError(
                BOOSTER_TOO_SOON.format(
                    when=_when(start, location),
                    days=int(days),
                    label=prev.label,
                    last=_when(prev.scheduled_start, location),
                    min_days=plan.booster_min_days,
                ),
                field="scheduled_start",
                value=start,
            )
    series = plan.protocol_version.parsed.series
    minutes = series.chair_minutes if series else 120
    sequence = (plan.infusions.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
    label = f"Booster {sequence}"
    _chair_free(chair=chair, start=start, minutes=minutes, label=label, location=location)
    booster = PlannedInfusion(
        plan=plan,
        sequence=sequence,
        kind=PlannedInfusion.Kind.BOOSTER,
        scheduled_start=start,
        duration_minutes=minutes,
        location=location,
        chair=chair,
        at_home=at_home,
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(booster)
    booster.save()
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=plan.patient,
        summary=f"Planned {label} on {_when(start, location)}",
        detail={"infusion": str(booster.external_id), "plan": str(plan.external_id)},
    )
    return booster
