"""Consent pages: the tablet page with its signature pad, one-time links from the chart, the public page
(no login, first name and text only, one use), and the document editor."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ketaclinic.audit.models import AuditEntry
from ketaclinic.consent.models import ConsentDocument, ConsentSignature
from ketaclinic.consent.services import LINK_UNKNOWN, consent_link_create
from ketaclinic.core.access import Role
from tests.consent.conftest import SIGNATURE

pytestmark = pytest.mark.django_db


def test_tablet_page_has_the_pad_and_signs(client_for, staff, patient, consent_doc):
    nurse = client_for(staff[Role.NURSE])
    page = nurse.get(f"/consent/patient/{patient.external_id}/sign/").content.decode()
    assert "<canvas" in page and "data-signature-pad" in page and "js/signature-pad.js" in page
    assert "do not drive or operate heavy machinery for 24 hours" in page.lower()
    missing = nurse.post(
        f"/consent/patient/{patient.external_id}/sign/",
        {"document": consent_doc.external_id, "typed_name": "Maria Garcia", "signature": "", "read": "on"},
    )
    assert missing.status_code == 400 and "Draw the signature in the box." in missing.content.decode()
    r = nurse.post(
        f"/consent/patient/{patient.external_id}/sign/",
        {
            "document": consent_doc.external_id,
            "typed_name": "Maria Garcia",
            "signature": SIGNATURE,
            "read": "on",
        },
    )
    assert r.status_code == 302
    chart = nurse.get(f"/patients/{patient.external_id}/").content.decode()
    assert "Consent on file" in chart


def test_link_from_the_chart_then_the_public_page(client_for, staff, patient, consent_doc):
    intake = client_for(staff[Role.INTAKE])
    page = intake.post(f"/consent/patient/{patient.external_id}/link/").content.decode()
    url = re.search(r'value="(http://testserver/consent/sign/[^"]+)"', page).group(1)
    public = Client()
    shown = public.get(url).content.decode()
    assert "Dear Maria," in shown and "Garcia" not in shown and patient.mrn not in shown
    assert "off-label" in shown
    done = public.post(url, {"typed_name": "Maria Garcia", "signature": SIGNATURE, "read": "on"})
    assert done.status_code == 200 and "Thank you, Maria" in done.content.decode()
    assert ConsentSignature.objects.get().method == "link"
    reused = public.get(url)
    assert reused.status_code == 410 and "already used" in reused.content.decode()


def test_a_wrong_name_on_the_public_page_does_not_reveal_the_patients_name(staff, patient, consent_doc):
    """Anyone holding a forwarded link may type anything: the refusal names the field and what was typed,
    never the family name on file (which, beside a ketamine consent form, is itself protected)."""
    from ketaclinic.consent.services import NAME_MISMATCH_PUBLIC

    _link, token = consent_link_create(user=staff[Role.NURSE], patient=patient, document=consent_doc)
    refused = Client().post(
        f"/consent/sign/{token}/", {"typed_name": "x", "signature": SIGNATURE, "read": "on"}
    )
    body = refused.content.decode()
    assert refused.status_code == 400
    assert NAME_MISMATCH_PUBLIC.format(value="x").replace("'", "&#x27;") in body
    assert patient.family_name not in body
    assert not ConsentSignature.objects.exists()
    done = Client().post(
        f"/consent/sign/{token}/", {"typed_name": "Maria Garcia", "signature": SIGNATURE, "read": "on"}
    )
    assert done.status_code == 200  # the link stayed usable


def test_unknown_link_refused_and_audited():
    r = Client().get("/consent/sign/not-a-real-token/")
    assert r.status_code == 410 and LINK_UNKNOWN in r.content.decode()
    assert AuditEntry.objects.filter(action="denied", summary__startswith="Consent link refused").count() == 1


def test_expired_link_refused_on_post(staff, patient, consent_doc):
    from datetime import timedelta

    from django.utils import timezone

    from ketaclinic.consent.models import ConsentLink

    link, token = consent_link_create(user=staff[Role.NURSE], patient=patient, document=consent_doc)
    ConsentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    r = Client().post(
        f"/consent/sign/{token}/", {"typed_name": "Maria Garcia", "signature": SIGNATURE, "read": "on"}
    )
    assert r.status_code == 410 and "expired" in r.content.decode()
    assert not ConsentSignature.objects.exists()


def test_admin_edits_a_new_version(client_for, staff, consent_doc):
    admin = client_for(staff[Role.ADMIN])
    page = admin.get("/consent/documents/").content.decode()
    assert "v1" in page and "Save as a new version" in page
    r = admin.post(
        "/consent/documents/",
        {
            "code": consent_doc.code,
            "title": consent_doc.title,
            "body": consent_doc.body + "\n\nCall us at any time.",
            "changelog": "Phone line",
        },
    )
    assert r.status_code == 302
    assert ConsentDocument.objects.filter(code=consent_doc.code).count() == 2


def test_consent_api_status_link_and_signature(client_for, staff, patient, consent_doc):
    nurse = client_for(staff[Role.NURSE])
    assert nurse.get(f"/api/consent/patients/{patient.external_id}").json()["state"] == "not_signed"
    link = nurse.post(
        f"/api/consent/patients/{patient.external_id}/links", {}, content_type="application/json"
    )
    assert link.status_code == 201 and "/consent/sign/" in link.json()["url"]
    sig = nurse.post(
        f"/api/consent/patients/{patient.external_id}/signatures",
        {"document": str(consent_doc.external_id), "typed_name": "Maria Garcia", "signature": SIGNATURE},
        content_type="application/json",
    )
    assert sig.status_code == 201 and sig.json()["document_version"] == 1
    status = nurse.get(f"/api/consent/patients/{patient.external_id}").json()
    assert status["state"] == "on_file" and status["missing"] == []
