"""The prescriber records the ICD-10-CM diagnosis on the screening page when signing: chosen from the codes
that fit the screened indication, shown in the tabular's words; a code that does not fit is refused, named."""

from __future__ import annotations

import pytest

from ketaclinic.core.access import Role
from ketaclinic.screening.models import Screening
from tests.accounts.conftest import refer, screen

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(staff, patient, protocols) -> Screening:
    return screen(staff[Role.INTAKE], patient, refer(staff[Role.INTAKE], patient))


def test_the_prescriber_signs_with_a_diagnosis_shown_in_words(client_for, staff, computed) -> None:
    client = client_for(staff[Role.PRESCRIBER])
    url = f"/screening/{computed.external_id}/"
    form = client.get(url).content.decode()
    assert '<option value="F33.1">F33.1 — Major depressive disorder, recurrent, moderate</option>' in form
    assert 'value="F41.1"' not in form  # anxiety does not fit a depression screening
    r = client.post(url, {"outcome": "eligible", "note": "Interviewed.", "diagnosis": "F33.1"}, follow=True)
    page = r.content.decode()
    assert "Major depressive disorder, recurrent, moderate</strong> (ICD-10-CM F33.1)" in page
    computed.refresh_from_db()
    assert computed.status == Screening.Status.SIGNED and computed.diagnosis == "F33.1"


def test_a_diagnosis_that_does_not_fit_is_refused_naming_it_and_nothing_is_signed(
    client_for, staff, computed
) -> None:
    client = client_for(staff[Role.PRESCRIBER])
    r = client.post(
        f"/screening/{computed.external_id}/", {"outcome": "eligible", "note": "x", "diagnosis": "G43.909"}
    )
    assert r.status_code == 400
    assert "G43.909" in r.content.decode() and "does not fit the screened indication" in r.content.decode()
    computed.refresh_from_db()
    assert computed.status == Screening.Status.COMPUTED and computed.diagnosis == ""


def test_the_api_signs_with_the_diagnosis_and_refuses_one_that_does_not_fit(
    client_for, staff, computed
) -> None:
    """The screening API takes the diagnosis as the page does, through the same check, and returns it."""
    client = client_for(staff[Role.PRESCRIBER])
    url = f"/api/screening/screenings/{computed.external_id}/sign"
    wrong = client.post(
        url,
        {"outcome": "eligible", "note": "Interviewed.", "diagnosis": "G43.909"},
        content_type="application/json",
    )
    assert wrong.status_code == 400 and "G43.909" in wrong.content.decode()
    computed.refresh_from_db()
    assert computed.status == Screening.Status.COMPUTED and computed.diagnosis == ""
    ok = {"outcome": "eligible", "note": "Interviewed.", "diagnosis": "F33.1"}
    signed = client.post(url, ok, content_type="application/json")
    assert signed.status_code == 200 and signed.json()["diagnosis"] == "F33.1"
    computed.refresh_from_db()
    assert computed.status == Screening.Status.SIGNED and computed.diagnosis == "F33.1"
