"""Referral documents open from the chart: a link per document, the file only for staff who may see the
patient's clinical record at their locations, each opening audited."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Permission, Role, role_can
from ketaclinic.screening.services import referral_record

pytestmark = pytest.mark.django_db

LETTER = b"%PDF-1.4 referral letter from Dr. Ada Referrer"


def refer_with_letter(user, patient):
    return referral_record(
        user=user,
        patient=patient,
        indication="trd",
        referrer_name="Dr. Ada Referrer",
        referrer_role="psychiatrist",
        reason="Two failed antidepressant trials",
        received_on=date(2026, 11, 2),
        documents=[("Referral letter", SimpleUploadedFile("letter.pdf", LETTER, "application/pdf"))],
    )


def test_the_chart_links_each_document_and_the_link_opens_it_audited(staff, patient, client_for):
    referral = refer_with_letter(staff[Role.INTAKE], patient)
    document = referral.documents.get()
    client = client_for(staff[Role.NURSE])
    chart = client.get(f"/patients/{patient.external_id}/").content.decode()
    url = f"/screening/documents/{document.external_id}/"
    assert f'href="{url}"' in chart and "Referral letter" in chart
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == LETTER
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.filter(
        action=AuditEntry.Action.VIEW, patient_external_id=patient.external_id, path=url
    ).get()
    assert "referral document 'Referral letter'" in entry.summary


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_only_roles_that_see_clinical_records_open_a_document(role, staff, patient, client_for):
    document = refer_with_letter(staff[Role.INTAKE], patient).documents.get()
    response = client_for(staff[role]).get(f"/screening/documents/{document.external_id}/")
    assert response.status_code == (200 if role_can(role, Permission.CLINICAL_VIEW) else 403)


def test_staff_of_another_location_cannot_open_it(staff, other_patient, client_for):
    from ketaclinic.accounts.models import User

    northside_intake = User.objects.get(username="intake.northside")
    document = refer_with_letter(northside_intake, other_patient).documents.get()
    response = client_for(staff[Role.NURSE]).get(f"/screening/documents/{document.external_id}/")
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, actor=staff[Role.NURSE]).exists()


def test_an_unknown_document_is_not_found(staff, client_for):
    response = client_for(staff[Role.NURSE]).get("/screening/documents/7b1f9f6e-0000-4000-8000-000000000000/")
    assert response.status_code == 404
