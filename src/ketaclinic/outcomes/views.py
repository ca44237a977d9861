"""Pages: a patient's outcomes (trajectories, due questionnaires and their status, answers, flags, boosters),
staff entry and correction, patient links (the public form), the questionnaires worklist with "Send link
now", flag assessment, booster decisions, the clinic outcomes dashboard."""

from __future__ import annotations

import csv
import re
from datetime import timedelta
from itertools import groupby
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Location
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.anonymous import anonymous_limited
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_list, audit_read, audit_record
from ketaclinic.base.time_zones import activate_for
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.core.indications import INDICATION_CHOICES
from ketaclinic.core.instruments import Instrument, get_instrument, shipped_instruments
from ketaclinic.core.outcomes import DueItem, DueStatus
from ketaclinic.outcomes import emails, selectors, services
from ketaclinic.outcomes.charts import trajectory_svg
from ketaclinic.outcomes.forms import (
    AnswersForm,
    AssessForm,
    BoosterForm,
    CorrectionForm,
    DashboardForm,
    DueLinkForm,
    LinkForm,
)
from ketaclinic.outcomes.models import (
    BoosterProposal,
    LinkDispatch,
    PatientLink,
    QuestionnaireResponse,
    SafetyFlag,
)
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get
from ketaclinic.patients.views import form_error

CHART_INSTRUMENTS = ("phq9", "gad7", "pcl5", "pain_nrs")


def _patient(request: AuthedRequest, external_id: str, permission: Permission) -> Patient:
    """The patient, and this request's times in the time zone of the location that cares for them."""
    try:
        patient = patient_get(user=request.user, external_id=str(external_id), permission=permission)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None
    activate_for(patient.location)
    return patient


def _instrument_or_404(instrument_id: str) -> Instrument:
    if instrument_id not in shipped_instruments():
        raise Http404("No such questionnaire.")
    return get_instrument(instrument_id)


def short_name(instrument_id: str) -> str:
    """``Patient Health Questionnaire-9 (PHQ-9)`` -> ``PHQ-9``; the id when the name has no abbreviation."""
    try:
        name = get_instrument(instrument_id).name
    except DomainError:  # an instrument no longer shipped: show its id
        return instrument_id
    found = re.search(r"\(([A-Z][A-Z0-9-]+)\)$", name)
    return found.group(1) if found else instrument_id


def _due_groups(items: tuple[DueItem, ...]) -> list[dict[str, Any]]:
    """One row per due questionnaire, its instruments' statuses side by side."""
    groups = []
    for (q, window), members in groupby(items, key=lambda i: (i.questionnaire, i.window)):
        listed = list(members)
        groups.append(
            {
                "questionnaire": q,
                "window": window,
                "items": [(i, short_name(i.instrument)) for i in listed],
                "overdue": any(i.status is DueStatus.OVERDUE for i in listed),
            }
        )
    return groups


