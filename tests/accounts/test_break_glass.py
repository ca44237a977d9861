"""Emergency access ("break-glass"): a stated reason, 4 hours, audited, and reviewed by an admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import BreakGlassAccess, Location
from ketaclinic.accounts.services import REVIEW_NOT_IN_QUEUE, REVIEW_NOTE_REQUIRED
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Permission, Role, role_can
from ketaclinic.patients.access import BREAK_GLASS_NOT_NEEDED, MIN_REASON, REASON_TOO_SHORT, break_glass_open
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

REASON = "Patient presented at Downtown in crisis; need her medication list"


def chart_url(patient) -> str:
    return f"/patients/{patient.external_id}/"


@pytest.fixture
def nurse(staff):
    return staff[Role.NURSE]


@pytest.fixture
def admin(staff):
    return staff[Role.ADMIN]


@pytest.mark.parametrize(
    "reason", ["", "need it", " " * 20, "x" * (MIN_REASON - 1), "  " + "y" * (MIN_REASON - 1) + "  "]
)
def test_a_reason_shorter_than_15_characters_is_refused_with_the_message(
    reason, nurse, other_patient, client_for
):
    client = client_for(nurse)
    response = client.post(f"/accounts/break-glass/{other_patient.external_id}/", {"reason": reason})
    assert response.status_code == 400
    assert REASON_TOO_SHORT.format(min=MIN_REASON).encode() in response.content
    assert not BreakGlassAccess.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.BREAK_GLASS).exists()
    assert client.get(chart_url(other_patient)).status_code == 403


def test_a_reason_of_exactly_15_characters_is_enough(nurse, other_patient):
    access = break_glass_open(user=nurse, patient=other_patient, reason="x" * MIN_REASON)
    assert access.reason == "x" * MIN_REASON


def test_emergency_access_opens_the_chart_page_and_api_for_4_hours(nurse, other_patient, client_for):
    client = client_for(nurse)
    assert client.get(chart_url(other_patient)).status_code == 403
    response = client.post(f"/accounts/break-glass/{other_patient.external_id}/", {"reason": REASON})
    assert response.status_code == 302
    assert response["Location"] == chart_url(other_patient)
    access = BreakGlassAccess.objects.get(user=nurse, patient=other_patient)
    assert access.expires_at - access.granted_at == timedelta(hours=4)
    assert client.get(chart_url(other_patient)).status_code == 200
    assert client.get(f"/api/patients/{other_patient.external_id}").status_code == 200
    assert client.get(f"/api/screening/patients/{other_patient.external_id}/referrals").status_code == 200
    assert str(other_patient.external_id) in {p["id"] for p in client.get("/api/patients").json()}


def test_emergency_access_still_works_just_before_expiry_and_not_after(nurse, other_patient, client_for):
    client = client_for(nurse)
    access = break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    # BreakGlassAccess is not append-only: move its expiry directly to simulate the passing hours.
    BreakGlassAccess.objects.filter(pk=access.pk).update(expires_at=timezone.now() + timedelta(minutes=1))
    assert client.get(chart_url(other_patient)).status_code == 200
    BreakGlassAccess.objects.filter(pk=access.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(chart_url(other_patient)).status_code == 403
    assert client.get(f"/api/patients/{other_patient.external_id}").status_code == 403
    assert str(other_patient.external_id) not in {p["id"] for p in client.get("/api/patients").json()}


def test_emergency_access_is_for_that_patient_and_that_clinician_only(
    staff, nurse, other_patient, northside, client_for
):
    from tests.conftest import register

    second = register(other_patient.created_by, northside, given_name="Omar", family_name="Haddad")
    break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    client = client_for(nurse)
    assert client.get(chart_url(second)).status_code == 403
    assert client_for(staff[Role.PRESCRIBER]).get(chart_url(other_patient)).status_code == 403


def test_the_grant_is_audited_with_the_reason(nurse, other_patient, client_for):
    client_for(nurse).post(f"/accounts/break-glass/{other_patient.external_id}/", {"reason": REASON})
    (entry,) = AuditEntry.objects.filter(action=AuditEntry.Action.BREAK_GLASS)
    assert entry.actor == nurse
    assert entry.patient_external_id == other_patient.external_id
    assert REASON in entry.summary
    assert entry.location_code == "northside"
    assert entry.path == f"/accounts/break-glass/{other_patient.external_id}/"
    assert entry.ip_address == "127.0.0.1"


def test_no_emergency_access_is_needed_for_a_patient_of_ones_own_location(nurse, patient, client_for):
    response = client_for(nurse).post(f"/accounts/break-glass/{patient.external_id}/", {"reason": REASON})
    assert response.status_code == 400
    assert BREAK_GLASS_NOT_NEEDED.encode() in response.content
    assert not BreakGlassAccess.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role if not role_can(r, Permission.BREAK_GLASS)], ids=str)
def test_roles_without_breakglass_use_cannot_open_a_record(role, staff, other_patient, client_for):
    client = client_for(staff[role])
    response = client.post(f"/accounts/break-glass/{other_patient.external_id}/", {"reason": REASON})
    assert response.status_code == 403
    assert not BreakGlassAccess.objects.exists()
    assert client.get(chart_url(other_patient)).status_code == 403


def test_the_access_lands_in_the_admin_review_queue_and_on_the_dashboard(
    nurse, admin, other_patient, client_for
):
    break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    client = client_for(admin)
    queue = client.get("/accounts/break-glass/reviews/")
    assert queue.status_code == 200
    assert REASON.encode() in queue.content
    assert other_patient.mrn.encode() in queue.content
    dashboard = client.get("/dashboard/")
    assert REASON.encode() in dashboard.content
    assert [a.patient for a in dashboard.context["break_glass_queue"]] == [other_patient]


def test_an_appropriate_review_takes_the_access_out_of_the_queue_and_is_audited(
    nurse, admin, other_patient, client_for
):
    access = break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    client = client_for(admin)
    response = client.post(
        "/accounts/break-glass/reviews/", {"access": str(access.external_id), "outcome": "appropriate"}
    )
    assert response.status_code == 302
    access.refresh_from_db()
    assert (access.reviewed_by, access.review_outcome) == (admin, "appropriate")
    assert REASON.encode() not in client.get("/accounts/break-glass/reviews/").content
    assert client.get("/dashboard/").context["break_glass_queue"] == []
    (entry,) = AuditEntry.objects.filter(action=AuditEntry.Action.REVIEW)
    assert entry.actor == admin
    assert entry.patient_external_id == other_patient.external_id
    assert "appropriate" in entry.summary


def test_an_inappropriate_review_needs_a_note(nurse, admin, other_patient, client_for):
    access = break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    client = client_for(admin)
    url = "/accounts/break-glass/reviews/"
    response = client.post(url, {"access": str(access.external_id), "outcome": "inappropriate", "note": "  "})
    assert response.status_code == 400
    assert REVIEW_NOTE_REQUIRED.encode() in response.content
    access.refresh_from_db()
    assert access.reviewed_at is None
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVIEW).exists()
    response = client.post(
        url,
        {
            "access": str(access.external_id),
            "outcome": "inappropriate",
            "note": "No clinical need; discussed with the nurse.",
        },
    )
    assert response.status_code == 302
    access.refresh_from_db()
    assert access.review_outcome == "inappropriate"
    assert access.review_note == "No clinical need; discussed with the nurse."


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN], ids=str)
def test_non_admins_cannot_see_or_record_reviews(role, staff, nurse, other_patient, client_for):
    access = break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    client = client_for(staff[role])
    assert client.get("/accounts/break-glass/reviews/").status_code == 403
    response = client.post(
        "/accounts/break-glass/reviews/", {"access": str(access.external_id), "outcome": "appropriate"}
    )
    assert response.status_code == 403
    access.refresh_from_db()
    assert access.reviewed_at is None
    assert "break_glass_queue" not in client.get("/dashboard/").context


def test_a_malformed_or_unknown_access_id_is_refused_with_a_message(admin, client_for):
    client = client_for(admin)
    for bad in ("not-a-uuid", "", "6f1c2b7e-0000-4000-8000-000000000000"):
        response = client.post("/accounts/break-glass/reviews/", {"access": bad, "outcome": "appropriate"})
        assert response.status_code == 400
        assert REVIEW_NOT_IN_QUEUE.encode() in response.content


def test_an_admin_of_an_unrelated_location_neither_sees_nor_reviews_the_access(
    nurse, other_patient, client_for
):
    elsewhere = Location.objects.create(code="westside", name="Westside Clinic")
    outsider = make_staff(Role.ADMIN, elsewhere)
    access = break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    client = client_for(outsider)
    assert REASON.encode() not in client.get("/accounts/break-glass/reviews/").content
    response = client.post(
        "/accounts/break-glass/reviews/", {"access": str(access.external_id), "outcome": "appropriate"}
    )
    assert response.status_code == 400
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_the_admin_of_the_patients_location_also_sees_the_access(nurse, other_patient, northside, client_for):
    northside_admin = make_staff(Role.ADMIN, northside, username="admin.northside")
    break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    assert REASON.encode() in client_for(northside_admin).get("/accounts/break-glass/reviews/").content


def test_the_review_service_refuses_an_access_outside_the_admins_locations(nurse, other_patient):
    from ketaclinic.accounts.services import break_glass_review
    from ketaclinic.core.errors import ValidationError

    outsider = make_staff(Role.ADMIN, Location.objects.create(code="westside", name="Westside Clinic"))
    access = break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    with pytest.raises(ValidationError, match=REVIEW_NOT_IN_QUEUE):
        break_glass_review(user=outsider, access=access, outcome="appropriate")
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_an_access_is_reviewed_once(nurse, admin, other_patient):
    from ketaclinic.accounts.services import ALREADY_REVIEWED, break_glass_review
    from ketaclinic.core.errors import ValidationError

    access = break_glass_open(user=nurse, patient=other_patient, reason=REASON)
    break_glass_review(user=admin, access=access, outcome="appropriate")
    with pytest.raises(ValidationError, match=ALREADY_REVIEWED):
        break_glass_review(user=admin, access=access, outcome="inappropriate", note="Changed my mind")
