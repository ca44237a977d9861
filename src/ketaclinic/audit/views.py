"""The admin's audit page: entries filtered by action, patient and actor, and the chain's state."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketaclinic.accounts.permissions import require
from ketaclinic.audit.checkpoints import checkpoint_last
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.selectors import audit_chain_verify, audit_entries
from ketaclinic.core.access import Permission


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    require(request.user, Permission.AUDIT_VIEW)
    action = request.GET.get("action", "")
    patient = request.GET.get("patient", "").strip()
    try:
        patient_id = str(uuid.UUID(patient)) if patient else ""
    except ValueError:  # not a patient id: show everything rather than fail
        patient_id = ""
    qs = audit_entries(action=action, patient_external_id=patient_id)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    verified = None
    if request.GET.get("verify"):
        checkpoint = checkpoint_last()
        count, problems = audit_chain_verify(checkpoint=checkpoint)
        verified = {"count": count, "problems": problems[:20], "ok": not problems, "checkpoint": checkpoint}
    return render(request, "audit/log.html", {
        "page": page, "actions": AuditEntry.Action.choices, "action": action, "patient": patient, "verified": verified,
    })
