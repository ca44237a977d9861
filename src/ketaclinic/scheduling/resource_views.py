"""The clinic administrator's pages for a location's resources: chairs and rooms, opening hours and closures
on one page; the staff shifts of a week on another; staff skills posted from the staff record page. Thin:
parse a form, call a service in ``services.resources``, show its refusal in the form or the page's message."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Chair, Location, User
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.scheduling import resource_selectors as selectors
from ketaclinic.scheduling.models import WEEKDAY_CHOICES, Closure, OpeningHours, Room, StaffShift
from ketaclinic.scheduling.services import resources as services

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PlaceForm(forms.Form):
    kind = forms.ChoiceField(choices=[("chair", "Chair"), ("room", "Room")])
    name = forms.CharField(max_length=60)


class HoursForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=WEEKDAY_CHOICES, coerce=int)
    opens = forms.TimeField(widget=TIME)
    closes = forms.TimeField(widget=TIME)


class ClosureForm(forms.Form):
    first_day = forms.DateField(label="First day closed", widget=DATE)
    last_day = forms.DateField(label="Last day closed", widget=DATE)
    reason = forms.CharField(max_length=120, help_text="e.g. Thanksgiving, staff training day")


class ShiftForm(forms.Form):
    staff = forms.ChoiceField(label="Member of staff")
    day = forms.DateField(widget=DATE)
    starts = forms.TimeField(widget=TIME)
    ends = forms.TimeField(widget=TIME)

    def __init__(self, *args: object, members: list[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["staff"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(m.external_id), str(m)) for m in members]


def _location(request: AuthedRequest, code: str) -> Location:
    require(request.user, Permission.STAFF_MANAGE)
    try:
        return selectors.managed_location(user=request.user, code=code)
    except Location.DoesNotExist:
        raise Http404("No such location among yours.") from None


def _error(request: AuthedRequest, form: forms.Form | None, exc: DomainError) -> None:
    if form is not None:  # a rule about the whole form (what it would strand) sits above its fields
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    else:
        messages.error(request, exc.message)


def _time(text: str) -> time | None:
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise Http404("No such record.") from None


@never_cache
@login_required
@require_http_methods(["GET"])
def resources_index(request: AuthedRequest) -> HttpResponse:
    """Clinic admins: their locations, each linking to its resources and its shifts."""
    require(request.user, Permission.STAFF_MANAGE)
    return render(
        request, "scheduling/resources/index.html", {"locations": selectors.managed_locations(request.user)}
    )


def _place(location: Location, request: AuthedRequest) -> Chair | Room:
    kind = Chair if request.POST.get("kind") == "chair" else Room
    place = kind.objects.filter(location=location, external_id=_uuid(request.POST.get("place", ""))).first()
    if place is None:
        raise Http404("No such chair or room here.")
    return place


def _act(
    request: AuthedRequest,
    location: Location,
    place_form: PlaceForm,
    hours_form: HoursForm,
    closure_form: ClosureForm,
) -> str | None:
    """Run the posted action; the message on success, ``None`` when a form has errors."""
    action, user = request.POST.get("action", ""), request.user
    if action == "place_add":
        if not place_form.is_valid():
            return None
        kind = Chair if place_form.cleaned_data["kind"] == "chair" else Room
        place = services.place_add(
            user=user, location=location, kind=kind, name=place_form.cleaned_data["name"]
        )
        return f"{place.name} added."
    if action == "place_rename":
        place = services.place_rename(
            user=user, place=_place(location, request), name=request.POST.get("name", "")
        )
        return f"Renamed to {place.name}."
    if action in ("place_deactivate", "place_activate"):
        active = action == "place_activate"
        place = services.place_active_set(user=user, place=_place(location, request), active=active)
        return f"{place.name} {'back in service' if active else 'out of service'}."
    if action == "hours_add":
        if not hours_form.is_valid():
            return None
        services.hours_add(user=user, location=location, **hours_form.cleaned_data)
        return "Opening hours added."
    if action == "hours_remove":
        weekday, _, opens = request.POST.get("hours", "").partition("@")  # "0@08:00": Monday from 08:00
        hours = OpeningHours.objects.filter(
            location=location, weekday=int(weekday) if weekday.isdigit() else -1, opens=_time(opens)
        ).first()
        if hours is None:
            raise Http404("No such opening hours.")
        services.hours_remove(user=user, hours=hours)
        return "Opening hours removed."
    if action == "closure_add":
        if not closure_form.is_valid():
            return None
        services.closure_add(user=user, location=location, **closure_form.cleaned_data)
        return "Closure added."
    if action == "closure_remove":
        closure = Closure.objects.filter(
            location=location, external_id=_uuid(request.POST.get("closure", ""))
        ).first()
        if closure is None:
            raise Http404("No such closure.")
        services.closure_remove(user=user, closure=closure)
        return "Closure removed: the location is open those days again."
    raise Http404("Unknown action.")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def location_resources(request: AuthedRequest, code: str) -> HttpResponse:
    """Clinic admins: one location's chairs and rooms, opening hours and closures."""
    location = _location(request, code)
    posted = request.POST.get("action", "")
    place_form = PlaceForm(request.POST if posted == "place_add" else None)
    hours_form = HoursForm(request.POST if posted == "hours_add" else None)
    closure_form = ClosureForm(request.POST if posted == "closure_add" else None)
    forms_by_action = {"place_add": place_form, "hours_add": hours_form, "closure_add": closure_form}
    refused = False
    if request.method == "POST":
        try:
            done = _act(request, location, place_form, hours_form, closure_form)
        except DomainError as exc:
            _error(request, forms_by_action.get(posted), exc)
            refused = True
        else:
            if done is not None:
                messages.success(request, done)
                return redirect("scheduling:location_resources", code=location.code)
    page = selectors.location_resources(
        location, today=timezone.now().astimezone(ZoneInfo(location.timezone)).date()
    )
    bad = refused or any(f.errors for f in (place_form, hours_form, closure_form))
    return render(
        request,
        "scheduling/resources/location.html",
        {
            "page": page,
            "location": location,
            "place_form": place_form,
            "hours_form": hours_form,
            "closure_form": closure_form,
        },
        status=400 if bad else 200,
    )


