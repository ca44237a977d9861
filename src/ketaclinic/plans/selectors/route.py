"""The nurse's day route for home visits (a read): a mobile location's home slots of one day in time order,
each with the estimated drive from the previous stop and a warning when the drive does not fit the gap.

Built from the plans' home slots (``PlannedInfusion.at_home``) until appointments carry the nurse: a mobile
location's home visits of a day are read as one nurse's route. The method of the estimate is the core's
(``ketaclinic.core.travel``), stated on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from ketaclinic.accounts.geography import zip_centre
from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.home_route import HomeVisit, leg_problem
from ketaclinic.core.travel import DEFAULT_TRAVEL_RULES, TravelEstimate, travel_estimate
from ketaclinic.patients.access import patients_visible_to
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan

LOCATION_NOT_YOURS = "You do not work at {value}."


@dataclass(frozen=True, slots=True)
class RouteRow:
    infusion: PlannedInfusion
    patient: Patient | None  # None: a patient of a location the user does not work at (not named)
    address: str
    start: datetime  # in the location's zone
    end: datetime
    travel: TravelEstimate | None  # from the previous stop; None for the first stop or an unknown ZIP
    problem: str  # a leg that does not fit, or a ZIP code that cannot be placed


@dataclass(frozen=True, slots=True)
class HomeRoute:
    location: Location
    day: date
    rows: tuple[RouteRow, ...]
    method: str

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(r.problem for r in self.rows if r.problem)

    @property
    def patients(self) -> tuple[Patient, ...]:
        return tuple(r.patient for r in self.rows if r.patient is not None)


def _address(p: Patient) -> str:
    return ", ".join(part for part in (p.address, p.city, f"{p.state} {p.postal_code}".strip()) if part)


def _visit(infusion: PlannedInfusion, shown: bool) -> HomeVisit | str:
    """The core's visit, or the words saying why its ZIP code cannot be placed (a patient the user may not
    see is named "another location's patient")."""
    patient = infusion.plan.patient
    name = patient.display_name if shown else "another location's patient"
    try:
        where = zip_centre(patient.postal_code, what=f"{name}'s ZIP code")
    except ValidationError as exc:
        return exc.message if shown else f"{name}: the ZIP code on file is not a known US ZIP code."
    label = f"{name} ({infusion.label})"
    return HomeVisit(label, infusion.scheduled_start, infusion.duration_minutes, where)


def home_route_for(*, user: User, location: Location, day: date | None = None) -> HomeRoute:
    """The location's home visits of ``day`` (its local day; today by default) in time order, in a fixed
    number of queries whatever the number of visits (the user's locations, break-glass grants, the slots with
    their plans and patients, which of them the user may see)."""
    require(user, Permission.BOARD_VIEW)
    if location.pk not in user_location_ids(user):
        raise PermissionDenied(LOCATION_NOT_YOURS.format(value=location))
    tz = ZoneInfo(location.timezone)
    day = day or timezone.now().astimezone(tz).date()
    start = datetime.combine(day, time.min, tzinfo=tz)
    # every home visit of the day makes the route (a visit hidden from this user still takes the nurse's
    # time and moves the next leg's start); only the patients the user may see are named
    slots = list(
        PlannedInfusion.objects.filter(
            location=location,
            at_home=True,
            scheduled_start__gte=start,
            scheduled_start__lt=start + timedelta(days=1),
            plan__status=TreatmentPlan.Status.ACTIVE,
        )
        .exclude(status=PlannedInfusion.Status.CANCELLED)
        .select_related("plan__patient")
        .order_by("scheduled_start", "pk")
    )
    visible = set(
        patients_visible_to(user, Permission.BOARD_VIEW)
        .filter(pk__in=[s.plan.patient_id for s in slots])
        .values_list("pk", flat=True)
    )
    rows: list[RouteRow] = []
    previous: HomeVisit | None = None
    for slot in slots:
        visit = _visit(slot, slot.plan.patient_id in visible)
        travel, problem = None, visit if isinstance(visit, str) else ""
        if isinstance(visit, HomeVisit) and previous is not None:
            travel = travel_estimate(previous.where, visit.where, DEFAULT_TRAVEL_RULES)
            problem = leg_problem(previous, visit, DEFAULT_TRAVEL_RULES, tz) or ""
        patient = slot.plan.patient
        shown = patient.pk in visible
        rows.append(
            RouteRow(
                slot,
                patient if shown else None,
                _address(patient) if shown else "",
                slot.scheduled_start.astimezone(tz),
                slot.scheduled_end.astimezone(tz),
                travel,
                problem,
            )
        )
        previous = visit if isinstance(visit, HomeVisit) else previous
    return HomeRoute(location, day, tuple(rows), DEFAULT_TRAVEL_RULES.method)
