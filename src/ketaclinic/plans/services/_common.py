"""What the plan actions share: where a slot may be placed (home or a free chair), the series rules of a
plan, a plan locked for a change, times in the location's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ketaclinic.accounts.geography import service_area_of, zip_centre
from ketaclinic.accounts.models import Chair, Location
from ketaclinic.base.signals import slot_chair_requested
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.series import SeriesRules, Slot
from ketaclinic.core.travel import service_area_check
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan

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
NOT_ACTIVE = "This plan is {status}; only an active (signed) plan can be {what}."
IN_THE_PAST = "{label} on {when} would be in the past."


def _tz(location: Location) -> ZoneInfo:
    return ZoneInfo(location.timezone)


def _when(moment: datetime, location: Location) -> str:
    return moment.astimezone(_tz(location)).strftime("%a %Y-%m-%d %H:%M")


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
        _in_service_area(patient, location)
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


def _in_service_area(patient: Patient, location: Location) -> None:
    """Refuse a home outside the mobile location's service area (or a location without one, or an unknown
    ZIP code), naming the ZIP code, its distance and the radius."""
    area = service_area_of(location)
    home = zip_centre(patient.postal_code, what="The patient's ZIP code")
    service_area_check(area, home=home, postal_code=patient.postal_code, place="The patient's home")


def _chair_free(
    *,
    chair: Chair | None,
    start: datetime,
    minutes: int,
    label: str,
    location: Location,
    exclude: int | None = None,
) -> None:
    """Refuse a slot overlapping another planned slot in the same chair (the chair's row locked first), or an
    appointment booked in it (``slot_chair_requested``, answered by scheduling)."""
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
    # the apps above hold the chair too (scheduling: an appointment booked in it then)
    slot_chair_requested.send(
        sender=PlannedInfusion,
        chair=chair,
        start=start,
        end=end,
        label=label,
        location=location,
        exclude=exclude,
    )


def _slots(plan: TreatmentPlan, exclude: int | None = None) -> list[Slot]:
    rows = plan.infusions.exclude(status=PlannedInfusion.Status.CANCELLED)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return [Slot(r.label, r.scheduled_start) for r in rows]


def _locked(plan: TreatmentPlan) -> TreatmentPlan:
    # signed_by is read after the lock, never joined: a request that waited for the lock would get the
    # winner's row but PostgreSQL re-checks a joined row against the old version (signed_by NULL).
    return (
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("patient", "protocol_version")
        .get(pk=plan.pk)
    )
