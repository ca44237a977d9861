"""A page's cost follows what it shows, not the size of the clinic or of the network: lists make the same
number of queries for 2 rows as for 20, and the lookups behind a clinic's pages are served by an index (the
database's own query plan says so; on PostgreSQL with sequential scans discouraged, so that the tiny test
tables do not make a full scan the cheaper choice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.accounts.models import User
from ketaclinic.core.access import Role
from ketaclinic.outcomes.services import response_correct, response_record
from ketaclinic.patients.access import patients_visible_to
from ketaclinic.patients.selectors import patient_find_elsewhere, patient_search
from tests.outcomes.conftest import phq9

pytestmark = pytest.mark.django_db


def queries(call: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def full_scans(sql: str, params: Any, table: str) -> list[str]:
    """The lines of the database's plan for ``sql`` that read every row of ``table``."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            lines = [str(row[-1]) for row in cur.fetchall()]
            return [x for x in lines if x.startswith(f"SCAN {table}") and "USING" not in x]
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN " + sql, params)
        lines = [str(row[0]) for row in cur.fetchall()]
        cur.execute("SET LOCAL enable_seqscan = on")
        return [x for x in lines if f"Seq Scan on {table}" in x]


def scans_of(call: Callable[[], Any], table: str) -> list[str]:
    """Full scans of ``table`` in the plans of every query ``call`` makes."""
    with CaptureQueriesContext(connection) as ctx:
        call()
    found = []
    for q in ctx.captured_queries:
        if table in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT"):
            found += full_scans(q["sql"].replace("%", "%%"), (), table)
    return found


def test_a_patients_responses_api_makes_as_many_queries_for_20_answers_as_for_2(staff, patient, client_for):
    nurse_user = staff[Role.NURSE]
    api = client_for(nurse_user)
    url = f"/api/outcomes/patients/{patient.external_id}/responses"

    def answer(total: int) -> None:
        response_record(user=nurse_user, patient=patient, instrument="phq9", answers=phq9(total))

    answer(12)
    first = patient.questionnaire_responses.get()
    response_correct(user=nurse_user, response=first, answers=phq9(11), reason="Item 3 was misread")
    assert len(api.get(url).json()) == 2
    two = queries(lambda: api.get(url))
    for total in range(18):
        answer(total)
    body = api.get(url).json()
    assert len(body) == 20 and sum(1 for r in body if r["replaces"] == str(first.external_id)) == 1
    assert queries(lambda: api.get(url)) == two


def test_a_clinics_patient_list_is_chosen_by_the_location_index(staff, patient, other_patient):
    nurse_user: User = staff[Role.NURSE]
    assert patient_search(user=nurse_user) == [patient]
    assert (
        scans_of(lambda: list(patients_visible_to(nurse_user).order_by("id")[:50]), "patients_patient") == []
    )


def test_a_patient_opened_with_break_glass_joins_the_list_without_a_full_scan(staff, patient, other_patient):
    from ketaclinic.patients.access import break_glass_open

    prescriber = staff[Role.PRESCRIBER]
    break_glass_open(user=prescriber, patient=other_patient, reason="Seen in the emergency room tonight")
    visible = patients_visible_to(prescriber)
    assert set(visible) == {patient, other_patient}
    assert scans_of(lambda: list(visible.order_by("id")), "patients_patient") == []


def test_an_mrn_typed_in_lower_case_finds_the_patient_through_the_mrn_index(staff, patient, other_patient):
    nurse_user = staff[Role.NURSE]
    assert patient_search(user=nurse_user, query=patient.mrn.lower()) == [patient]
    assert patient_find_elsewhere(user=nurse_user, mrn=f" {other_patient.mrn.lower()} ") == other_patient
    assert (
        scans_of(lambda: patient_search(user=nurse_user, query=patient.mrn.lower()), "patients_patient") == []
    )
    assert (
        scans_of(
            lambda: patient_find_elsewhere(user=nurse_user, mrn=other_patient.mrn.lower()), "patients_patient"
        )
        == []
    )


def test_the_audit_trail_pages_by_entry_number_without_counting_the_trail(staff, patient, client_for):
    from ketaclinic.audit.models import AuditEntry
    from ketaclinic.audit.services import audit_record

    admin = client_for(staff[Role.ADMIN])
    for n in range(120):
        audit_record(action="export", summary=f"export number {n}", patient=patient)
    with CaptureQueriesContext(connection) as ctx:
        first = admin.get("/audit/", {"action": "export"})
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    exports = list(AuditEntry.objects.filter(action="export").order_by("-seq").values_list("seq", flat=True))
    page1 = first.content.decode()
    assert "export number 119" in page1 and "export number 70" in page1 and "export number 69" not in page1
    assert f'href="?before={exports[49]}&action=export&patient="' in page1 and "?after=" not in page1
    page2 = admin.get("/audit/", {"before": exports[49], "action": "export"}).content.decode()
    assert "export number 69" in page2 and "export number 20" in page2 and "export number 70" not in page2
    assert f'href="?after={exports[50]}&action=export&patient="' in page2
    page3 = admin.get("/audit/", {"before": exports[99], "action": "export"}).content.decode()
    assert "export number 19" in page3 and "export number 0<" in page3 and "?before=" not in page3
    back = admin.get("/audit/", {"after": exports[50], "action": "export"}).content.decode()
    assert "export number 119" in back and "export number 70" in back and "export number 69" not in back
    assert "?after=" not in back
