"""The billing pages: the worklist, a patient's account (sell a package, take a payment, refund, correct),
billing a session, and the printable superbill and itemised receipt (pages and PDFs)."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.services import audit_read
from ketaclinic.base.pdf import pdf_filename, pdf_response
from ketaclinic.billing import claims, documents, forms, insurance, reports, selectors, services
from ketaclinic.billing.authorizations import local_day
from ketaclinic.billing.models import InsurancePolicy, LedgerEntry, Package, Payer, PriorAuthorization
from ketaclinic.billing.packages import sales_with_units_left
from ketaclinic.core.access import Permission
from ketaclinic.core.billing.claims import cms1500_fields
from ketaclinic.core.errors import DomainError
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient


def _patient(user: Any, external_id: Any, permission: Permission) -> Patient:
    patient = Patient.objects.select_related("location").filter(external_id=external_id).first()
    if patient is None:
        raise Http404
    return patient_for(user, patient, permission)


@login_required
@require_GET
def worklist(request: AuthedRequest) -> HttpResponse:
    work = selectors.worklist(request.user)
    context = {
        "work": work,
        "ageing": selectors.ageing(request.user),
        "overdue": selectors.overdue_instalments(request.user),
    }
    return render(request, "billing/worklist.html", context)


def _account_page(request: AuthedRequest, patient: Patient, status: int = 200, **bound: Any) -> HttpResponse:
    account = services.account_for(patient)
    audit_read(patient, "billing account")
    rows = selectors.account_entries(account)
    context = {
        "patient": patient,
        "account": account,
        "rows": rows,
        "balance": rows[-1].running if rows else 0,
        "packages": sales_with_units_left(account),
        "policies": selectors.patient_policies(
            patient, today=timezone.localdate(timezone=ZoneInfo(patient.location.timezone))
        ),
        "policy_form": bound.get("policy_form") or forms.PolicyForm(),
        "auth_form": forms.AuthorizationForm(),
        "statuses": PriorAuthorization.Status.choices,
        "sessions": InfusionSession.objects.filter(patient=patient, state="discharged").order_by(
            "-scheduled_start"
        )[:20],
        "sell": bound.get("sell") or forms.SellForm(),
        "pay": bound.get("pay") or forms.PaymentForm(),
        "finance": bound.get("finance") or forms.FinancingForm(auto_id="id_finance_%s"),
        "plans": selectors.financing_plans(account, local_day(timezone.now(), patient.location.timezone)),
        "refund_error": bound.get("refund_error", ""),
        "can_record": request.user.can(Permission.BILLING_RECORD),
    }
    return render(request, "billing/account.html", context, status=status)


@login_required
def account(request: AuthedRequest, external_id: Any) -> HttpResponse:
    patient = _patient(request.user, external_id, Permission.BILLING_VIEW)
    if request.method != "POST":
        return _account_page(request, patient)
    require(request.user, Permission.BILLING_RECORD)
    action = request.POST.get("action")
    once = forms.form_key(request.POST)  # the form's one-time key ({% form_once %}); absent from older pages
    try:
        with transaction.atomic():  # the key is claimed with what the form records, or not at all
            if once is not None:
                services.form_once(user=request.user, key=once)
            refused = _account_action(request, patient, action)
    except services.FormAlreadySent as exc:  # the browser shows this answer, not the first: say it was kept
        messages.info(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _account_page(request, patient, 400, **_bound(action, request))
    else:
        if refused is not None:
            return refused
    return redirect("billing:account", patient.external_id)


def _bound(action: str | None, request: AuthedRequest) -> dict[str, Any]:
    """The form refused by a rule, shown again with what was typed."""
    if action == "pay":
        pay = forms.PaymentForm(request.POST)
        pay.is_valid()
        return {"pay": pay}
    if action == "finance":
        finance = forms.FinancingForm(request.POST, auto_id="id_finance_%s")
        finance.is_valid()
        return {"finance": finance}
    return {}


def _account_action(request: AuthedRequest, patient: Patient, action: str | None) -> HttpResponse | None:
    """Record one money form of the account page. Returns the page again when the form itself is invalid,
    None when recorded; a rule's refusal is raised (and rolls back the form's key with everything else)."""
    user = request.user
    if action == "sell":
        sell = forms.SellForm(request.POST)
        if not sell.is_valid():
            return _account_page(request, patient, 400, sell=sell)
        package: Package = sell.cleaned_data["package"]
        services.package_sell(user=user, patient=patient, package=package)
        messages.success(request, f"Sold: {package.name}.")
    elif action == "pay":
        pay = forms.PaymentForm(request.POST)
        if not pay.is_valid():
            return _account_page(request, patient, 400, pay=pay)
        data = dict(pay.cleaned_data)
        data["amount_cents"] = data.pop("amount")
        entry = services.payment_record(user=user, patient=patient, **data)
        messages.success(request, f"{entry.description}: recorded.")
    elif action == "finance":
        finance = forms.FinancingForm(request.POST, auto_id="id_finance_%s")
        if not finance.is_valid():
            return _account_page(request, patient, 400, finance=finance)
        data = dict(finance.cleaned_data)
        data["amount_cents"] = data.pop("amount")
        data["interval_months"] = data["interval_months"] or 1
        plan = services.financing_plan_create(user=user, patient=patient, **data)
        messages.success(request, f"Financing plan set up: {plan.instalments} instalments.")
    elif action in ("refund", "reverse"):
        form = forms.RefundForm(request.POST) if action == "refund" else forms.ReverseForm(request.POST)
        if not form.is_valid():
            return _account_page(
                request, patient, 400, refund_error=" ".join(str(e) for e in form.errors.values())
            )
        key = form.cleaned_data["payment" if action == "refund" else "entry"]
        entry = get_object_or_404(LedgerEntry, external_id=key, account__patient=patient)
        if action == "refund":
            services.refund_record(
                user=user,
                payment=entry,
                amount_cents=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        else:
            services.entry_reverse(user=user, entry=entry, reason=form.cleaned_data["reason"])
        messages.success(request, "Refund recorded." if action == "refund" else "Entry reversed.")
    else:
        return _account_page(request, patient, 400)
    return None


@login_required
@require_POST
def session_bill(request: AuthedRequest, external_id: Any) -> HttpResponse:
    require(request.user, Permission.BILLING_RECORD)
    session = get_object_or_404(
        InfusionSession.objects.select_related("patient", "location"), external_id=external_id
    )
    try:
        services.session_charge(user=request.user, session=session)
        messages.success(request, "Session billed.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:account", session.patient.external_id)


@login_required
@require_GET
def superbill(request: AuthedRequest, external_id: Any, as_pdf: bool = False) -> HttpResponse:
    bill, patient = _superbill(request, external_id)
    audit_read(patient, "superbill")
    context = {"bill": bill, "patient": patient, "printed_at": timezone.now()}
    with timezone.override(bill.session.location.timezone):
        if as_pdf:
            name = pdf_filename("superbill", patient.mrn, f"{bill.day:%Y-%m-%d}")
            return pdf_response(request, "billing/superbill.html", context, filename=name)
        return render(request, "billing/superbill.html", context)


def _superbill(request: AuthedRequest, external_id: Any) -> tuple[documents.Superbill, Patient]:
    return superbill_for(request.user, external_id)


def superbill_for(user: Any, external_id: Any) -> tuple[documents.Superbill, Patient]:
    """A given session's superbill (codes, charge, what was paid) for the pages and the API."""
    session = get_object_or_404(
        InfusionSession.objects.select_related("patient", "location", "protocol_version"),
        external_id=external_id,
    )
    patient = patient_for(user, session.patient, Permission.BILLING_VIEW)
    account = services.account_for(patient)
    charge_cents = documents.session_charge(session)
    paid = sum(
        e.amount_cents if e.kind == "payment" else -e.amount_cents for e in documents.payments_of(account)
    )
    return documents.superbill(session, paid, charge_cents), patient


