"""Reads of treatment plans and planned infusions (pages, the API, and the infusion sessions)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet

from ketaclinic.accounts.models import Location, User
from ketaclinic.audit.services import audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.protocols.dosing import DosingSection
from ketaclinic.patients.access import patient_for, patients_visible_to
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan

_INFUSIONS = Prefetch("infusions", queryset=PlannedInfusion.objects.select_related("location", "chair"))


def plans_for_patient(*, user: User, patient: Patient) -> list[TreatmentPlan]:
    patient_for(user, patient, Permission.CLINICAL_VIEW)
    audit_read(patient, "treatment plans")
    return list(
        patient.treatment_plans.select_related("protocol_version", "signed_by", "supersedes")
        .prefetch_related(_INFUSIONS)
        .order_by("-created_at")
    )


def plan_current(patient: Patient) -> TreatmentPlan | None:
    """The patient's active plan, else the newest draft (no permission check: for callers that checked)."""
    plans = patient.treatment_plans.exclude(status=TreatmentPlan.Status.SUPERSEDED)
    return (
        plans.filter(status=TreatmentPlan.Status.ACTIVE).first()
        or plans.filter(status=TreatmentPlan.Status.DRAFT).first()
    )


def plan_get(*, user: User, external_id: str) -> TreatmentPlan:
    plan = (
        TreatmentPlan.objects.select_related(
            "patient", "patient__location", "protocol_version", "signed_by", "screening", "supersedes"
        )
        .prefetch_related(_INFUSIONS)
        .get(external_id=external_id)
    )
    patient_for(user, plan.patient, Permission.CLINICAL_VIEW)
    audit_read(plan.patient, "treatment plan")
    return plan


def infusion_get(
    *, user: User, external_id: str, permission: Permission = Permission.CLINICAL_VIEW
) -> PlannedInfusion:
    infusion = PlannedInfusion.objects.select_related(
        "plan", "plan__patient", "plan__patient__location", "location", "chair"
    ).get(external_id=external_id)
    patient_for(user, infusion.plan.patient, permission)
    audit_read(infusion.plan.patient, "planned infusion")
    return infusion


def planned_infusions_on(
    *, user: User, location: Location, day: date, permission: Permission = Permission.SESSION_VIEW
) -> QuerySet[PlannedInfusion]:
    """Planned infusions of a location on a local day, in chair order then time: the day board's rows.

    Each row carries ``scheduled_start`` (aware UTC), ``duration_minutes`` (chair time incl. observation),
    ``location``, ``chair`` (None at home), ``at_home``, ``kind`` (series/booster), ``sequence``, ``status``
    and ``plan`` (with ``patient``, ``protocol_version``, ``dose_strategy``). The day board reads them with
    ``board.view`` (the front desk checks patients in from it without seeing sessions)."""
    tz = ZoneInfo(location.timezone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    patients = patients_visible_to(user, permission)
    return (
        PlannedInfusion.objects.filter(
            location=location,
            scheduled_start__gte=start,
            scheduled_start__lt=start + timedelta(days=1),
            plan__patient__in=patients,
            plan__status=TreatmentPlan.Status.ACTIVE,
        )
        .exclude(status=PlannedInfusion.Status.CANCELLED)
        .select_related("plan", "plan__patient", "plan__protocol_version", "chair", "location")
        # the version's document (about 20 kB of JSON a row) is read only when ``parsed`` has not seen it
        .defer("plan__protocol_version__document")
        .order_by("chair__name", "scheduled_start")
    )


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
