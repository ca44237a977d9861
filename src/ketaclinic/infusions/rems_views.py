"""The REMS Patient Monitoring Form page of an esketamine session: see it (prefilled from the record), the
prescriber completes and confirms it, the clinic marks it submitted to the REMS programme.

Thin: the form parses, the services decide (``services.rems``), the selectors read (``selectors.rems``).
Times are shown and read on the location's clock."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.services import audit_read
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.core.infusion.rems import CheckEntry, RemsForm, check_label, check_window
from ketaclinic.core.protocols.rems import RemsCheckKind, RemsSection
from ketaclinic.infusions import forms as f
from ketaclinic.infusions import selectors, services
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.infusions.views import _session, _zone


def _checks(section: RemsSection) -> list[tuple[str, str, bool]]:
    return [(c.code, check_label(c), c.kind is RemsCheckKind.BLOOD_PRESSURE) for c in section.checks]


def _initial(form: RemsForm, section: RemsSection) -> dict[str, Any]:
    """The confirm form's fields from the stored answers or the prefill."""
    data: dict[str, Any] = {
        "device_lots": ", ".join(form.device_lots),
        "spo2_lowest_percent": form.spo2_lowest_percent,
        "concomitant_medications": form.concomitant_medications,
        "serious_adverse_event": {True: "yes", False: "no", None: ""}[form.serious_adverse_event],
        "serious_adverse_event_description": form.serious_adverse_event_description,
    }
    for n, c in enumerate(section.checks):
        e = form.entry(c.code) or CheckEntry(c.code)
        data[f"c{n}_at"] = None if e.at is None else timezone.localtime(e.at).replace(tzinfo=None)
        data.update({f"c{n}_sys": e.systolic_mmhg, f"c{n}_dia": e.diastolic_mmhg, f"c{n}_level": e.level})
    return data


def _rows(form: RemsForm, section: RemsSection) -> list[dict[str, Any]]:
    """Each required check as the page lists it: what, when it counts, what the form says."""
    rows = []
    for c in section.checks:
        window = check_window(c, form.first_device_at, form.discharged_at)
        rows.append(
            {"label": check_label(c), "window": window, "entry": form.entry(c.code), "source": c.source}
        )
    return rows


def _page(
    request: AuthedRequest,
    session: InfusionSession,
    *,
    status: int = 200,
    error: str = "",
    confirm_form: f.RemsConfirmForm | None = None,
) -> HttpResponse:
    with timezone.override(_zone(session)):
        state = selectors.rems_form_state(session)
        audit_read(session.patient, "REMS monitoring form")
        ctx: dict[str, Any] = {"session": session, "state": state, "error": error}
        if state is not None:
            ctx |= {
                "rows": _rows(state.form, state.section),
                "confirm_form": confirm_form
                or f.RemsConfirmForm(
                    initial=_initial(state.form, state.section), checks=_checks(state.section)
                ),
                "submit_form": f.RemsSubmitForm(),
                "can_confirm": request.user.can(Permission.ORDER_SIGN),
                "can_submit": request.user.can(Permission.NOTE_SIGN),
            }
        return render(request, "infusions/rems_form.html", ctx, status=status)


@login_required
@require_GET
def rems_form_page(request: AuthedRequest, external_id: str) -> HttpResponse:
    return _page(request, _session(request, external_id))


def _entries(form: f.RemsConfirmForm) -> list[CheckEntry]:
    d = form.cleaned_data
    return [
        CheckEntry(
            code=code,
            at=d.get(names[0]),
            systolic_mmhg=d.get(f"{names[0][:-3]}_sys"),
            diastolic_mmhg=d.get(f"{names[0][:-3]}_dia"),
            level=d.get(f"{names[0][:-3]}_level") or "",
        )
        for code, _, names in form.check_groups
    ]


@login_required
@require_POST
def rems_form_confirm(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.ORDER_SIGN)
    session = _session(request, external_id, Permission.ORDER_SIGN)
    section = selectors.rems_section(session)
    with timezone.override(_zone(session)):
        form = f.RemsConfirmForm(request.POST, checks=_checks(section) if section else ())
        if not form.is_valid():
            return _page(
                request, session, status=400, error="Some answers could not be read.", confirm_form=form
            )
        d = form.cleaned_data
        try:
            services.rems_form_confirm(
                user=request.user,
                session=session,
                device_lots=d["device_lots"].split(","),
                checks=_entries(form),
                spo2_lowest_percent=d["spo2_lowest_percent"],
                concomitant_medications=d["concomitant_medications"],
                serious_adverse_event={"yes": True, "no": False}.get(d["serious_adverse_event"]),
                serious_adverse_event_description=d["serious_adverse_event_description"],
            )
        except DomainError as exc:
            return _page(request, session, status=400, error=exc.message, confirm_form=form)
    messages.success(request, "REMS monitoring form confirmed.")
    return redirect("infusions:rems_form", external_id=session.external_id)


@login_required
@require_POST
def rems_form_submit(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.NOTE_SIGN)
    session = _session(request, external_id, Permission.NOTE_SIGN)
    with timezone.override(_zone(session)):
        form = f.RemsSubmitForm(request.POST)
        if not form.is_valid():
            return _page(request, session, status=400, error=services.REFERENCE_REQUIRED)
        try:
            services.rems_form_submit(
                user=request.user,
                session=session,
                reference=form.cleaned_data["reference"],
                submitted_at=form.cleaned_data["submitted_at"],
            )
        except DomainError as exc:
            return _page(request, session, status=400, error=exc.message)
    messages.success(request, "Marked as submitted to the REMS programme; the form is locked.")
    return redirect("infusions:rems_form", external_id=session.external_id)
