"""Calendar feed pages: the feed itself (no account, the link's token), a member of staff's own link (make a
new one, stop it), and a patient's link, made or stopped by the desk from the chart. A new link is shown
once, on the page that made it (never in an address, so it is not in the server's logs)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.anonymous import anonymous_limited
from ketaclinic.core.access import Permission
from ketaclinic.patients import selectors as patient_selectors
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import feeds

FEED_UNKNOWN = "No such calendar feed: the link is wrong or was stopped."


@never_cache
@require_GET
@anonymous_limited("calendar-feed", what="calendar feeds")
def feed(request: HttpRequest, token: str) -> HttpResponse:
    found = feeds.feed_by_token(token)
    if found is None:
        raise Http404(FEED_UNKNOWN)
    response = HttpResponse(feeds.feed_ics(found), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    return response


def _link(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("calendar_feed", args=[token]))


@login_required
@require_http_methods(["GET", "POST"])
def my_feed(request: AuthedRequest) -> HttpResponse:
    """A member of staff's own feed: their booked appointments, no patient named."""
    link = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            feeds.feed_revoke(actor=request.user, user=request.user)
        else:
            link = _link(request, feeds.feed_create(actor=request.user, user=request.user))
    return render(
        request,
        "scheduling/feed_mine.html",
        {"live": feeds.feed_live(user=request.user), "link": link},
    )


@login_required
@require_POST
def patient_feed(request: AuthedRequest, external_id: str) -> HttpResponse:
    """The desk makes (or stops) a patient's feed link from the chart."""
    require(request.user, Permission.PATIENT_REGISTER)
    try:
        patient = patient_selectors.patient_get(
            user=request.user, external_id=external_id, permission=Permission.PATIENT_VIEW
        )
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None
    patient = get_object_or_404(Patient.objects.select_related("location"), pk=patient.pk)
    link = ""
    if request.POST.get("action") == "revoke":
        feeds.feed_revoke(actor=request.user, patient=patient)
    else:
        link = _link(request, feeds.feed_create(actor=request.user, patient=patient))
    return render(
        request,
        "scheduling/feed_patient.html",
        {"patient": patient, "live": feeds.feed_live(patient=patient), "link": link},
    )
