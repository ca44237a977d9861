"""The front desk's pages: the week calendar of a location, booking an appointment from the free slots, an
appointment's page (move, cancel), and "Fill the chairs" (the week's placement proposal, accepted in part or
whole). Thin: each reads the request, calls a selector or a service, and renders; the rules are the booking
service's, and its refusal is shown on the form with what was typed kept and the nearest free starts offered
as one-click choices."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Chair, Location
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.services import audit_list, audit_read
from ketaclinic.base.signals import appointment_cancel_notices
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.patients.access import patient_for
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.scheduling import selectors
from ketaclinic.scheduling.calendar import calendar_week, week_monday
from ketaclinic.scheduling.forms import BookForm, CancelForm, MoveForm
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.placement import week_proposal
from ketaclinic.scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_move,
    plan_series_book,
)
from ketaclinic.scheduling.services.placement import placement_accept

LOCATION_UNKNOWN = "No location {value} among yours."
BAD_WEEK = "The week must be a date like 2026-12-07; {value!r} is not one."
BAD_SLOT = "That free start could not be read; choose one of the offered times again."
NOTHING_CHOSEN = "Tick at least one proposal to book."
SLOTS_OFFERED = 8


def _location(request: AuthedRequest, code: str) -> Location:
    """One of the user's locations by code (the first of theirs when none is named)."""
    mine = Location.objects.filter(pk__in=user_location_ids(request.user)).order_by("name")
    found = mine.filter(code=code).first() if code else mine.first()
    if found is None:
        if code and Location.objects.filter(code=code).exists():
            raise PermissionDenied(LOCATION_UNKNOWN.format(value=code))
        raise Http404(LOCATION_UNKNOWN.format(value=code or "(none)"))
    return found


def _monday(raw: str, location: Location) -> date:
    if not raw:
        return week_monday(timezone.now().astimezone(ZoneInfo(location.timezone)).date())
    try:
        return week_monday(date.fromisoformat(raw))
    except ValueError:
        raise Http404(BAD_WEEK.format(value=raw[:20])) from None


def _calendar_url(location: Location, day: date) -> str:
    return f"{reverse('scheduling:calendar')}?location={location.code}&week={week_monday(day).isoformat()}"


@login_required
@require_GET
def calendar(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.CALENDAR_VIEW)
    location = _location(request, request.GET.get("location", ""))
    monday = _monday(request.GET.get("week", ""), location)
    week = calendar_week(user=request.user, location=location, monday=monday)
    names = request.user.can(Permission.CLINICAL_VIEW)  # as the day board names flagged patients
    if names:
        audit_list(week.patients, f"week calendar {location.code} {monday.isoformat()}")
    mine = list(Location.objects.filter(pk__in=user_location_ids(request.user)).order_by("name"))
    with timezone.override(ZoneInfo(location.timezone)):
        return render(
            request,
            "scheduling/calendar.html",
            {
                "week": week,
                "location": location,
                "locations": mine,
                "names": names,
                "can_book": request.user.can(Permission.SCHEDULE_MANAGE),
                "this_week": week_monday(timezone.now().astimezone(ZoneInfo(location.timezone)).date()),
            },
        )


