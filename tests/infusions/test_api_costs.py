"""A patient's sessions over the API: the same number of queries for 20 sessions as for 2."""

from __future__ import annotations

from datetime import datetime, time, timedelta

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


def test_the_day_board_api_makes_as_many_queries_for_8_sessions_as_for_2(
    client_for, nurse, patient, depression, chair, downtown
):
    api = client_for(nurse)
    tomorrow = timezone.localdate() + timedelta(days=1)
    url = f"/api/sessions/board?location={downtown.code}&day={tomorrow.isoformat()}"
    early = timezone.make_aware(datetime.combine(tomorrow, time(5)))

    def book(n: int) -> None:
        schedule(nurse, patient, depression, chair, early + timedelta(minutes=120 * n), consent=n == 0)

    for n in range(2):
        book(n)
    assert sum(len(c["rows"]) for c in api.get(url).json()["chairs"]) == 2
    two = queries(lambda: api.get(url))
    for n in range(2, 8):
        book(n)
    body = api.get(url).json()
    assert sum(len(c["rows"]) for c in body["chairs"]) == 8
    assert {r["session"]["location"] for c in body["chairs"] for r in c["rows"]} == {downtown.code}
    assert queries(lambda: api.get(url)) == two