@login_required
@require_GET
def claim(
    request: AuthedRequest, external_id: Any, as_pdf: bool = False, as_x12: bool = False
) -> HttpResponse:
    """The session's insurance claim: the CMS-1500 boxes (page and PDF) or the X12 837P file."""
    bill, patient = _superbill(request, external_id)
    try:
        plain = claims.claim_for(bill)
        boxes = cms1500_fields(plain)
        text = claims.claim_file(plain, timezone.now()) if as_x12 else ""
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("billing:account", patient.external_id)
    audit_read(patient, "insurance claim")
    if as_x12:
        response = HttpResponse(text, content_type="application/edi-x12")
        name = pdf_filename("claim", patient.mrn, f"{bill.day:%Y-%m-%d}").removesuffix(".pdf") + ".837"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store, private"
        return response
    lines = [
        {k.split(".")[0]: v for k, v in boxes.items() if k.endswith(f".{i}")}
        for i in range(1, len(plain.lines) + 1)
    ]
    context = {"boxes": boxes, "lines": lines, "bill": bill, "patient": patient, "printed_at": timezone.now()}
    if as_pdf:
        name = pdf_filename("cms1500", patient.mrn, f"{bill.day:%Y-%m-%d}")
        return pdf_response(request, "billing/cms1500.html", context, filename=name)
    return render(request, "billing/cms1500.html", context)


