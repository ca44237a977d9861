"""Pages: a patient's outcomes (trajectories, due questionnaires and their status, answers, flags, boosters),
staff entry and correction, patient links (the public form), flag assessment, booster decisions. The
clinic's pages (the outcomes dashboard, the questionnaires worklist) are ``outcomes.clinic_views``."""

from __future__ import annotations

import re
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
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.anonymous import anonymous_limited
from ketaclinic.audit.services import audit_read
from ketaclinic.base.time_zones import activate_for
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.core.instruments import Instrument, get_instrument, shipped_instruments
from ketaclinic.core.outcomes import DueItem, DueStatus
from ketaclinic.messaging.models import OutboundMessage
from ketaclinic.messaging.selectors import contact_preference_get, messages_for_patient
from ketaclinic.outcomes import emails, selectors, services
from ketaclinic.outcomes.charts import trajectory_svg_cached
from ketaclinic.outcomes.forms import AnswersForm, AssessForm, BoosterForm, CorrectionForm, LinkForm
from ketaclinic.outcomes.models import BoosterProposal, PatientLink, QuestionnaireResponse, SafetyFlag
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get
from ketaclinic.patients.views import form_error

LINK_FORM_INVALID = "Choose a questionnaire, how to send it, and how many hours the link lasts (1 to 168)."
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
    preference = contact_preference_get(patient)
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
            "sent_messages": messages_for_patient(
                patient, purpose=OutboundMessage.Purpose.QUESTIONNAIRE_LINK
            ),
            "can_resend": request.user.can(Permission.PATIENT_REGISTER),
            "contact_preference": preference,
            "sms_ok": bool(patient.phone) and not preference.sms_opted_out,
            "email_ok": bool(patient.email) and not preference.email_opted_out,
            "back": request.get_full_path(),
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
    return HttpResponse(trajectory_svg_cached(trajectory), content_type="image/svg+xml")


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
    """A one-time link: sent by text message or email through the outbox, or shown once to hand out."""
    patient = _patient(request, external_id, Permission.QUESTIONNAIRE_RECORD)
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, LINK_FORM_INVALID)
        return redirect("outcomes:patient", external_id=patient.external_id)
    how = form.cleaned_data.pop("how")
    try:
        if how == "show":
            link, token = services.link_create(user=request.user, patient=patient, **form.cleaned_data)
            return link_shown(
                request,
                patient,
                link,
                token,
                back=reverse("outcomes:patient", args=[patient.external_id]),
                back_words="Back to questionnaires and outcomes",
            )
        else:
            sent = services.link_send(
                user=request.user,
                patient=patient,
                channel=how,
                base_url=settings.KETACLINIC_BASE_URL or request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
            messages.success(
                request,
                f"The link is queued by {sent.get_channel_display().lower()} to {sent.to_masked}; "
                "its status shows below.",
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("outcomes:patient", external_id=patient.external_id)


def link_shown(
    request: AuthedRequest, patient: Patient, link: PatientLink, token: str, *, back: str, back_words: str
) -> HttpResponse:
    """The one-time link, shown once in the answer to the form that made it: never kept in the session or
    anywhere else, so no other request (a picture still loading, another tab) can lose or reveal it."""
    return render(  # never cached: SecurityHeadersMiddleware marks every page no-store
        request,
        "outcomes/link_shown.html",
        {
            "patient": patient,
            "link": link,
            "instrument_name": shipped_instruments()[link.instrument].name,
            "url": request.build_absolute_uri(reverse("questionnaire_answer", args=[token])),
            "back": back,
            "back_words": back_words,
        },
    )


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
