"""The clinic's outcomes pages: the outcomes dashboard (and its CSV export) and the questionnaires worklist
with "Send link now". A patient's outcomes pages are ``outcomes.views``."""

from __future__ import annotations

import csv
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import Location
from ketaclinic.accounts.permissions import require, user_location_ids
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_list, audit_record
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.core.indications import INDICATION_CHOICES
from ketaclinic.outcomes import selectors, services
from ketaclinic.outcomes.forms import DashboardForm, DueLinkForm
from ketaclinic.outcomes.models import LinkDispatch
from ketaclinic.outcomes.views import _patient, link_shown


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
    page = request.GET.get("page", "1")
    data = selectors.questionnaire_worklist(
        user=request.user, location=location, page=int(page) if page.isdigit() else 1
    )
    audit_list(dict.fromkeys(r.patient for r in data.rows), f"questionnaires due at {location.code}")
    return render(
        request,
        "outcomes/worklist.html",
        {
            "w": data,
            "location": location,
            "locations": mine,
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
            sent = services.due_link_email(
                user=request.user,
                patient=patient,
                instrument=d["instrument"],
                timepoint=d["timepoint"],
                infusion_number=d["infusion_number"],
                due_on=d["due_on"],
                base_url=base_url,
            )
            messages.success(
                request,
                f"Link queued by email to {patient.display_name} ({sent.to_masked}); "
                "the worklist shows when it is sent.",
            )
        else:
            link, token = services.link_create(
                user=request.user,
                patient=patient,
                instrument=d["instrument"],
                timepoint=d["timepoint"],
                infusion_number=d["infusion_number"],
            )
            return link_shown(
                request, patient, link, token, back=back, back_words="Back to the questionnaire worklist"
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(back)
