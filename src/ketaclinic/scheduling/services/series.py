"""A signed plan's series becomes appointments: every planned slot not yet booked, all or nothing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.patients.access import patient_for
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.scheduling.models import Appointment, AppointmentType
from ketaclinic.scheduling.services._checks import Request
from ketaclinic.scheduling.services.appointments import _book

PLAN_NOT_ACTIVE = "This plan is {status}; only a signed, active plan's series is booked."
NOTHING_TO_BOOK = "Every planned infusion ahead in this plan is booked already (or done or cancelled)."
SLOT_REFUSED = "{label} ({when}) cannot be booked, so none of the series was: {why}"


@transaction.atomic
def plan_series_book(*, user: User, plan: TreatmentPlan, staff: User) -> list[Appointment]:
    """Book each planned slot still ahead (not yet booked) of an active plan as an infusion or booster
    appointment with ``staff``, at the slot's time, place and chair time. One refusal books none of them,
    naming the slot. A slot whose time has passed is the day board's business (check-in), not the desk's."""
    plan = TreatmentPlan.objects.select_for_update(of=("self",)).select_related("patient").get(pk=plan.pk)
    patient_for(user, plan.patient, Permission.SCHEDULE_MANAGE)
    if plan.status != TreatmentPlan.Status.ACTIVE:
        raise ValidationError(
            PLAN_NOT_ACTIVE.format(status=plan.get_status_display().lower()), field="plan", value=plan.status
        )
    slots = list(
        plan.infusions.filter(status=PlannedInfusion.Status.PLANNED, scheduled_start__gt=timezone.now())
        .exclude(appointments__status=Appointment.Status.BOOKED)
        .select_related("location", "chair", "plan")
        .order_by("scheduled_start")
    )
    if not slots:
        raise ValidationError(NOTHING_TO_BOOK, field="plan", value=str(plan.external_id))
    kinds = {t.code: t for t in AppointmentType.objects.filter(code__in=["infusion", "booster"])}
    booked = []
    for slot in slots:
        req = Request(
            user=user,
            location=slot.location,
            kind=kinds["booster" if slot.kind == PlannedInfusion.Kind.BOOSTER else "infusion"],
            patient=plan.patient,
            start=slot.scheduled_start,
            minutes=slot.duration_minutes,
            staff=staff,
            chair=slot.chair,
            at_home=slot.at_home,
            planned=slot,
        )
        try:
            booked.append(_book(req))
        except ValidationError as exc:
            when = f"{slot.scheduled_start.astimezone(req.tz):%a %Y-%m-%d %H:%M}"
            raise ValidationError(
                SLOT_REFUSED.format(label=slot.label, when=when, why=exc.message),
                field=exc.field,
                value=exc.value,
            ) from exc
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=plan.patient,
        summary=f"Booked the plan's {len(booked)} planned infusions as appointments",
        detail={"plan": str(plan.external_id), "appointments": [str(a.external_id) for a in booked]},
    )
    return booked
