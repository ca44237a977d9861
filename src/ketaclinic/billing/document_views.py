"""The billing documents a patient is given: the account's invoice and the superbill over a period (pages
and PDFs; the session's own superbill, receipt and claim are in ``views``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.audit.services import audit_read
from ketaclinic.base.pdf import pdf_filename, pdf_response
from ketaclinic.billing import documents, selectors, services
from ketaclinic.billing.authorizations import local_day
from ketaclinic.billing.views import _patient
from ketaclinic.core.access import Permission
from ketaclinic.core.billing.financing import InstalmentStatus
from ketaclinic.patients.models import Patient

INVOICE_TERMS_DAYS = 30  # without a financing plan, an invoice is due 30 days after its date


@login_required
@require_GET
def invoice(request: AuthedRequest, external_id: Any, as_pdf: bool = False) -> HttpResponse:
    """The account's invoice: what is owed and by when (the financing plan's open instalments when there is
    one, else 30 days from today), the charges and credits that make the balance, and how to pay."""
    patient = _patient(request.user, external_id, Permission.BILLING_VIEW)
    account = services.account_for(patient)
    rows = selectors.account_entries(account)
    today = local_day(timezone.now(), patient.location.timezone)
    open_instalments = [
        s
        for p in selectors.financing_plans(account, today)
        for s in p.states
        if s.status is not InstalmentStatus.PAID
    ]
    audit_read(patient, "invoice")
    number = f"{patient.mrn}-{today:%Y%m%d}"
    context = {
        "patient": patient,
        "rows": rows,
        "balance": rows[-1].running if rows else 0,
        "provider": documents.provider_for(patient.location),
        "number": number,
        "dated": today,
        "due": today + timedelta(days=INVOICE_TERMS_DAYS),
        "instalments": open_instalments,
        "printed_at": timezone.now(),
    }
    with timezone.override(patient.location.timezone):
        if as_pdf:
            return pdf_response(
                request, "billing/invoice.html", context, filename=pdf_filename("invoice", number)
            )
        return render(request, "billing/invoice.html", context)


PERIOD_BAD = "The period's {field} {value!r} is not a date (YYYY-MM-DD)."
PERIOD_BACKWARDS = "The period ends ({last}) before it starts ({first}); give the first day, then the last."
PERIOD_TOO_LONG = "A superbill covers at most {days} days; {first} to {last} is {span}."
PERIOD_MAX_DAYS = 366


def _superbill_period(request: AuthedRequest, patient: Patient) -> tuple[date, date] | str:
    """The period asked for (default: this month so far, in the patient's location's days), or why not."""
    today = timezone.now().astimezone(ZoneInfo(patient.location.timezone)).date()
    got = {}
    for field, default in (("from", today.replace(day=1)), ("to", today)):
        raw = request.GET.get(field, "").strip()
        try:
            got[field] = date.fromisoformat(raw) if raw else default
        except ValueError:
            return PERIOD_BAD.format(field="first day" if field == "from" else "last day", value=raw[:20])
    first, last = got["from"], got["to"]
    if last < first:
        return PERIOD_BACKWARDS.format(first=first, last=last)
    if (last - first).days + 1 > PERIOD_MAX_DAYS:
        span = f"{(last - first).days + 1} days"
        return PERIOD_TOO_LONG.format(days=PERIOD_MAX_DAYS, first=first, last=last, span=span)
    return first, last


@login_required
@require_GET
def superbill_period(request: AuthedRequest, external_id: Any, as_pdf: bool = False) -> HttpResponse:
    """The superbill of every infusion in a period (a month, a course) on one document, page and PDF."""
    patient = _patient(request.user, external_id, Permission.BILLING_VIEW)
    period = _superbill_period(request, patient)
    if isinstance(period, str):
        messages.error(request, period)
        return redirect("billing:account", patient.external_id)
    bill = documents.period_superbill(patient, services.account_for(patient), *period)
    audit_read(patient, f"superbill {period[0]} to {period[1]}")
    context = {"bill": bill, "patient": patient, "printed_at": timezone.now()}
    with timezone.override(patient.location.timezone):
        if as_pdf:
            name = pdf_filename("superbill", patient.mrn, f"{period[0]:%Y-%m-%d}-to-{period[1]:%Y-%m-%d}")
            return pdf_response(request, "billing/superbill_period.html", context, filename=name)
        return render(request, "billing/superbill_period.html", context)
