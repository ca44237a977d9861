"""Requests for a free assessment: the public page (no account, consent, honeypot, phone check, rate limit,
nothing shown back), the intake queue (own locations, oldest first, with age), and each request turned into
a patient and a referral in one transaction, or closed with a reason; all audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.inquiries.models import Inquiry
from ketaclinic.inquiries.services import (
    CLOSE_NOTE_REQUIRED,
    CONSENT_REQUIRED,
    inquiry_close,
    inquiry_convert,
    inquiry_submit,
)
from ketaclinic.patients.models import Patient
from ketaclinic.screening.models import Referral
from tests.conftest import register

pytestmark = pytest.mark.django_db


def form(where, **changes):
    data = {
        "given_name": "Rosa",
        "family_name": "Quintero",
        "phone": "(617) 555-0142",
        "email": "rosa.q@example.org",
        "location": where.pk,
        "interest": "trd",
        "referred_by": "therapist",
        "consent": "on",
        "website": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def submit(location, **changes) -> Inquiry:
    fields = dict(
        location=location, given_name="Rosa", family_name="Quintero", phone="617-555-0142", consent=True
    )
    fields.update(changes)
    return inquiry_submit(**fields)


def test_anyone_sends_a_request_and_sees_only_a_thank_you(downtown):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/inquiry/")
    assert page.status_code == 200 and "Request a free assessment" in page.content.decode()
    token = page.cookies["csrftoken"].value
    response = client.post("/inquiry/", {**form(downtown), "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/inquiry/thanks/"
    thanks = client.get("/inquiry/thanks/").content.decode()
    for typed in ("Rosa", "Quintero", "555", "rosa.q", "Downtown"):
        assert typed not in thanks
    inquiry = Inquiry.objects.get()
    assert (inquiry.phone, inquiry.status, inquiry.location) == ("+16175550142", "open", downtown)
    assert inquiry.contact_consent_at is not None
    entry = AuditEntry.objects.get(summary__startswith="Received a request for a free assessment")
    assert entry.actor is None and "Rosa" not in str(entry.detail)


def test_the_request_page_refuses_a_post_without_the_csrf_token(downtown):
    assert Client(enforce_csrf_checks=True).post("/inquiry/", form(downtown)).status_code == 403
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"consent": None}, "consent", "This field is required"),
        ({"phone": "555"}, "phone", "not a phone number"),
        ({"given_name": ""}, "given_name", "This field is required"),
        ({"location": ""}, "location", "This field is required"),
    ],
)
def test_a_request_missing_consent_or_with_a_wrong_phone_is_refused_and_nothing_kept(
    downtown, changes, field, words
):
    response = Client().post("/inquiry/", form(downtown, **changes))
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Inquiry.objects.exists()


def test_the_service_requires_consent_in_words(downtown):
    with pytest.raises(ValidationError) as exc:
        submit(downtown, consent=False)
    assert (exc.value.message, exc.value.field) == (CONSENT_REQUIRED, "consent")


def test_a_filled_honeypot_looks_sent_but_keeps_nothing(downtown):
    response = Client().post("/inquiry/", form(downtown, website="http://spam.example"))
    assert response.status_code == 302 and response["Location"] == "/inquiry/thanks/"
    assert not Inquiry.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, summary__contains="robot").exists()


@override_settings(KETACLINIC_INQUIRY_RATE="3/h")
def test_requests_sent_from_one_address_are_limited(downtown):
    client = Client()
    for i in range(3):
        assert client.post("/inquiry/", form(downtown, family_name=f"Q{i}")).status_code == 302
    refused = client.post("/inquiry/", form(downtown, family_name="Fourth"))
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "Please call us instead" in refused.content.decode()
    assert Inquiry.objects.count() == 3
    assert client.get("/inquiry/").status_code == 200  # reading the page is not sending


def test_anonymous_cannot_list_or_open_requests(downtown):
    inquiry = submit(downtown)
    client = Client()
    for url in ("/intake/inquiries/", f"/intake/inquiries/{inquiry.external_id}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_only_intake_and_admin_see_the_queue(role, staff, downtown, client_for):
    submit(downtown)
    response = client_for(staff[role]).get("/intake/inquiries/")
    if role in (Role.INTAKE, Role.ADMIN):
        assert response.status_code == 200 and "Rosa Quintero" in response.content.decode()
    else:
        assert response.status_code == 403


def test_the_queue_is_per_location_oldest_first_with_age_and_only_ones_own(
    staff, downtown, northside, client_for
):
    now = timezone.now()
    newer = submit(downtown, given_name="Newer")
    older = submit(downtown, given_name="Older")
    Inquiry.objects.filter(pk=older.pk).update(received_at=now - timedelta(days=3))
    Inquiry.objects.filter(pk=newer.pk).update(received_at=now - timedelta(hours=5))
    submit(northside, given_name="Elsewhere")
    page = client_for(staff[Role.INTAKE]).get("/intake/inquiries/").content.decode()
    assert page.index("Older") < page.index("Newer")
    assert "3 days" in page and "5 h" in page
    assert "Elsewhere" not in page


def test_conversion_makes_a_patient_and_a_referral_in_one_step(staff, downtown, protocols, client_for):
    inquiry = submit(downtown, interest="trd", referred_by="therapist", email="rosa.q@example.org")
    client = client_for(staff[Role.INTAKE])
    assert client.get(f"/intake/inquiries/{inquiry.external_id}/").status_code == 200
    response = client.post(
        f"/intake/inquiries/{inquiry.external_id}/",
        {
            "action": "convert",
            "birth_date": "1988-06-01",
            "sex_at_birth": "female",
            "indication": "trd",
            "referrer_name": "Dana Ortiz, LCSW",
            "referrer_role": "therapist",
            "reason": "Requested a free assessment.",
        },
    )
    patient = Patient.objects.get(family_name="Quintero")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.external_id}/"
    referral = Referral.objects.get(patient=patient)
    assert (patient.phone, patient.email, patient.birth_date) == (
        "+16175550142",
        "rosa.q@example.org",
        date(1988, 6, 1),
    )
    assert (referral.indication, referral.referrer_role) == ("trd", "therapist")
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.patient, inquiry.referral) == ("converted", patient, referral)
    assert AuditEntry.objects.filter(
        summary__startswith="Request for an assessment became patient",
        patient_external_id=patient.external_id,
    ).exists()
    assert AuditEntry.objects.filter(summary="Viewed a request for an assessment").exists()


def test_a_refused_referral_leaves_no_patient_behind(staff, downtown, protocols):
    inquiry = submit(downtown)
    with pytest.raises(ValidationError):
        inquiry_convert(
            user=staff[Role.INTAKE],
            inquiry=inquiry,
            birth_date=date(1988, 6, 1),
            sex_at_birth="female",
            indication="not-an-indication",
            referrer_name="Self",
            referrer_role="self",
        )
    assert not Patient.objects.filter(family_name="Quintero").exists()
    inquiry.refresh_from_db()
    assert inquiry.status == "open"


def test_a_possible_duplicate_must_be_looked_at_before_registering(staff, downtown, protocols, client_for):
    register(staff[Role.INTAKE], downtown, given_name="Rosa", family_name="Quintero", phone="617-555-0142")
    inquiry = submit(downtown)
    client = client_for(staff[Role.INTAKE])
    page = client.get(f"/intake/inquiries/{inquiry.external_id}/").content.decode()
    assert 'data-testid="duplicates"' in page and "same phone" in page
    fields = dict(
        user=staff[Role.INTAKE],
        inquiry=inquiry,
        birth_date=date(1990, 1, 1),
        sex_at_birth="female",
        indication="trd",
        referrer_name="Rosa Quintero",
        referrer_role="self",
    )
    with pytest.raises(ValidationError) as exc:
        inquiry_convert(**fields)
    assert exc.value.field == "confirmed_not_duplicate"
    assert Patient.objects.filter(family_name="Quintero").count() == 1
    inquiry_convert(**fields, confirmed_not_duplicate=True)
    assert Patient.objects.filter(family_name="Quintero").count() == 2


def test_close_with_a_reason_and_a_note_for_other_audited(staff, downtown, client_for):
    inquiry = submit(downtown)
    admin = staff[Role.ADMIN]
    with pytest.raises(ValidationError, match=CLOSE_NOTE_REQUIRED):
        inquiry_close(user=admin, inquiry=inquiry, reason="other", note=" ")
    response = client_for(admin).post(
        f"/intake/inquiries/{inquiry.external_id}/",
        {"action": "close", "reason": "not_reached", "note": "3 calls"},
    )
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.close_reason, inquiry.closed_by) == ("closed", "not_reached", admin)
    with pytest.raises(ValidationError, match="already closed"):
        inquiry_close(user=admin, inquiry=inquiry, reason="spam")
    entry = AuditEntry.objects.get(summary__startswith="Closed a request for an assessment")
    assert entry.actor == admin and entry.detail["note"] == "3 calls"


def test_the_admin_may_close_but_not_register(staff, downtown, client_for):
    inquiry = submit(downtown)
    client = client_for(staff[Role.ADMIN])
    page = client.get(f"/intake/inquiries/{inquiry.external_id}/").content.decode()
    assert "Register patient and referral" not in page
    response = client.post(
        f"/intake/inquiries/{inquiry.external_id}/",
        {
            "action": "convert",
            "birth_date": "1988-06-01",
            "sex_at_birth": "female",
            "indication": "trd",
            "referrer_name": "x",
            "referrer_role": "self",
            "reason": "x",
        },
    )
    assert response.status_code == 403
    assert not Patient.objects.filter(family_name="Quintero").exists()


def test_another_locations_request_is_not_found(staff, northside, client_for):
    inquiry = submit(northside)
    assert client_for(staff[Role.INTAKE]).get(f"/intake/inquiries/{inquiry.external_id}/").status_code == 404
    with pytest.raises(Inquiry.DoesNotExist):
        inquiry_close(user=staff[Role.INTAKE], inquiry=inquiry, reason="spam")


def test_the_login_page_links_to_the_request_page(db):
    page = Client().get("/accounts/login/").content.decode()
    assert "New patient?" in page and 'href="/inquiry/"' in page