def _week(request: AuthedRequest, location: Location) -> date:
    today = timezone.now().astimezone(ZoneInfo(location.timezone)).date()
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = today
    return day - timedelta(days=day.weekday())


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def location_shifts(request: AuthedRequest, code: str) -> HttpResponse:
    """Clinic admins: a week of a location's staff shifts (Monday to Sunday); add or remove a shift."""
    location = _location(request, code)
    monday = _week(request, location)
    members = selectors.location_staff(location)
    posted = request.POST.get("action", "")
    form = ShiftForm(request.POST if posted == "shift_add" else None, members=members)
    refused = False
    if request.method == "POST":
        try:
            done = _shift_act(request, location, form, members)
        except DomainError as exc:
            _error(request, form if posted == "shift_add" else None, exc)
            refused = True
        else:
            if done is not None:
                messages.success(request, done)
                return redirect(f"{request.path}?week={monday.isoformat()}")
    week = selectors.shift_week(location, monday)
    return render(
        request,
        "scheduling/resources/shifts.html",
        {
            "location": location,
            "week": week,
            "form": form,
            "previous": (monday - timedelta(days=7)).isoformat(),
            "next": (monday + timedelta(days=7)).isoformat(),
        },
        status=400 if refused or form.errors else 200,
    )


def _shift_act(
    request: AuthedRequest, location: Location, form: ShiftForm, members: list[User]
) -> str | None:
    action = request.POST.get("action", "")
    if action == "shift_add":
        if not form.is_valid():
            return None
        data = form.cleaned_data
        member = next(m for m in members if str(m.external_id) == data["staff"])
        tz = ZoneInfo(location.timezone)
        start = datetime.combine(data["day"], data["starts"], tzinfo=tz)
        end = datetime.combine(data["day"], data["ends"], tzinfo=tz)
        services.shift_add(user=request.user, member=member, location=location, start=start, end=end)
        return f"Shift added for {member}."
    if action == "shift_remove":
        shift = (
            StaffShift.objects.filter(location=location, external_id=_uuid(request.POST.get("shift", "")))
            .select_related("user", "location")
            .first()
        )
        if shift is None:
            raise Http404("No such shift.")
        services.shift_remove(user=request.user, shift=shift)
        return f"Shift removed for {shift.user}."
    raise Http404("Unknown action.")


@never_cache
@login_required
@require_POST
def staff_skills(request: AuthedRequest, external_id: uuid.UUID) -> HttpResponse:
    """Clinic admins, from the staff record page: what the member of staff does for the front desk."""
    require(request.user, Permission.STAFF_MANAGE)
    member = User.objects.filter(external_id=external_id).first()
    if member is None:
        raise Http404("No such staff account.")
    flags = {name: request.POST.get(name) == "on" for name in services.SKILL_FIELDS}
    try:
        services.staff_skills_set(user=request.user, member=member, **flags)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Skills saved.")
    return redirect("accounts:staff_edit", external_id=member.external_id)
