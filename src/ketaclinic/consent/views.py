"""Consent pages: the clinic's documents (new versions), signing on the tablet, one-time links, and the
patient's public signing page (no login: the link's token is the only key)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.anonymous import anonymous_limited
from ketaclinic.audit.client_ip import client_ip
from ketaclinic.consent import selectors, services
from ketaclinic.consent.forms import DocumentForm, PublicSignatureForm, SignatureForm
from ketaclinic.consent.models import ConsentDocument
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get
from ketaclinic.patients.views import form_error

DEFAULT_CODE = "ketamine-infusion"


def _patient(request: AuthedRequest, external_id: str, permission: Permission) -> Patient:
    try:
        return patient_get(user=request.user, external_id=external_id, permission=permission)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None


@login_required
@require_http_methods(["GET", "POST"])
def documents(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.CONSENT_MANAGE)
    current = {d.code: d for d in selectors.documents_current()}
    base = current.get(request.GET.get("code", DEFAULT_CODE)) or next(iter(current.values()), None)
    initial = {"code": base.code, "title": base.title, "body": base.body} if base else {}
    form = DocumentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            doc = services.consent_document_edit(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                f"Saved {doc.title} v{doc.version}; patients who "
                "signed earlier versions will be asked to sign again.",
            )
            return redirect("consent:documents")
    return render(
        request,
        "consent/documents.html",
        {
            "form": form,
            "documents": selectors.consent_documents(user=request.user),
            "current": current,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def sign_in_clinic(request: AuthedRequest, external_id: str) -> HttpResponse:
    """The tablet page: the patient reads, types their name and signs; the signed-in staff member
    witnesses."""
    patient = _patient(request, external_id, Permission.CONSENT_RECORD)
    docs = selectors.documents_current()
    status = selectors.consent_status(user=request.user, patient=patient)
    document = next((d for d in status.missing), docs[0] if docs else None)
    form = SignatureForm(
        request.POST or None, initial={"document": document.external_id if document else None}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_sign_in_clinic(
                user=request.user,
                patient=patient,
                document=ConsentDocument.objects.get(external_id=form.cleaned_data["document"]),
                typed_name=form.cleaned_data["typed_name"],
                signature_data=form.cleaned_data["signature"],
                ip_address=client_ip(request),
            )
        except ConsentDocument.DoesNotExist:
            form.add_error(None, "Unknown consent document.")
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Consent signed and stored.")
            return redirect("patients:chart", external_id=patient.external_id)
    return render(
        request,
        "consent/sign.html",
        {
            "form": form,
            "document": document,
            "patient": patient,
            "first_name": patient.given_name,
            "status": status,
            "public": False,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def link_new(request: AuthedRequest, external_id: str) -> HttpResponse:
    require(request.user, Permission.CONSENT_RECORD)
    patient = _patient(request, external_id, Permission.CONSENT_RECORD)
    document = selectors.document_current(request.POST.get("code") or DEFAULT_CODE)
    if document is None:
        messages.error(request, "No consent document is loaded.")
        return redirect("patients:chart", external_id=patient.external_id)
    try:
        link, token = services.consent_link_create(user=request.user, patient=patient, document=document)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("patients:chart", external_id=patient.external_id)
    url = request.build_absolute_uri(f"/consent/sign/{token}/")
    return render(request, "consent/link_created.html", {"patient": patient, "url": url, "link": link})


@require_http_methods(["GET", "POST"])
@anonymous_limited("consent")
def sign_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """Public: reveals only the consent text and the patient's first name; one use, expires."""
    try:
        link = services.consent_link_open(token=token, ip_address=client_ip(request))
    except services.ConsentLinkRefused as exc:
        return render(request, "consent/link_refused.html", {"message": exc.message}, status=410)
    form = PublicSignatureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_sign_by_link(
                token=token,
                typed_name=form.cleaned_data["typed_name"],
                signature_data=form.cleaned_data["signature"],
                ip_address=client_ip(request),
            )
        except services.ConsentLinkRefused as exc:
            return render(request, "consent/link_refused.html", {"message": exc.message}, status=410)
        except DomainError as exc:
            form_error(form, exc)
        else:
            return render(request, "consent/link_done.html", {"first_name": link.patient.given_name})
    return render(
        request,
        "consent/sign.html",
        {"form": form, "document": link.document, "public": True, "first_name": link.patient.given_name},
        status=400 if request.method == "POST" else 200,
    )
