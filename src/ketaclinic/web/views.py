"""The dashboard for each role, and the error pages (403 offers break-glass when it applies)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.models import BreakGlassAccess
from ketaclinic.accounts.selectors import break_glass_queue
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_denied, audit_list
from ketaclinic.core.access import Permission
from ketaclinic.infusions.selectors import PrescriberWorklist, prescriber_worklist
from ketaclinic.outcomes.models import BoosterProposal, SafetyFlag
from ketaclinic.outcomes.selectors import booster_proposals_open_for, safety_flags_open_for
from ketaclinic.patients.access import OUTSIDE_LOCATIONS, OutsideLocations, patients_visible_to
from ketaclinic.screening.models import Referral, Screening
from ketaclinic.screening.selectors import referrals_open, screenings_awaiting_signature


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    user = request.user
    ctx: dict[str, object] = {"locations": list(user.locations.all())}
    awaiting: list[Screening] = []
    referrals: list[Referral] = []
    flags: list[SafetyFlag] = []
    boosters: list[BoosterProposal] = []
    break_glass: list[BreakGlassAccess] = []
    worklist: PrescriberWorklist | None = None
    if user.can(Permission.PATIENT_VIEW):
        ctx["patient_count"] = patients_visible_to(user).count()
    if user.can(Permission.SCREENING_SIGN):
        ctx["awaiting_signature"] = awaiting = list(screenings_awaiting_signature(user=user)[:20])
    if user.can(Permission.CLINICAL_VIEW):
        ctx["open_referrals"] = referrals = list(referrals_open(user=user)[:20])
    if user.can(Permission.SAFETY_ASSESS):  # urgent: shown first, at once, until assessed with a plan
        ctx["safety_flags"] = flags = safety_flags_open_for(user=user)
    if user.can(Permission.BOOSTER_DECIDE):
        ctx["booster_proposals"] = boosters = booster_proposals_open_for(user=user)
    if user.can(Permission.BREAK_GLASS_REVIEW):
        ctx["break_glass_queue"] = break_glass = list(break_glass_queue(user=user)[:20])
    if user.can(Permission.ORDER_SIGN):  # orders to sign, verbal titrations to co-sign, notes to sign
        ctx["worklist"] = worklist = prescriber_worklist(user=user)
    shown = [
        *(s.patient for s in awaiting),
        *(r.patient for r in referrals),
        *(a.patient for a in break_glass),
        *(f.patient for f in flags),
        *(b.patient for b in boosters),
    ]
    if worklist is not None:
        shown += worklist.patients
    if shown:  # the dashboard names these patients: a read like any list
        audit_list(dict.fromkeys(shown), "dashboard")
    if user.can(Permission.AUDIT_VIEW):
        ctx["recent_denials"] = list(
            AuditEntry.objects.filter(action=AuditEntry.Action.DENIED).order_by("-seq")[:10]
        )
    return render(request, "web/dashboard.html", ctx)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    patient = getattr(exception, "patient", None) if isinstance(exception, OutsideLocations) else None
    if patient is not None:  # the audit middleware would record the refusal, but not whose record it was
        audit_denied(
            reason=f"{request.method} {request.path}: {OUTSIDE_LOCATIONS}",
            status=403,
            patient=patient,
            location_code=patient.location.code,
        )
    user = getattr(request, "user", None)
    can_break_glass = bool(patient and user and user.is_authenticated and user.can(Permission.BREAK_GLASS))
    return render(
        request,
        "web/403.html",
        {
            "message": str(exception) if exception and str(exception) else "You may not open this page.",
            "patient": patient,
            "can_break_glass": can_break_glass,
        },
        status=403,
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/404.html", status=404)