def _slot(raw: str, location: Location) -> datetime | None:
    """An offered start sent back by its button (local time, ISO)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(location.timezone))


def _free(form: BookForm | MoveForm, location: Location, want: datetime, **who: object) -> list[datetime]:
    """The free starts nearest ``want`` for what the form names (none when the form cannot say)."""
    d = form.cleaned_data
    try:
        starts = selectors.free_starts(
            location=location,
            want=want,
            chair=d.get("chair"),
            room=d.get("room"),
            staff=d.get("staff"),
            now=timezone.now(),
            n=SLOTS_OFFERED,
            **who,  # type: ignore[arg-type]
        )
    except DomainError:
        return []
    tz = ZoneInfo(location.timezone)
    return [s.astimezone(tz) for s in starts]


@login_required
@require_http_methods(["GET", "POST"])
def book(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.SCHEDULE_MANAGE)
    data = request.POST if request.method == "POST" else request.GET
    location = _location(request, data.get("location", ""))
    tz = ZoneInfo(location.timezone)
    initial = {"patient": request.GET.get("patient"), "day": request.GET.get("day")}
    form = BookForm(request.POST or None, location=location, user=request.user, initial=initial)
    slots: list[datetime] = []
    status, refused = 200, False
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            want = datetime.combine(d["day"], d["at"] or time(9), tzinfo=tz)
            # the patient's own planned slots are not taken for an infusion: booked at its time, it books it
            own_slots = d["type"].code not in selectors.PLAN_SLOT_TYPES
            who = {"patient": d["patient"], "minutes": d["type"].duration_minutes, "own_slots": own_slots}
            chosen = request.POST.get("slot", "")
            start = _slot(chosen, location) if chosen else None
            if not chosen and request.POST.get("book_at"):  # "Book at this time": the typed day and time
                start = want
            if chosen and start is None:
                form.add_error(None, BAD_SLOT)
            elif start is not None:
                try:
                    appointment = appointment_book(
                        user=request.user,
                        patient=d["patient"],
                        kind=d["type"],
                        location=location,
                        start=start,
                        staff=d["staff"],
                        chair=d["chair"],
                        room=d["room"],
                        at_home=d["at_home"],
                        reason=d["reason"],
                    )
                except DomainError as exc:
                    form.add_error(None, exc.message)  # at the top of the form, where the desk looks
                    refused = True
                    slots = _free(form, location, start, **who)
                else:
                    messages.success(
                        request,
                        f"Booked {appointment.type.name.lower()} for {d['patient'].display_name} "
                        f"on {appointment.start.astimezone(tz):%a %d %b %H:%M}.",
                    )
                    return redirect(_calendar_url(location, appointment.start.astimezone(tz).date()))
            else:
                slots = _free(form, location, want, **who)
                status = 200
    with timezone.override(tz):
        return render(
            request,
            "scheduling/book.html",
            {
                "form": form,
                "location": location,
                "slots": slots,
                "searched": request.method == "POST",
                "refused": refused,
            },
            status=status,
        )


def _appointment(request: AuthedRequest, external_id: str) -> Appointment:
    try:
        a = Appointment.objects.select_related(
            "patient", "type", "location", "chair", "room", "staff", "planned_infusion__plan"
        ).get(external_id=external_id)
    except Appointment.DoesNotExist:
        raise Http404("No such appointment.") from None
    patient_for(request.user, a.patient, Permission.SCHEDULE_MANAGE)
    return a


def _detail(
    request: AuthedRequest, a: Appointment, move: MoveForm, slots: list[datetime], status: int = 200
) -> HttpResponse:
    audit_read(a.patient, "appointment")
    with timezone.override(ZoneInfo(a.location.timezone)):
        return render(
            request,
            "scheduling/appointment.html",
            {
                "a": a,
                "move": move,
                "cancel": CancelForm(),
                "cancel_notices": _cancel_notices(a),
                "slots": slots,
                "back": _calendar_url(a.location, a.start.astimezone(ZoneInfo(a.location.timezone)).date()),
            },
            status=status,
        )


def _cancel_notices(a: Appointment) -> list[str]:
    """What the apps above want the desk to read before cancelling (billing: a late-cancellation fee)."""
    if a.status != Appointment.Status.BOOKED:
        return []
    replies = appointment_cancel_notices.send(
        sender=Appointment, appointment=a, at=timezone.now(), cancelled_by="patient"
    )
    return [text for _, text in replies if isinstance(text, str) and text]


def _move_form(a: Appointment, data: QueryDict | None = None) -> MoveForm:
    tz = ZoneInfo(a.location.timezone)
    return MoveForm(
        data,
        location=a.location,
        initial={
            "start": a.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "staff": a.staff,
            "chair": a.chair,
            "room": a.room,
        },
    )


@login_required
@require_GET
def appointment(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.SCHEDULE_MANAGE)
    a = _appointment(request, external_id)
    return _detail(request, a, _move_form(a), [])


@login_required
@require_POST
def appointment_move_page(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.SCHEDULE_MANAGE)
    a = _appointment(request, external_id)
    tz = ZoneInfo(a.location.timezone)
    data = request.POST.copy()
    slot = request.POST.get("slot", "")
    if slot:  # an offered free start, clicked
        data["start"] = slot[:16]
    form = _move_form(a, data)
    if not form.is_valid():
        return _detail(request, a, form, [], status=400)
    d = form.cleaned_data
    start = d["start"].replace(tzinfo=None).replace(tzinfo=tz)
    try:
        moved = appointment_move(
            user=request.user, appointment=a, start=start, chair=d["chair"], room=d["room"], staff=d["staff"]
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        a.refresh_from_db()
        who = {"patient": a.patient, "minutes": int((a.end - a.start).total_seconds() // 60), "exclude": a.pk}
        return _detail(request, a, form, _free(form, a.location, start, **who), status=400)
    messages.success(request, f"Moved to {moved.start.astimezone(tz):%a %d %b %H:%M}.")
    return redirect(_calendar_url(moved.location, moved.start.astimezone(tz).date()))


@login_required
@require_POST
def appointment_cancel_page(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.SCHEDULE_MANAGE)
    a = _appointment(request, external_id)
    try:
        appointment_cancel(
            user=request.user,
            appointment=a,
            reason=request.POST.get("reason", ""),
            cancelled_by=request.POST.get("cancelled_by") or "patient",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("scheduling:appointment", external_id=a.external_id)
    messages.success(request, f"Cancelled the {a.type.name.lower()} of {a.patient.display_name}.")
    return redirect(_calendar_url(a.location, a.start.astimezone(ZoneInfo(a.location.timezone)).date()))


def _chosen(request: AuthedRequest, location: Location) -> list[tuple[PlannedInfusion, Chair, datetime]]:
    """The ticked proposals: slot, chair and start, each found at ``location`` (others are ignored)."""
    keys = [k.split("|") for k in request.POST.getlist("take") if k.count("|") == 2]
    slots = {
        str(s.external_id): s
        for s in PlannedInfusion.objects.filter(
            location=location, external_id__in=[k[0] for k in keys if len(k[0]) == 36]
        ).select_related("plan__patient")
    }
    chairs = {
        str(c.external_id): c
        for c in Chair.objects.filter(
            location=location, external_id__in=[k[1] for k in keys if len(k[1]) == 36]
        )
    }
    out = []
    for slot_id, chair_id, when in keys:
        start = _slot(when, location)
        if slot_id in slots and chair_id in chairs and start is not None:
            out.append((slots[slot_id], chairs[chair_id], start))
    return out


@login_required
@require_http_methods(["GET", "POST"])
def fill(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.SCHEDULE_MANAGE)
    data = request.POST if request.method == "POST" else request.GET
    location = _location(request, data.get("location", ""))
    monday = _monday(data.get("week", ""), location)
    tz = ZoneInfo(location.timezone)
    context: dict[str, object] = {"location": location, "monday": monday}
    if request.method == "POST":
        chosen = _chosen(request, location)
        if not chosen:
            messages.error(request, NOTHING_CHOSEN)
            return redirect(
                f"{reverse('scheduling:fill')}?location={location.code}&week={monday.isoformat()}"
            )
        results = placement_accept(user=request.user, chosen=chosen)
        audit_list([r.slot.plan.patient for r in results], f"fill the chairs {location.code}")
        context["results"] = results
        context["booked"] = sum(1 for r in results if r.appointment is not None)
    else:
        try:
            proposal = week_proposal(user=request.user, location=location, monday=monday, now=timezone.now())
        except DomainError as exc:  # the week cannot be read as the solver needs it (overlapping hours)
            context["problem"] = exc.message
            with timezone.override(tz):
                return render(request, "scheduling/fill.html", context, status=400)
        audit_list(
            [*(p.patient for p in proposal.proposals), *(n.patient for n in proposal.not_placed)],
            f"fill the chairs {location.code} {monday.isoformat()}",
        )
        context["proposal"] = proposal
    with timezone.override(tz):
        return render(request, "scheduling/fill.html", context)


def _series_page(request: AuthedRequest, plan: TreatmentPlan, status: int = 200) -> HttpResponse:
    pending = selectors.plan_pending_slots(plan, timezone.now())
    places = {slot.location for slot in pending} or {plan.patient.location}
    staff = selectors.series_staff(places, home=any(slot.at_home for slot in pending), slots=pending)
    tz = ZoneInfo(plan.patient.location.timezone)
    with timezone.override(tz):
        return render(
            request,
            "scheduling/series.html",
            {
                "plan": plan,
                "patient": plan.patient,
                "pending": pending,
                "pending_starts": [slot.scheduled_start for slot in pending],
                "staff": staff,
                "tz": tz,
            },
            status=status,
        )


@login_required
@require_http_methods(["GET", "POST"])
def series(request: AuthedRequest, external_id: str) -> HttpResponse:
    """A signed plan's slots still ahead and not booked, booked as appointments in one go (all or none)."""
    require(request.user, Permission.SCHEDULE_MANAGE)
    plan = TreatmentPlan.objects.select_related("patient__location").filter(external_id=external_id).first()
    if plan is None:
        raise Http404("No such plan.")
    patient_for(request.user, plan.patient, Permission.SCHEDULE_MANAGE)
    if request.method == "GET":
        audit_read(plan.patient, "plan's series to book")
        return _series_page(request, plan)
    chosen = selectors.location_staff_member(request.POST.get("staff", ""), user=request.user)
    if chosen is None:
        messages.error(request, SERIES_STAFF_MISSING)
        return _series_page(request, plan, status=400)
    try:
        booked = plan_series_book(user=request.user, plan=plan, staff=chosen)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _series_page(request, plan, status=400)
    tz = ZoneInfo(plan.patient.location.timezone)
    messages.success(
        request,
        f"Booked {len(booked)} infusion{'' if len(booked) == 1 else 's'} for {plan.patient.display_name} "
        f"with {chosen}, the first on "
        f"{booked[0].start.astimezone(tz):%a %d %b %H:%M}.",
    )
    return redirect(_calendar_url(booked[0].location, booked[0].start.astimezone(tz).date()))


SERIES_STAFF_MISSING = "Choose who gives the infusions (a member of staff at the plan's location)."
