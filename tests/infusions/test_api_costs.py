"""A patient's sessions over the API: the same number of queries for 20 sessions as for 2."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.infusions.conftest import schedule
from tests.web.test_page_costs import queries

pytestmark = pytest.mark.django_db


def test_a_patients_sessions_api_makes_as_many_queries_for_20_sessions_as_for_2(
    client_for, nurse, patient, depression, chair
):
    api = client_for(nurse)
    url = f"/api/sessions/patients/{patient.external_id}/sessions"
    for days in (1, 2):
        schedule(nurse, patient, depression, chair, timezone.now() + timedelta(days=days), consent=days == 1)
    assert len(api.get(url).json()) == 2
    two = queries(lambda: api.get(url))
    for days in range(3, 21):
        schedule(nurse, patient, depression, chair, timezone.now() + timedelta(days=days), consent=False)
    body = api.get(url).json()
    assert len(body) == 20 and {s["patient_name"] for s in body} == {patient.display_name}
    assert queries(lambda: api.get(url)) == two