@login_required
@require_GET
def patient_outcomes(request: AuthedRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id, Permission.CLINICAL_VIEW)
    responses = selectors.responses_for_patient(user=request.user, patient=patient)
    present = {r.instrument for r in responses}
    trajectories = [
        selectors.trajectory_get(user=request.user, patient=patient, instrument=i)
        for i in CHART_INSTRUMENTS
        if i in present
    ]
    audit_read(patient, "questionnaires and outcomes")
    return render(
        request,
        "outcomes/patient.html",
        {
            "patient": patient,
            "responses": responses,
            "trajectories": trajectories,
            "due": _due_groups(selectors.due_status_for_patient(patient)),
            "flags": SafetyFlag.objects.filter(patient=patient)
            .select_related("assessed_by")
            .order_by("-raised_at"),
            "proposals": BoosterProposal.objects.filter(patient=patient).select_related("decided_by"),
            "links": PatientLink.objects.filter(patient=patient)[:10],
            "instruments": [
                i
                for i in shipped_instruments().values()
                if i.scoring.method == "sum" or i.id == "cssrs_screener"
            ],
            "link_instruments": [i for i in shipped_instruments().values() if i.wording == "shipped"],
            "new_link": request.session.pop("outcomes_new_link", None),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def trajectory_chart(request: AuthedRequest, external_id: str, instrument: str) -> HttpResponse:
    patient = _patient(request, external_id, Permission.CLINICAL_VIEW)
    _instrument_or_404(instrument)
    trajectory = selectors.trajectory_get(user=request.user, patient=patient, instrument=instrument)
    audit_read(patient, f"{instrument} trajectory")
    return HttpResponse(trajectory_svg(trajectory), content_type="image/svg+xml")


def _saved_message(
    request: HttpRequest, name: str, response: QuestionnaireResponse, verb: str, tail: str
) -> None:
    """The flash after answers are saved: the score, and the urgent warning when a safety flag was raised."""
    flagged = response.safety_flags.exists()
    (messages.warning if flagged else messages.success)(
        request,
        f"{name} {verb}: "
        + (f"total {response.total:g} " if response.total is not None else "")
        + f"({response.severity}){tail}"
        + (" URGENT safety flag raised: the prescriber sees it now; assess the patient." if flagged else ""),
    )


@login_required
@require_http_methods(["GET", "POST"])
def response_new(request: AuthedRequest, external_id: str, instrument: str) -> HttpResponse:
    patient = _patient(request, external_id, Permission.QUESTIONNAIRE_RECORD)
    inst = _instrument_or_404(instrument)
    form = AnswersForm(
        request.POST or None,
        instrument=inst,
        initial={
            "timepoint": request.GET.get("timepoint", "ad_hoc"),
            "infusion_number": request.GET.get("infusion_number") or None,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            response = services.response_record(
                user=request.user,
                patient=patient,
                instrument=inst.id,
                answers=form.answers(),
                timepoint=form.cleaned_data["timepoint"],
                infusion_number=form.cleaned_data["infusion_number"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            _saved_message(request, inst.name, response, "recorded", ".")
            return redirect("outcomes:patient", external_id=patient.external_id)
    return render(
        request,
        "outcomes/response_form.html",
        {"form": form, "patient": patient, "instrument": inst},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def link_new(request: AuthedRequest, external_id: str) -> HttpResponse:
    patient = _patient(request, external_id, Permission.QUESTIONNAIRE_RECORD)
    form = LinkForm(request.POST)
    if form.is_valid():
        try:
            _link, token = services.link_create(user=request.user, patient=patient, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            request.session["outcomes_new_link"] = request.build_absolute_uri(
                reverse("questionnaire_answer", args=[token])
            )
    else:
        messages.error(request, "Choose a questionnaire and how many hours the link lasts (1 to 168).")
    return redirect("outcomes:patient", external_id=patient.external_id)


_crisis_line = emails.crisis_line


@never_cache
@require_http_methods(["GET", "POST"])
@anonymous_limited("questionnaire")
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's form: no account; shows the questionnaire and the patient's first name, nothing else."""
    try:
        link = services.link_open(token)
    except DomainError as exc:
        return render(request, "outcomes/answer_refused.html", {"message": exc.message}, status=403)
    activate_for(link.patient.location)
    inst = get_instrument(link.instrument)
    form = AnswersForm(request.POST or None, instrument=inst, staff=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.link_submit(token=token, answers=form.answers(), form_link=request.POST.get("link"))
        except DomainError as exc:
            if exc.field == "link":
                return render(request, "outcomes/answer_refused.html", {"message": exc.message}, status=403)
            form_error(form, exc)
        else:
            return render(
                request,
                "outcomes/answer_done.html",
                {
                    "first_name": link.patient.preferred_name or link.patient.given_name,
                    "crisis_line": _crisis_line(link.patient.location),
                },
            )
    return render(
        request,
        "outcomes/answer.html",
        {
            "form": form,
            "instrument": inst,
            "link": link,
            "first_name": link.patient.preferred_name or link.patient.given_name,
            "crisis_line": _crisis_line(link.patient.location),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def flag_detail(request: AuthedRequest, external_id: str) -> HttpResponse:
    permission = Permission.SAFETY_ASSESS if request.method == "POST" else Permission.CLINICAL_VIEW
    require(request.user, permission)
    try:
        flag = selectors.safety_flag_get(
            user=request.user, external_id=str(external_id), permission=permission
        )
    except SafetyFlag.DoesNotExist:
        raise Http404("No such flag.") from None
    activate_for(flag.patient.location)
    form = AssessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.safety_flag_assess(user=request.user, flag=flag, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Assessment and plan recorded; the flag is closed.")
            return redirect("outcomes:patient", external_id=flag.patient.external_id)
    audit_read(flag.patient, "a safety flag")
    return render(
        request,
        "outcomes/flag.html",
        {"flag": flag, "form": form, "can_assess": request.user.can(Permission.SAFETY_ASSESS)},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def booster_decide(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.BOOSTER_DECIDE)
    try:
        proposal = selectors.booster_get(user=request.user, external_id=str(external_id))
    except BoosterProposal.DoesNotExist:
        raise Http404("No such proposal.") from None
    form = BoosterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept or decline.")
    else:
        try:
            services.booster_decide(user=request.user, proposal=proposal, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Booster {proposal.get_status_display().lower()}.")
    return redirect("outcomes:patient", external_id=proposal.patient.external_id)


def _filters(request: HttpRequest) -> tuple[DashboardForm, selectors.DashboardFilters]:
    today = timezone.localdate()
    form = DashboardForm(request.GET or None, initial={"start": today - timedelta(days=365), "end": today})
    start, end, location, indication = today - timedelta(days=365), today, None, ""
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        if form.cleaned_data["location"]:
            location = Location.objects.filter(code=form.cleaned_data["location"]).first()
        indication = form.cleaned_data["indication"] or ""
    return form, selectors.DashboardFilters(start=start, end=end, location=location, indication=indication)


@login_required
@require_GET
def dashboard(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.OUTCOMES_VIEW)
    form, filters = _filters(request)
    data = selectors.outcomes_dashboard(user=request.user, filters=filters)
    largest = max((c for _, c in data.change_histogram), default=0) or 1
    return render(
        request,
        "outcomes/dashboard.html",
        {
            "form": form,
            "d": data,
            "definitions": selectors.DEFINITIONS,
            "locations": Location.objects.order_by("name"),
            "indications": INDICATION_CHOICES,
            "histogram": [(label, c, round(c / largest * 100)) for label, c in data.change_histogram],
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_GET
def dashboard_csv(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.OUTCOMES_VIEW)
    _form, filters = _filters(request)
    data = selectors.outcomes_dashboard(user=request.user, filters=filters)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{filters.start}-{filters.end}.csv"'
    w = csv.writer(response)
    w.writerow(
        [
            "measure",
            "value",
            "unit",
            "ci95_low",
            "ci95_high",
            "interval",
            "n",
            "numerator",
            "period_start",
            "period_end",
            "location",
            "indication",
            "definition",
        ]
    )
    w.writerow(
        [
            "completed_series",
            data.completed,
            "patients",
            "",
            "",
            "",
            data.completed,
            "",
            filters.start,
            filters.end,
            filters.location.code if filters.location else "all",
            filters.indication or "all",
            selectors.DEFINITIONS["completed"],
        ]
    )
    for key, _label, est, unit in data.measures():
        w.writerow(
            [
                key,
                est.value,
                unit,
                est.low,
                est.high,
                est.method,
                est.n,
                est.numerator,
                filters.start,
                filters.end,
                filters.location.code if filters.location else "all",
                filters.indication or "all",
                selectors.DEFINITIONS[key],
            ]
        )
    audit_record(
        action=AuditEntry.Action.EXPORT,
        actor=request.user,
        summary="Exported the outcomes dashboard (CSV)",
        detail={"start": str(filters.start), "end": str(filters.end)},
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def response_correct(request: AuthedRequest, external_id: str) -> HttpResponse:
    """Correct a response: a form pre-filled with its answers and a reason; the service saves a replacement
    (the original stays, marked corrected) and raises safety flags exactly as for a new answer."""
    require(request.user, Permission.QUESTIONNAIRE_RECORD)
    try:
        original = selectors.response_get(
            user=request.user, external_id=str(external_id), permission=Permission.QUESTIONNAIRE_RECORD
        )
    except QuestionnaireResponse.DoesNotExist:
        raise Http404("No such response.") from None
    inst = _instrument_or_404(original.instrument)
    newer = QuestionnaireResponse.objects.filter(replaces=original).first()
    form = CorrectionForm(request.POST or None, instrument=inst, staff=False, initial=original.answers)
    if request.method == "POST" and newer is None and form.is_valid():
        try:
            response = services.response_correct(
                user=request.user,
                response=original,
                answers=form.answers(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            _saved_message(
                request,
                inst.name,
                response,
                "corrected",
                "; the original answers are kept, marked corrected.",
            )
            return redirect("outcomes:patient", external_id=original.patient.external_id)
    audit_read(original.patient, f"a {inst.name} response (to correct it)")
    return render(
        request,
        "outcomes/correct.html",
        {
            "form": form,
            "patient": original.patient,
            "instrument": inst,
            "original": original,
            "newer": newer,
        },
        status=400 if request.method == "POST" else 200,
    )


def _worklist_location(request: AuthedRequest) -> tuple[Location, list[Location]]:
    mine = list(Location.objects.filter(pk__in=user_location_ids(request.user)).order_by("name"))
    code = request.GET.get("location") or request.POST.get("location") or (mine[0].code if mine else "")
    location = Location.objects.filter(code=code).first()
    if location is None:
        raise Http404("No such location.")
    return location, mine


@login_required
@require_GET
def worklist(request: AuthedRequest) -> HttpResponse:
    """Questionnaires due today and overdue (while an answer still counts) at one of the user's locations."""
    require(request.user, Permission.QUESTIONNAIRE_RECORD)
    location, mine = _worklist_location(request)
    data = selectors.questionnaire_worklist(user=request.user, location=location)
    audit_list(dict.fromkeys(r.patient for r in data.rows), f"questionnaires due at {location.code}")
    return render(
        request,
        "outcomes/worklist.html",
        {
            "w": data,
            "location": location,
            "locations": mine,
            "handout": request.session.pop("outcomes_handout", None),
            "Outcome": LinkDispatch.Outcome,
        },
    )


@login_required
@require_POST
def worklist_send(request: AuthedRequest, external_id: str) -> HttpResponse:
    """ "Send link now" (email, the daily job's service) or, without an email address, a link to hand out."""
    patient = _patient(request, external_id, Permission.QUESTIONNAIRE_RECORD)
    form = DueLinkForm(request.POST)
    back = reverse("outcomes:worklist") + f"?location={request.POST.get('location', '')}"
    if not form.is_valid():
        messages.error(
            request, "That questionnaire could not be identified; reload the worklist and try again."
        )
        return redirect(back)
    d = form.cleaned_data
    try:
        if d["how"] == "email":
            base_url = settings.KETACLINIC_BASE_URL or request.build_absolute_uri("/")
            dispatch = services.due_link_email(
                user=request.user,
                patient=patient,
                instrument=d["instrument"],
                timepoint=d["timepoint"],
                infusion_number=d["infusion_number"],
                due_on=d["due_on"],
                base_url=base_url,
            )
            if dispatch.outcome == LinkDispatch.Outcome.SENT:
                messages.success(request, f"Link emailed to {patient.display_name} ({dispatch.to_masked}).")
            else:
                messages.error(
                    request,
                    f"Emailing {patient.display_name} failed: {dispatch.error}. Nothing was sent; "
                    "try again, or hand out a link.",
                )
        else:
            _link, token = services.link_create(
                user=request.user,
                patient=patient,
                instrument=d["instrument"],
                timepoint=d["timepoint"],
                infusion_number=d["infusion_number"],
            )
            request.session["outcomes_handout"] = {
                "patient": patient.display_name,
                "url": request.build_absolute_uri(reverse("questionnaire_answer", args=[token])),
            }
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(back)
