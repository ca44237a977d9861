"""What every booking is checked against, in the order a front desk would find out: who may book here, the
time (future, hours, closures), the chair or room, the staff member (shift, skill), a prescriber on site,
the treatment pathway and the series spacing for an infusion, and last the clashes (with the nearest free
starts). Reads only; the actions in ``appointments`` and ``series`` lock, save and audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from ketaclinic.accounts.geography import service_area_of, zip_centre
from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.home_route import HomeVisit, travel_fits
from ketaclinic.core.infusion.pathway import NO_PLAN, pathway_message, pathway_problems
from ketaclinic.core.scheduling.hours import check_hours, span_words
from ketaclinic.core.scheduling.intervals import Interval, covered
from ketaclinic.core.scheduling.needs import check_prescriber_on_site, needs_problem
from ketaclinic.core.scheduling.slots import slots_words
from ketaclinic.core.series import SeriesRules, Slot, check_slot
from ketaclinic.core.travel import service_area_check
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.infusions.selectors.pathway import active_plan, pathway_facts
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.scheduling.models import Appointment, AppointmentType, Room
from ketaclinic.scheduling.selectors import (
    clashing,
    free_starts,
    held_slots,
    location_calendar,
    on_site_shifts,
    shifts_of,
    staff_skills,
    type_rules,
)

IN_THE_PAST = "{when} is in the past; book a time after now ({now})."
NOT_YOUR_LOCATION = "You do not work at {location}; book at one of your locations."
PLACE_ELSEWHERE = "{place} is not at {location}; choose one of {location}'s."
PLACE_INACTIVE = "{place} is out of service; choose another."
HOME_NEEDS_MOBILE = "A home visit is booked from a mobile location; {location} is a clinic."
STAFF_ELSEWHERE = "{staff} does not work at {location}."
STAFF_OFF_SHIFT = (
    "{staff} is not on shift at {location} for all of {when}; "
    "choose a time inside their shift or someone on shift."
)
TYPE_INACTIVE = "{type} is no longer booked here."
CLASH = (
    "{resource} is already booked {other}; this {type} would need {pronoun} {mine}. "
    "Nearest free starts: {free}."
)
HELD_FOR_OTHER = (
    "{resource} is held {other} for another patient's planned {slot}, not yet booked; this {type} would "
    "need it {mine}. Nearest free starts: {free}."
)
HELD_FOR_PATIENT = (
    "The patient's plan holds {other} for their {slot}, not yet booked; this {type} would need them {mine}. "
    "Book the planned infusion itself at that time, or choose another time. Nearest free starts: {free}."
)
PLAN_SLOT_OTHER_PATIENT = "That planned infusion belongs to another patient."
HOME_NEEDS_ADDRESS = "A home visit needs the patient's home address and ZIP code on file; add them first."
NO_PRESCRIBER_REACHABLE = (
    "No prescriber or supervising physician is on shift at {location} for all of {when}; a home {type} "
    "needs one on shift and reachable by phone throughout (they are not at the patient's home). "
    "Choose a time when one is on shift, or add their shift first."
)


@dataclass(frozen=True)
class Request:
    """One appointment as asked for."""

    user: User
    location: Location
    kind: AppointmentType
    patient: Patient
    start: datetime
    minutes: int
    staff: User
    chair: Chair | None = None
    room: Room | None = None
    at_home: bool = False
    planned: PlannedInfusion | None = None
    reason: str = ""
    exclude: int | None = None  # the appointment being moved

    @property
    def interval(self) -> Interval:
        return Interval.of(self.start, self.minutes)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.location.timezone)


def _words(req: Request) -> str:
    return span_words(req.interval, req.tz)


def _check_place(req: Request) -> None:
    if req.location.pk not in set(req.user.locations.values_list("pk", flat=True)):
        raise ValidationError(
            NOT_YOUR_LOCATION.format(location=req.location.name), field="location", value=req.location.code
        )
    if not req.kind.active:
        raise ValidationError(TYPE_INACTIVE.format(type=req.kind.name), field="type", value=req.kind.code)
    if req.at_home and req.location.kind != Location.Kind.MOBILE:
        raise ValidationError(
            HOME_NEEDS_MOBILE.format(location=req.location.name), field="location", value=req.location.code
        )
    for name, place in (("chair", req.chair), ("room", req.room)):
        if place is None:
            continue
        if place.location_id != req.location.pk:
            raise ValidationError(
                PLACE_ELSEWHERE.format(place=place.name, location=req.location.name),
                field=name,
                value=place.name,
            )
        if not place.active:
            raise ValidationError(PLACE_INACTIVE.format(place=place.name), field=name, value=place.name)


def _check_time(req: Request) -> None:
    now = timezone.now()
    if req.start <= now:
        raise ValidationError(
            IN_THE_PAST.format(when=_words(req), now=f"{now.astimezone(req.tz):%a %Y-%m-%d %H:%M}"),
            field="start",
            value=req.start,
        )
    check_hours(location_calendar(req.location, around=req.start.date()), req.interval)


def _check_people(req: Request) -> None:
    interval, location = req.interval, req.location
    rules = type_rules(req.kind, req.minutes)
    problem = needs_problem(
        rules,
        chair=req.chair.name if req.chair else None,
        room=req.room.name if req.room else None,
        at_home=req.at_home,
        staff=str(req.staff),
        staff_skills=staff_skills(req.staff),
        prescriber_present=True,
    )
    if problem is not None:
        raise ValidationError(problem.message, field=problem.field, value=req.kind.code)
    if not req.staff.locations.filter(pk=location.pk).exists():
        raise ValidationError(
            STAFF_ELSEWHERE.format(staff=req.staff, location=location.name),
            field="staff",
            value=str(req.staff),
        )
    if not covered(interval, shifts_of(req.staff, location, interval)):
        raise ValidationError(
            STAFF_OFF_SHIFT.format(staff=req.staff, location=location.name, when=_words(req)),
            field="staff",
            value=str(req.staff),
        )
    present = covered(interval, on_site_shifts(location, interval))
    if req.at_home:  # no prescriber at the patient's home: one on shift at the mobile location, reachable
        if rules.prescriber_on_site and not present:
            raise ValidationError(
                NO_PRESCRIBER_REACHABLE.format(
                    location=location.name, when=_words(req), type=req.kind.name.lower()
                ),
                field="start",
                value=_words(req),
            )
        return
    check_prescriber_on_site(rules, present=present, location=location.name, when=_words(req))


def _visit_label(patient: Patient, kind: AppointmentType) -> str:
    return f"{patient.display_name}'s {kind.name.lower()}"


def _check_home(req: Request) -> None:
    """A home visit: the patient's home inside the mobile location's service area, and the drive from the
    staff member's previous home visit of that day and to the next one fitting the gaps (``travel_fits``,
    ZIP-code centres, the method of ``core.travel``)."""
    if not req.at_home:
        return
    patient = req.patient
    if not (patient.address or "").strip() or not (patient.postal_code or "").strip():
        raise ValidationError(HOME_NEEDS_ADDRESS, field="at_home", value=True)
    home = zip_centre(patient.postal_code, what="The patient's ZIP code")
    service_area_check(
        service_area_of(req.location), home=home, postal_code=patient.postal_code, place="The patient's home"
    )
    local_day = req.start.astimezone(req.tz).date()
    day_start = datetime.combine(local_day, time(0), tzinfo=req.tz)
    others = Appointment.objects.filter(
        staff=req.staff,
        at_home=True,
        status=Appointment.Status.BOOKED,
        start__lt=day_start + timedelta(days=1),
        end__gt=day_start,
    ).select_related("patient", "type")
    if req.exclude is not None:
        others = others.exclude(pk=req.exclude)
    visits = [
        HomeVisit(
            _visit_label(a.patient, a.type),
            a.start,
            int((a.end - a.start).total_seconds() // 60),
            zip_centre(a.patient.postal_code, what=f"{a.patient.display_name}'s ZIP code"),
        )
        for a in others
    ]
    mine = HomeVisit(f"this {req.kind.name.lower()} for {patient.display_name}", req.start, req.minutes, home)
    travel_fits(mine, visits, tz=req.tz)


def _series_others(req: Request) -> tuple[SeriesRules | None, list[Slot]]:
    plan = active_plan(req.patient)
    if plan is None:
        return None, []
    rules = SeriesRules(
        count=plan.series_count, max_per_week=plan.max_per_week, min_spacing_hours=plan.min_spacing_hours
    )
    slots = plan.infusions.exclude(status=PlannedInfusion.Status.CANCELLED)
    if req.planned is not None:
        slots = slots.exclude(pk=req.planned.pk)
    others = [Slot(s.label, s.scheduled_start) for s in slots]
    extra = Appointment.objects.filter(
        patient=req.patient,
        status=Appointment.Status.BOOKED,
        type__is_infusion=True,
        planned_infusion__isnull=True,
    )
    if req.exclude is not None:
        extra = extra.exclude(pk=req.exclude)
    others += [Slot(f"the {a.type.name.lower()}", a.start) for a in extra.select_related("type")]
    return rules, others


def _check_pathway(req: Request) -> None:
    """An infusion is booked only where the check-in would let it go ahead (core ``pathway_problems``: an
    active signed plan on an eligible screening, a protocol for the indication, a reason when outside the
    plan's slots, the spacing since the last infusion, no urgent safety flag open), and within the plan's
    series spacing."""
    if not req.kind.is_infusion:
        return
    plan = active_plan(req.patient)
    if req.planned is not None and req.planned.plan.patient_id != req.patient.pk:
        raise ValidationError(
            PLAN_SLOT_OTHER_PATIENT, field="planned_infusion", value=str(req.planned.external_id)
        )
    if plan is None:
        problems: tuple[str, ...] = (NO_PLAN,)  # the check-in's words
    else:
        session = InfusionSession(
            patient=req.patient,
            planned_infusion=req.planned,
            protocol_version=plan.protocol_version,
            location=req.location,
            chair=req.chair,
            at_home=req.at_home,
            scheduled_start=req.start,
            treatment_plan=plan,
            added_reason=req.reason.strip(),
        )
        problems = pathway_problems(pathway_facts(session, at=req.start))
    if problems:
        raise ValidationError(pathway_message(problems), field="pathway", value=list(problems))
    rules, others = _series_others(req)
    if rules is not None:
        label = req.planned.label if req.planned is not None else f"This {req.kind.name.lower()}"
        check_slot(rules=rules, slot=Slot(label, req.start), others=others, tz=req.tz)


def _nearest_words(req: Request) -> str:
    free = free_starts(
        location=req.location,
        want=req.start,
        minutes=req.minutes,
        chair=req.chair,
        room=req.room,
        staff=req.staff,
        patient=req.patient,
        now=timezone.now(),
        exclude=req.exclude,
        planned=req.planned,
    )
    return slots_words(free, location_calendar(req.location, around=req.start.date()))


def _held_error(req: Request, slot: PlannedInfusion) -> ValidationError:
    """A signed plan's slot, not yet booked, holds its chair and patient: which, when, and what is free."""
    words = {
        "other": span_words(Interval(slot.scheduled_start, slot.scheduled_end), req.tz),
        "slot": slot.label.lower(),
        "type": req.kind.name.lower(),
        "mine": _words(req),
        "free": _nearest_words(req),
    }
    if slot.plan.patient_id == req.patient.pk:
        return ValidationError(
            HELD_FOR_PATIENT.format(**words), field="patient", value=str(req.patient.external_id)
        )
    assert req.chair is not None  # another patient's slot is found through the chair only
    return ValidationError(
        HELD_FOR_OTHER.format(resource=req.chair.name, **words), field="chair", value=req.chair.name
    )


def _clash_error(req: Request, other: Appointment) -> ValidationError:
    """Which of the chair, the room, the staff member or the patient is taken, when, and what is free."""
    if other.patient_id == req.patient.pk:
        resource, pronoun, field, value = "The patient", "them", "patient", str(req.patient.external_id)
    elif other.staff_id == req.staff.pk:
        resource, pronoun, field, value = str(req.staff), "them", "staff", str(req.staff)
    elif req.chair is not None and other.chair_id == req.chair.pk:
        resource, pronoun, field, value = req.chair.name, "it", "chair", req.chair.name
    else:
        name = req.room.name if req.room is not None else "The room"
        resource, pronoun, field, value = name, "it", "room", name
    message = CLASH.format(
        resource=resource,
        other=span_words(Interval(other.start, other.end), req.tz),
        type=req.kind.name.lower(),
        pronoun=pronoun,
        mine=_words(req),
        free=_nearest_words(req),
    )
    return ValidationError(message, field=field, value=value)


def _check_free(req: Request) -> None:
    found = clashing(
        window=req.interval,
        chair=req.chair,
        room=req.room,
        staff=req.staff,
        patient=req.patient,
        exclude=req.exclude,
    )
    if found:
        raise _clash_error(req, found[0])
    held = held_slots(window=req.interval, chair=req.chair, patient=req.patient, planned=req.planned)
    if held:
        raise _held_error(req, held[0])


def _check_all(req: Request) -> None:
    _check_place(req)
    _check_time(req)
    _check_people(req)
    _check_home(req)
    _check_pathway(req)
    _check_free(req)
