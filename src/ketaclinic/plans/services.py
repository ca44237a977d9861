"""Treatment plan actions: draft a plan from the protocol (its series proposed as dated slots), sign it,
revise a signed plan (a new version superseding it), move or cancel a slot, add a booster.

The scheduling rules (per-week limit, minimum spacing) are decided in the pure core
(``ketaclinic.core.series``); a chair is never double-booked: every write that places a slot in a chair
first locks the chair's row (``select_for_update``) inside the action's transaction, then checks the
chair's other slots, so two people booking the same chair are serialised (SQLite serialises writers).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.protocols.dosing import DosingSection
from ketaclinic.core.series import SeriesRules, Slot, check_slot, propose_series
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.protocols.selectors import protocol_for_indication
from ketaclinic.screening.models import Screening

SCREENING_NOT_ELIGIBLE = (
    "A plan needs a signed eligible screening; this screening is {status}. Sign an eligible decision first."
)
SCREENING_OTHER_PATIENT = "That screening belongs to another patient."
NO_SERIES = "Protocol {protocol} v{version} has no series section; it cannot propose a series. Load a version that has one."
HOME_NEEDS_ADDRESS = "A home infusion needs the patient's home address on file."
HOME_NEEDS_MOBILE = "A home infusion is planned from a mobile location; {location} is a clinic."
CLINIC_NEEDS_CHAIR = "Choose a chair at {location} (or plan the infusion at home)."
CHAIR_ELSEWHERE = "{chair} is not at {location}."
CHAIR_INACTIVE = "{chair} is out of service."
CHAIR_TAKEN = (
    "{chair} is already booked {start}-{end} ({other}); {label} would need it {my_start}-{my_end}. "
    "Choose another chair or time."
)
LOCATION_IS_MOBILE = (
    "{location} is a mobile location: plan the infusion at the patient's home, not in a chair."
)
ALREADY_SIGNED = (
    "This plan was signed by {who} on {when}; a signed plan cannot change. Revise it to make a new version."
)
NOT_ACTIVE = "This plan is {status}; only an active (signed) plan can be {what}."
ANOTHER_ACTIVE = (
    "This patient already has an active plan (signed {when}); revise that plan instead of signing "
    "a second one."
)
ALREADY_REVISED = "This plan already has a draft revision; finish or sign that one."
NOT_PLANNED = "{label} is {status}; only a planned infusion can be {what}."
REASON_REQUIRED = "Give a reason for cancelling."
IN_THE_PAST = "{label} on {when} would be in the past."
BOOSTER_DURING_SERIES = "A booster comes after the series; {label} of the series is planned on {when}."
BOOSTER_TOO_SOON = (
    "A booster on {when} would be {days} days after {label} on {last}; the plan sets at least "
    "{min_days} days between a booster and the previous infusion."
)
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


def _tz(location: Location) -> ZoneInfo:
    return ZoneInfo(location.timezone)


def _when(moment: datetime, location: Location) -> str:
    return moment.astimezone(_tz(location)).strftime("%a %Y-%m-%d %H:%M")


def dose_strategy_of(dosing: DosingSection | None) -> dict[str, Any]:
    """The plan's dose strategy: starting dose, titration step, range and limits, from the dosing section."""
    if dosing is None:
        return {}
    unit = dosing.basis.unit
    limits = []
    for lim in dosing.limits:
        parts = [
            f"{name.replace('_', ' ')} {value:g}"
            for name in ("soft_min", "soft_max", "hard_min", "hard_max")
            if (value := getattr(lim, name, None)) is not None
        ]
        limits.append(f"{lim.quantity.label} ({lim.quantity.unit}): {', '.join(parts)}")
    return {
        "route": dosing.route.value,
        "basis": dosing.basis.value,
        "unit": unit,
        "starting_dose": dosing.default,
        "titration_step": dosing.titration_step,
        "range": [dosing.range.min, dosing.range.max],
        "infusion_duration_min": getattr(dosing, "infusion_duration_min", None),
        "record_only": bool(getattr(dosing, "record_only", False)),
        "limits": limits,
        "summary": f"Start {dosing.default:g} {unit}"
        + (f", titrate by {dosing.titration_step:g} {unit}" if dosing.titration_step else "")
        + f" within {dosing.range.min:g}-{dosing.range.max:g} {unit}",
    }


