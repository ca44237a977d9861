"""The session's records and the day board: the note (generate, sign, addendum), printables (discharge
instructions, MAR, as pages and PDFs), a patient's sessions, and the board with its check-in. The live
session page is ``infusions.views``, its actions ``infusions.action_views``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Location
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.services import audit_list, audit_read
from ketaclinic.base.pdf import pdf_filename, pdf_response, pdf_response_reused
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions import forms as f
from ketaclinic.infusions import selectors, services
from ketaclinic.infusions.models import InfusionSession, SessionNote
from ketaclinic.infusions.views import LOCATION_UNKNOWN, STATES, _patient, _session, _zone
from ketaclinic.plans.models import PlannedInfusion

# --- the note -------------------------------------------------------------------------------------------


def _note_page(
    request: AuthedRequest,
    session: InfusionSession,
    *,
    status: int = 200,
    error: str = "",
    changed: bool = False,
    addendum_form: f.AddendumForm | None = None,
) -> HttpResponse:
    with timezone.override(_zone(session)):
        note = SessionNote.objects.filter(session=session).select_related("signed_by").first()
        audit_read(session.patient, "session note")
        return render(
            request,
            "infusions/note.html",
            {
                "session": session,
                "note": note,
                "addenda": list(note.addenda.select_related("created_by")) if note else [],
                "version_form": f.VersionForm(initial={"expected_version": session.version}),
                "addendum_form": addendum_form or f.AddendumForm(),
                "error": error,
                "changed": changed,
                "can_run": request.user.can(Permission.SESSION_RUN),
                "can_sign": request.user.can(Permission.NOTE_SIGN),
                "discharged": session.state == SessionState.DISCHARGED,
                "rems": selectors.rems_form_state(session),
            },
            status=status,
        )


@login_required
@require_GET
def note_page(request: AuthedRequest, external_id: str) -> HttpResponse:
    return _note_page(request, _session(request, external_id))


def _note_action(
    request: AuthedRequest,
    external_id: str,
    permission: Permission,
    run: Callable[[InfusionSession, int], Any],
    done: str,
) -> HttpResponse:
    require(request.user, permission)
    session = _session(request, external_id, permission)
    form = f.VersionForm(request.POST)
    if not form.is_valid():
        return _note_page(request, session, status=400, error="The page was incomplete; reload it.")
    try:
        run(session, form.cleaned_data["expected_version"])
    except services.ChangedMeanwhile as exc:
        return _note_page(
            request, _session(request, external_id), status=409, error=exc.message, changed=True
        )
    except DomainError as exc:
        return _note_page(request, _session(request, external_id), status=400, error=exc.message)
    messages.success(request, done)
    return redirect("infusions:note", external_id=session.external_id)


@login_required
@require_POST
def note_generate(request: AuthedRequest, external_id: str) -> HttpResponse:
    return _note_action(
        request,
        external_id,
        Permission.SESSION_RUN,
        lambda s, v: services.note_generate(user=request.user, session=s, expected_version=v),
        "Note generated from the session's record.",
    )


@login_required
@require_POST
def note_sign(request: AuthedRequest, external_id: str) -> HttpResponse:
    return _note_action(
        request,
        external_id,
        Permission.NOTE_SIGN,
        lambda s, v: services.note_sign(user=request.user, session=s, expected_version=v),
        "Note signed; it is locked. Corrections are addenda.",
    )


@login_required
@require_POST
def note_addendum(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.NOTE_SIGN)
    session = _session(request, external_id, Permission.NOTE_SIGN)
    form = f.AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.note_addendum_add(
                user=request.user,
                session=session,
                text=form.cleaned_data["text"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            return _note_page(request, session, status=400, error=exc.message, addendum_form=form)
        messages.success(request, "Addendum added.")
        return redirect("infusions:note", external_id=session.external_id)
    return _note_page(
        request, session, status=400, error="An addendum needs its text and why.", addendum_form=form
    )


# --- printables -----------------------------------------------------------------------------------------


def _printable(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    as_pdf: bool,
    filename: str,
    reused_but_for: str = "",
) -> HttpResponse:
    """The page, or its PDF laid out from the same template (ketaclinic.base.pdf); with ``reused_but_for``
    (the context's print time) an unchanged PDF is laid out once and served again from the cache."""
    if as_pdf and reused_but_for:
        return pdf_response_reused(request, template, context, filename=filename, stamp=reused_but_for)
    if as_pdf:
        return pdf_response(request, template, context, filename=filename)
    return render(request, template, context)


@login_required
@require_GET
def discharge_instructions(request: AuthedRequest, external_id: str, as_pdf: bool = False) -> HttpResponse:
    session = _session(request, external_id)
    audit_read(session.patient, "discharge instructions (PDF)" if as_pdf else "discharge instructions")
    doc = session.protocol_version.parsed
    assessment = session.discharge_assessments.order_by("-assessed_at", "-id").first()
    with timezone.override(_zone(session)):
        return _printable(
            request,
            "infusions/instructions.html",
            {
                "session": session,
                "protocol_instructions": doc.discharge.instructions if doc.discharge else "",
                "escort": assessment.escort_name if assessment and assessment.escort_present else "",
                "printed_at": timezone.now(),
                "next_visit": next_appointment_words(session),
            },
            as_pdf=as_pdf,
            filename=pdf_filename(
                "discharge-instructions",
                session.patient.mrn,
                timezone.localdate(session.scheduled_start).isoformat(),
            ),
        )


def next_appointment_words(session: InfusionSession) -> dict[str, str] | None:
    """The patient's next booked appointment after this session (one query through the patient's bookings,
    whose app sits above this one): its kind, day and time on its location's wall clock, and its place."""
    upcoming = (
        session.patient.appointments.filter(
            status="booked", start__gt=max(session.scheduled_start, timezone.now())
        )
        .select_related("type", "location")
        .order_by("start", "pk")
        .first()
    )
    if upcoming is None:
        return None
    location = upcoming.location
    local = upcoming.start.astimezone(ZoneInfo(location.timezone))
    place = (
        "At your home"
        if upcoming.at_home
        else ", ".join(p for p in (location.name, location.address, location.city) if p)
    )
    when = f"{local:%A, %B} {local.day}, {local.year} at {local:%I:%M %p}".replace(" at 0", " at ")
    return {"kind": upcoming.type.name, "when": when, "place": place}


@login_required
@require_GET
def session_mar(request: AuthedRequest, external_id: str, as_pdf: bool = False) -> HttpResponse:
    session = _session(request, external_id, Permission.MAR_VIEW)
    entries = selectors.mar_for_session(user=request.user, session=session)
    audit_read(
        session.patient,
        "medication administration record (session, PDF)"
        if as_pdf
        else "medication administration record (session)",
    )
    with timezone.override(_zone(session)):
        return _printable(
            request,
            "infusions/mar.html",
            {
                "patient": session.patient,
                "session": session,
                "entries": entries,
                "printed_at": timezone.now(),
            },
            as_pdf=as_pdf,
            filename=pdf_filename(
                "mar", session.patient.mrn, timezone.localdate(session.scheduled_start).isoformat()
            ),
            reused_but_for="printed_at",  # a new entry, rate or stop changes the page: a fresh PDF
        )


@login_required
@require_GET
def patient_mar(request: AuthedRequest, external_id: str, as_pdf: bool = False) -> HttpResponse:
    patient = _patient(request, external_id, Permission.MAR_VIEW)
    entries = selectors.mar_for_patient(user=request.user, patient=patient)
    audit_read(
        patient, "medication administration record (PDF)" if as_pdf else "medication administration record"
    )
    with timezone.override(ZoneInfo(patient.location.timezone)):
        return _printable(
            request,
            "infusions/mar.html",
            {
                "patient": patient,
                "session": None,
                "entries": entries,
                "printed_at": timezone.now(),
            },
            as_pdf=as_pdf,
            filename=pdf_filename("mar", patient.mrn, "all-sessions"),
            reused_but_for="printed_at",  # a new entry, rate or stop changes the page: a fresh PDF
        )


@login_required
@require_GET
def patient_sessions(request: AuthedRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id, Permission.SESSION_VIEW)
    sessions = list(selectors.sessions_for_patient(user=request.user, patient=patient))
    audit_read(patient, "infusion sessions")
    with timezone.override(ZoneInfo(patient.location.timezone)):
        return render(
            request,
            "infusions/patient_sessions.html",
            {"patient": patient, "sessions": sessions, "can_mar": request.user.can(Permission.MAR_VIEW)},
        )


# --- the day board --------------------------------------------------------------------------------------


@login_required
@require_GET
def board(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.BOARD_VIEW)
    polled = bool(request.headers.get("HX-Request"))
    code = request.GET.get("location", "")
    mine: list[Location] = []
    if not polled or not code:  # the whole page offers the user's locations; a poll names its own
        mine = list(Location.objects.filter(pk__in=user_location_ids(request.user)).order_by("name"))
        code = code or (mine[0].code if mine else "")
    location = Location.objects.filter(code=code).first()
    if location is None:
        raise Http404(LOCATION_UNKNOWN.format(value=code))
    day: date | None = None
    if request.GET.get("date"):
        try:
            day = date.fromisoformat(request.GET["date"])
        except ValueError:
            raise Http404("The date must look like 2026-11-25.") from None
    b = selectors.day_board(user=request.user, location=location, day=day)
    audit_list(b.patients, f"day board {location.code}")
    template = "infusions/_board.html" if polled else "infusions/board.html"
    with timezone.override(ZoneInfo(location.timezone)):
        return render(
            request,
            template,
            {
                "board": b,
                "locations": mine,
                "location": location,
                "can_view": request.user.can(Permission.SESSION_VIEW),
                "can_flags": request.user.can(Permission.SAFETY_ASSESS),  # whose flag: only for assessors
                "S": STATES,
            },
        )


def _board_back(request: AuthedRequest, planned: PlannedInfusion) -> str:
    """Where "Check in" on a slot returns to: the board the user pressed it on (the referring page, when it is
    this site's board), else the slot's board if the user works there, else the user's own board. Never a
    board the user may not see (that would hide the message saying why the check-in was refused behind a
    403)."""
    board_path = reverse("infusions:board")
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        code = parse_qs(parts.query).get("location", [""])[0]
        if parts.path == board_path and (
            not code or Location.objects.filter(code=code, pk__in=user_location_ids(request.user)).exists()
        ):
            return f"{parts.path}?{parts.query}" if parts.query else parts.path
    if planned.location_id in user_location_ids(request.user):
        return f"{board_path}?location={planned.location.code}"
    return board_path  # the board of the user's (first) location


@login_required
@require_POST
def slot_check_in(request: AuthedRequest, external_id: str) -> HttpResponse:
    """ "Check in" on a planned slot of the board: open the session from it and check the patient in, then the
    live page (the board, with the message, for the front desk); a refusal goes back to the board, saying
    why."""
    require(request.user, Permission.SCHEDULE_MANAGE)
    planned = (
        PlannedInfusion.objects.select_related("plan", "plan__patient", "location")
        .filter(external_id=external_id)
        .first()
    )
    if planned is None:
        raise Http404("No such planned infusion.")
    back = _board_back(request, planned)
    try:
        session = services.session_check_in_planned(user=request.user, planned_infusion=planned)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    number = selectors.infusion_number(planned)
    done = f"{planned.plan.patient.display_name} checked in for " + (
        "a booster." if number == "booster" else f"infusion {number}."
    )
    messages.success(request, done)
    if not request.user.can(Permission.SESSION_VIEW):
        return redirect(back)
    return redirect("infusions:session", external_id=session.external_id)
