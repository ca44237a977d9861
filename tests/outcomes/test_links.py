"""The patient's single-use link: works once, expires, reveals nothing but the form, refusals audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.tokens import token_sha256
from ketaclinic.core.access import Role
from ketaclinic.outcomes import services
from ketaclinic.outcomes.models import PatientLink, QuestionnaireResponse, SafetyFlag
from tests.outcomes.conftest import phq9

pytestmark = pytest.mark.django_db


def post_answers(client, url, link, answers):
    data = {f"phq9_{i}": a for i, a in enumerate(answers, start=1) if a is not None}
    data["link"] = str(link.external_id)
    return client.post(url, data)


@pytest.fixture
def link(staff, patient):
    return services.link_create(user=staff[Role.NURSE], patient=patient, instrument="phq9")


def test_only_a_hash_of_the_random_token_is_stored(link):
    obj, token = link
    assert len(token) >= 43
    assert obj.token_sha256 == token_sha256(token) and token not in obj.token_sha256
    assert not PatientLink.objects.filter(token_sha256=token).exists()


def test_the_form_reveals_the_first_name_only_and_works_without_an_account(link, patient):
    obj, token = link
    page = Client().get(f"/q/{token}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Hello Maria" in body and "Little interest or pleasure" in body
    for secret in (patient.family_name, patient.mrn, "1985", patient.location.name):
        assert secret not in body
    assert "988" in body


def test_a_patient_answers_once_and_sees_the_crisis_line(link, patient, downtown):
    downtown.phone = "(555) 010-0199"
    downtown.save()
    obj, token = link
    client = Client()
    done = post_answers(client, f"/q/{token}/", obj, phq9(15, item9=1))
    body = done.content.decode()
    assert done.status_code == 200 and "988" in body and "(555) 010-0199" in body
    r = QuestionnaireResponse.objects.get()
    assert (r.source, r.link, r.total, r.patient) == ("patient_link", obj, 15.0, patient)
    assert SafetyFlag.objects.filter(response=r, status="open").exists()  # escalation from the phone too
    again = post_answers(client, f"/q/{token}/", obj, phq9(3))
    assert again.status_code == 403 and services.LINK_USED in again.content.decode()
    assert client.get(f"/q/{token}/").status_code == 403
    assert QuestionnaireResponse.objects.count() == 1
    assert AuditEntry.objects.filter(action="denied", summary__contains="link").count() >= 2


def test_expired_unknown_and_wrong_links_are_refused_nothing_saved_and_audited(link, staff, patient):
    obj, token = link
    client = Client()
    unknown = client.get("/q/not-a-real-token-at-all/")
    assert unknown.status_code == 403 and services.LINK_UNKNOWN in unknown.content.decode()
    other, other_token = services.link_create(user=staff[Role.NURSE], patient=patient, instrument="phq9")
    wrong = post_answers(client, f"/q/{token}/", other, phq9(5))  # a form of another link posted here
    assert wrong.status_code == 403 and services.LINK_OTHER_PATIENT in wrong.content.decode()
    PatientLink.objects.filter(pk=obj.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = post_answers(client, f"/q/{token}/", obj, phq9(5))
    assert expired.status_code == 403 and "expired" in expired.content.decode()
    assert not QuestionnaireResponse.objects.exists()
    denied = AuditEntry.objects.filter(action="denied", summary__startswith="Questionnaire link").count()
    assert denied >= 3
    obj.refresh_from_db()
    assert obj.used_at is None


def test_invalid_answers_through_the_link_save_nothing_and_leave_it_usable(link):
    obj, token = link
    client = Client()
    bad = post_answers(client, f"/q/{token}/", obj, [None, None, None, 1, 1, 1, 1, 1, 0])
    assert bad.status_code == 400 and "3 items unanswered" in bad.content.decode()
    assert not QuestionnaireResponse.objects.exists()
    obj.refresh_from_db()
    assert obj.used_at is None
    assert post_answers(client, f"/q/{token}/", obj, phq9(4)).status_code == 200


def test_link_service_refusals(staff, patient):
    from ketaclinic.core.errors import ValidationError

    with pytest.raises(ValidationError, match="between 1 and 168 hours"):
        services.link_create(user=staff[Role.NURSE], patient=patient, instrument="phq9", hours=500)
    with pytest.raises(ValidationError, match="licensed"):
        services.link_create(user=staff[Role.NURSE], patient=patient, instrument="cssrs_screener")
    with pytest.raises(ValidationError, match="already used|not valid"):
        services.link_submit(token="nope", answers=phq9(3))


def test_staff_page_creates_a_link_shown_once(staff, patient, client_for):
    client = client_for(staff[Role.INTAKE])
    r = client.post(
        f"/outcomes/patient/{patient.external_id}/link/",
        {"instrument": "gad7", "hours": "24", "how": "show"},
        follow=True,
    )
    body = r.content.decode()
    assert "/q/" in body and PatientLink.objects.filter(instrument="gad7").count() == 1
    again = client.get(f"/outcomes/patient/{patient.external_id}/").content.decode()
    assert "Link created" not in again
