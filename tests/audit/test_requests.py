"""Anonymous requests, records that do not exist, and the admin's audit page."""

from __future__ import annotations

import uuid

import pytest

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/dashboard/",
    "/patients/",
    "/patients/new/",
    "/protocols/",
    "/audit/",
    "/accounts/break-glass/reviews/",
    "/accounts/2fa/verify/",
    "/accounts/2fa/setup/",
]


def patient_pages(pid) -> list[str]:
    return [
        f"/patients/{pid}/",
        f"/patients/{pid}/edit/",
        f"/screening/patient/{pid}/referral/",
        f"/screening/patient/{pid}/new/",
        f"/accounts/break-glass/{pid}/",
    ]


def api_operations(pid) -> list[tuple[str, str]]:
    return [
        ("get", "/api/patients"),
        ("get", f"/api/patients/{pid}"),
        ("post", "/api/patients"),
        ("post", f"/api/patients/{pid}/allergies"),
        ("get", f"/api/screening/patients/{pid}/referrals"),
        ("post", f"/api/screening/patients/{pid}/screenings"),
        ("get", "/api/protocols"),
    ]


def test_anonymous_requests_to_pages_are_sent_to_sign_in(client, patient):
    for url in [*PAGES, *patient_pages(patient.external_id)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_anonymous_requests_to_the_api_get_401(client, patient):
    for method, url in api_operations(patient.external_id):
        response = getattr(client, method)(
            url, {} if method == "post" else None, content_type="application/json"
        )
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "unauthenticated"
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.VIEW).exists()


def test_the_openapi_document_is_public_but_names_no_patient(client, patient):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert patient.family_name not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/patients/{id}/",
        "/patients/{id}/edit/",
        "/screening/patient/{id}/new/",
        "/screening/{id}/",
        "/api/patients/{id}",
        "/api/screening/patients/{id}/referrals",
        "/api/screening/screenings/{id}",
    ],
)
def test_a_missing_record_is_404_and_audited_as_denied(url, staff, client_for):
    user = staff[Role.NURSE]
    url = url.format(id=uuid.uuid4())
    response = client_for(user).get(url)
    assert response.status_code == 404
    (denial,) = AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, actor=user)
    assert denial.detail["status"] == 404
    assert denial.path == url


def test_the_admin_audit_page_lists_entries(staff, patient, client_for):
    admin = staff[Role.ADMIN]
    client = client_for(admin)
    page = client.get("/audit/")
    assert page.status_code == 200
    newest = AuditEntry.objects.order_by("-seq").first()
    assert newest.summary.encode() in page.content
    registered = AuditEntry.objects.get(
        action=AuditEntry.Action.CREATE, patient_external_id=patient.external_id
    )
    filtered = client.get("/audit/", {"patient": str(patient.external_id)})
    assert [e.seq for e in filtered.context["page"].entries] == [registered.seq]
    by_action = client.get("/audit/", {"action": "login"})
    assert {e.action for e in by_action.context["page"].entries} == {"login"}


def test_a_malformed_patient_filter_on_the_audit_page_is_ignored(staff, client_for):
    response = client_for(staff[Role.ADMIN]).get("/audit/", {"patient": "x" * 36})
    assert response.status_code == 200


def test_verify_the_chain_button_reports_intact(staff, patient, client_for):
    client = client_for(staff[Role.ADMIN])
    response = client.get("/audit/", {"verify": "1"})
    assert response.status_code == 200
    assert response.context["verified"]["ok"] is True
    assert b"Chain intact:" in response.content
    assert f"{response.context['verified']['count']} entries verified".encode() in response.content