def _rules(plan: TreatmentPlan) -> SeriesRules:
    return SeriesRules(
        count=plan.series_count, max_per_week=plan.max_per_week, min_spacing_hours=plan.min_spacing_hours
    )


def _place(*, patient: Patient, location: Location, chair: Chair | None, at_home: bool) -> None:
    if at_home:
        if location.kind != Location.Kind.MOBILE:
            raise ValidationError(
                HOME_NEEDS_MOBILE.format(location=location.name), field="location", value=location.code
            )
        if not patient.address.strip():
            raise ValidationError(HOME_NEEDS_ADDRESS, field="at_home", value=True)
        return
    if location.kind == Location.Kind.MOBILE:
        raise ValidationError(
            LOCATION_IS_MOBILE.format(location=location.name), field="location", value=location.code
        )
    if chair is None:
        raise ValidationError(CLINIC_NEEDS_CHAIR.format(location=location.name), field="chair", value=None)
    if chair.location_id != location.pk:
        raise ValidationError(
            CHAIR_ELSEWHERE.format(chair=chair.name, location=location.name), field="chair", value=chair.name
        )
    if not chair.active:
        raise ValidationError(CHAIR_INACTIVE.format(chair=chair.name), field="chair", value=chair.name)


def _chair_free(
    *,
    chair: Chair | None,
    start: datetime,
    minutes: int,
    label: str,
    location: Location,
    exclude: int | None = None,
) -> None:
    """Refuse a slot overlapping another planned slot in the same chair (the chair's row locked first)."""
    if chair is None:
        return
    Chair.objects.select_for_update().filter(pk=chair.pk).first()
    end = start + timedelta(minutes=minutes)
    nearby = PlannedInfusion.objects.filter(
        chair=chair,
        status=PlannedInfusion.Status.PLANNED,
        scheduled_start__lt=end,
        scheduled_start__gt=start - timedelta(days=1),
    )
    if exclude is not None:
        nearby = nearby.exclude(pk=exclude)
    for other in nearby:
        if other.scheduled_end > start:
            tz = _tz(location)
            raise ValidationError(
                CHAIR_TAKEN.format(
                    chair=chair.name,
                    start=_when(other.scheduled_start, location),
                    end=other.scheduled_end.astimezone(tz).strftime("%H:%M"),
                    other="another booking",
                    label=label,
                    my_start=_when(start, location),
                    my_end=end.astimezone(tz).strftime("%H:%M"),
                ),
                field="chair",
                value=chair.name,
            )


def _slots(plan: TreatmentPlan, exclude: int | None = None) -> list[Slot]:
    rows = plan.infusions.exclude(status=PlannedInfusion.Status.CANCELLED)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return [Slot(r.label, r.scheduled_start) for r in rows]


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


def _locked(plan: TreatmentPlan) -> TreatmentPlan:
    # signed_by is read after the lock, never joined: a request that waited for the lock would get the
    # winner's row but PostgreSQL re-checks a joined row against the old version (signed_by NULL).
    return (
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("patient", "protocol_version")
        .get(pk=plan.pk)
    )


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
    """Move a planned slot (and optionally its place); the series rules and the chair's other bookings hold."""
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
        summary=f"Cancelled {infusion.label} of {infusion.scheduled_start:%Y-%m-%d}: {infusion.cancel_reason}",
        detail={"infusion": str(infusion.external_id), "reason": infusion.cancel_reason},
    )
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