@login_required
@require_GET
def receipt(request: AuthedRequest, external_id: Any, as_pdf: bool = False) -> HttpResponse:
    patient = _patient(request.user, external_id, Permission.BILLING_VIEW)
    account = services.account_for(patient)
    rows = selectors.account_entries(account)
    audit_read(patient, "itemised receipt")
    context = {
        "patient": patient,
        "rows": rows,
        "balance": rows[-1].running if rows else 0,
        "provider": documents.provider_for(patient.location),
        "printed_at": timezone.now(),
    }
    with timezone.override(patient.location.timezone):
        if as_pdf:
            return pdf_response(
                request, "billing/receipt.html", context, filename=pdf_filename("receipt", patient.mrn)
            )
        return render(request, "billing/receipt.html", context)


def _period(request: AuthedRequest) -> tuple[date, date, str]:
    tz = request.user.locations.values_list("timezone", flat=True).first() or "America/New_York"
    today = timezone.now().astimezone(ZoneInfo(tz)).date()
    try:
        first = date.fromisoformat(request.GET.get("from", ""))
        last = date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        first, last = today.replace(day=1), today
    return first, last, tz


@login_required
@require_GET
def report(request: AuthedRequest, as_csv: bool = False) -> HttpResponse:
    """Payments by method over a period, receivables by age and package liabilities (page or CSV)."""
    require(request.user, Permission.BILLING_VIEW)
    first, last, tz = _period(request)
    if as_csv:
        response = HttpResponse(reports.report_csv(request.user, first, last, tz), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="billing-report-{first}-{last}.csv"'
        return response
    context = {
        "first": first,
        "last": last,
        "payments": reports.payments_by_method(request.user, first, last, tz),
        "ageing": selectors.ageing(request.user),
        "liabilities": reports.package_liabilities(request.user),
    }
    return render(request, "billing/report.html", context)


@login_required
@require_POST
def statement_link(request: AuthedRequest, external_id: Any) -> HttpResponse:
    """Make a one-time link for the patient to read their statement (shown once, to give or send)."""
    patient = _patient(request.user, external_id, Permission.BILLING_RECORD)
    token = services.statement_link_create(user=request.user, patient=patient)
    url = request.build_absolute_uri(reverse("statement", args=[token]))
    messages.success(request, f"One-time statement link (valid 7 days, opens once): {url}")
    return redirect("billing:account", patient.external_id)


@require_GET
def statement(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's statement through their one-time link (no sign-in: the token is the key)."""
    account = services.statement_link_open(token=token)
    if account is None:
        return render(request, "billing/statement_gone.html", status=410)
    rows = selectors.account_entries(account)
    context = {"patient": account.patient, "rows": rows, "balance": rows[-1].running if rows else 0}
    with timezone.override(account.patient.location.timezone):
        return render(request, "billing/statement.html", context)


# --- Insurance: payers, a patient's policies and their prior authorizations ---------------------------------


def _form_words(form: Any) -> str:
    return " ".join(
        f"{form.fields[k].label or k}: {' '.join(v)}" if k in form.fields else " ".join(v)
        for k, v in form.errors.items()
    )


@login_required
def payers(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.BILLING_VIEW)
    form = forms.PayerForm()
    status = 200
    if request.method == "POST":
        require(request.user, Permission.BILLING_RECORD)
        form = forms.PayerForm(request.POST)
        if form.is_valid():
            try:
                payer = insurance.payer_add(user=request.user, **form.cleaned_data)
                messages.success(request, f"Payer added: {payer.name}.")
                return redirect("billing:payers")
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        status = 400
    context = {
        "payers": Payer.objects.annotate(
            n_policies=Count("policies", filter=Q(policies__active=True))
        ).order_by("name"),
        "form": form,
        "can_record": request.user.can(Permission.BILLING_RECORD),
    }
    return render(request, "billing/payers.html", context, status=status)


@login_required
@require_POST
def payer_active(request: AuthedRequest, external_id: Any) -> HttpResponse:
    require(request.user, Permission.BILLING_RECORD)
    payer = get_object_or_404(Payer, external_id=external_id)
    active = request.POST.get("active") == "1"
    insurance.payer_active_set(user=request.user, payer=payer, active=active)
    messages.success(
        request, f"{payer.name}: {'billed again' if active else 'no longer billed; no new policies'}."
    )
    return redirect("billing:payers")


@login_required
def payer_edit(request: AuthedRequest, external_id: Any) -> HttpResponse:
    require(request.user, Permission.BILLING_RECORD)
    payer = get_object_or_404(Payer, external_id=external_id)
    form = forms.PayerForm(
        initial={"name": payer.name, "kind": payer.kind, "payer_id": payer.payer_id, "address": payer.address}
    )
    status = 200
    if request.method == "POST":
        form = forms.PayerForm(request.POST)
        if form.is_valid():
            try:
                insurance.payer_edit(user=request.user, payer=payer, **form.cleaned_data)
                messages.success(request, f"Payer saved: {form.cleaned_data['name']}.")
                return redirect("billing:payers")
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        status = 400
    return render(request, "billing/payer_edit.html", {"payer": payer, "form": form}, status=status)


@login_required
@require_POST
def policy_add(request: AuthedRequest, external_id: Any) -> HttpResponse:
    patient = _patient(request.user, external_id, Permission.BILLING_RECORD)
    require(request.user, Permission.BILLING_RECORD)
    form = forms.PolicyForm(request.POST)
    if form.is_valid():
        try:
            insurance.policy_add(user=request.user, patient=patient, **form.cleaned_data)
            messages.success(request, f"Insurance policy added: {form.cleaned_data['payer'].name}.")
            return redirect("billing:account", patient.external_id)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return _account_page(request, patient, 400, policy_form=form)


def _policy(request: AuthedRequest, external_id: Any) -> InsurancePolicy:
    policy = get_object_or_404(
        InsurancePolicy.objects.select_related("patient__location", "payer"), external_id=external_id
    )
    patient_for(request.user, policy.patient, Permission.BILLING_RECORD)
    require(request.user, Permission.BILLING_RECORD)
    return policy


@login_required
def policy_edit(request: AuthedRequest, external_id: Any) -> HttpResponse:
    policy = _policy(request, external_id)
    form = forms.PolicyForm(
        initial={
            "payer": policy.payer_id,
            "member_id": policy.member_id,
            "group_number": policy.group_number,
            "coverage_percent": policy.coverage_percent,
            "priority": policy.priority,
        },
        keep=policy.payer,
    )
    status = 200
    if request.method == "POST":
        form = forms.PolicyForm(request.POST, keep=policy.payer)
        if form.is_valid():
            try:
                insurance.policy_edit(user=request.user, policy=policy, **form.cleaned_data)
                messages.success(request, "Insurance policy saved.")
                return redirect("billing:account", policy.patient.external_id)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        status = 400
    context = {"policy": policy, "patient": policy.patient, "form": form}
    return render(request, "billing/policy_edit.html", context, status=status)


@login_required
@require_POST
def policy_deactivate(request: AuthedRequest, external_id: Any) -> HttpResponse:
    policy = _policy(request, external_id)
    insurance.policy_deactivate(user=request.user, policy=policy)
    messages.success(
        request, f"Insurance policy deactivated: {policy.payer.name}, member {policy.member_id}."
    )
    return redirect("billing:account", policy.patient.external_id)


@login_required
@require_POST
def authorization_add(request: AuthedRequest, external_id: Any) -> HttpResponse:
    policy = _policy(request, external_id)
    form = forms.AuthorizationForm(request.POST)
    if form.is_valid():
        try:
            auth = insurance.authorization_add(user=request.user, policy=policy, **form.cleaned_data)
            messages.success(request, f"Prior authorization {auth.number} added.")
            return redirect("billing:account", policy.patient.external_id)
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _form_words(form))
    return _account_page(request, policy.patient, 400)


@login_required
@require_POST
def authorization_status(request: AuthedRequest, external_id: Any) -> HttpResponse:
    auth = get_object_or_404(PriorAuthorization.objects.select_related("policy"), external_id=external_id)
    policy = _policy(request, auth.policy.external_id)
    try:
        insurance.authorization_status_set(
            user=request.user, authorization=auth, status=request.POST.get("status", "")
        )
        messages.success(request, f"Prior authorization {auth.number}: status saved.")
    except DomainError as exc:
        messages.error(request, exc.message)
        return _account_page(request, policy.patient, 400)
    return redirect("billing:account", policy.patient.external_id)
