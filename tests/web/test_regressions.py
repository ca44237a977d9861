"""Regressions found by the browser tests (tests/e2e), pinned here at the level of one request."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts.views import INVALID_CODE
from ketaclinic.core.access import Role
from tests.conftest import PASSWORD, current_totp

pytestmark = pytest.mark.django_db


def test_a_right_code_during_the_throttle_pause_is_not_called_wrong(prescriber):
    """django-otp refuses every code for a moment after a wrong one; the page must say so."""
    client = Client()
    client.post("/accounts/login/", {"username": prescriber.username, "password": PASSWORD})
    wrong = f"{(int(current_totp()) + 500_000) % 1_000_000:06d}"
    first = client.post("/accounts/2fa/verify/", {"token": wrong})
    assert INVALID_CODE in first.content.decode()
    second = client.post("/accounts/2fa/verify/", {"token": current_totp()})
    assert second.status_code == 400
    page = second.content.decode()
    assert "wait" in page
    assert INVALID_CODE not in page
    assert TOTPDevice.objects.get(user=prescriber).throttling_failure_count == 1  # not counted as wrong


def test_navigation_is_hidden_until_the_second_factor(prescriber):
    client = Client()
    client.post("/accounts/login/", {"username": prescriber.username, "password": PASSWORD})
    page = client.get("/accounts/2fa/verify/").content.decode()
    assert '<nav aria-label="Main" hidden>' in page


def test_choosing_no_indication_clears_the_questions(staff, patient, protocols, client_for):
    from ketaclinic.screening.services import referral_record

    referral_record(
        user=staff[Role.INTAKE],
        patient=patient,
        indication="trd",
        referrer_name="Dr. Blake",
        referrer_role="psychiatrist",
        reason="TRD",
        received_on=timezone.localdate(patient.created_at),
    )
    client = client_for(staff[Role.INTAKE])
    url = f"/screening/patient/{patient.external_id}/new/"
    opened = client.get(url).content.decode()
    assert "Known allergy or hypersensitivity to ketamine?" in opened  # starts from the open referral
    cleared = client.get(url, {"indication": ""}, headers={"HX-Request": "true"}).content.decode()
    assert "Choose the indication first" in cleared
    assert "Known allergy" not in cleared


def test_screening_form_preselects_no_safety_answer(staff, patient, protocols, client_for):
    """An unanswered safety question must never be recorded as "no": the form pre-selects nothing."""
    import re

    response = client_for(staff[Role.INTAKE]).get(
        f"/screening/patient/{patient.external_id}/new/?indication=trd"
    )
    html = response.content.decode()
    assert response.status_code == 200
    radios = re.findall(r'<input type="radio" name="(substance_use|ci_\w+)"[^>]*>', html)
    assert "substance_use" in radios
    assert len(set(radios)) == 1 + len(protocols["depression-standard"].parsed.eligibility.contraindications)
    assert not re.search(r'<input type="radio" name="(substance_use|ci_\w+)"[^>]*checked', html)
