"""Reports read from the replica when one is configured; writes, clinical pages and reads inside a write stay
on the primary. In tests the replica is a test mirror of the primary (a second connection to the same
database), so each test can see which connection a page's queries went through."""

from __future__ import annotations

import os
import runpy
from datetime import date

import pytest
from django.db import OperationalError, connections, router, transaction
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.db_routing import report_database
from ketaclinic.core.access import Role
from ketaclinic.outcomes.models import DashboardEndpoint, QuestionnaireResponse
from ketaclinic.outcomes.services import response_record
from ketaclinic.web.settings import base as base_settings
from tests.conftest import register
from tests.outcomes.conftest import at, phq9

# A replica is a PostgreSQL feature. Its connection sees only what the primary has committed, so these tests
# commit (transaction=True, emptied after by TRUNCATE); the tests' SQLite cannot be emptied that way (its
# append-only triggers refuse DELETE), so there only the tests that need no data run.
PG = os.environ.get("DATABASE_URL", "").startswith("postgres")
postgresql = pytest.mark.skipif(not PG, reason="a streaming replica is a PostgreSQL feature")
committed = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
RESPONSES = QuestionnaireResponse._meta.db_table
ENDPOINTS = DashboardEndpoint._meta.db_table
AUDIT = AuditEntry._meta.db_table
DASHBOARD = "/outcomes/dashboard/?start=2026-01-01&end=2026-11-24"


@pytest.fixture
def replica_configured(settings):
    settings.KETACLINIC_REPORTS_DATABASE = "replica"


@pytest.fixture
def two_completers(staff, downtown):
    """A: PHQ-9 20 -> 8 (a responder); B: 15 -> 4 (a responder in remission)."""
    nurse = staff[Role.NURSE]
    people = {k: register(nurse, downtown, given_name=k, family_name="Replica") for k in "AB"}
    for name, (first, last) in {"A": (20, 8), "B": (15, 4)}.items():
        for total, days, timepoint in ((first, 0, "baseline"), (last, 35, "post_series")):
            response_record(
                user=nurse,
                patient=people[name],
                instrument="phq9",
                answers=phq9(total),
                authored_at=at(days),
                timepoint=timepoint,
            )
    return people


def _touching(queries: list[dict[str, str]], table: str) -> list[str]:
    return [q["sql"] for q in queries if table in q["sql"]]


@postgresql
@committed
def test_the_dashboard_reads_its_figures_from_the_replica(
    replica_configured, two_completers, staff, client_for
):
    client = client_for(staff[Role.PRESCRIBER])
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        page = client.get(DASHBOARD)
        csv = client.get(DASHBOARD.replace("dashboard/", "dashboard.csv"))
        api = client.get("/api/outcomes/dashboard?start=2026-01-01&end=2026-11-24")
    assert api.status_code == 200 and api.json()["completed"] == 2
    assert page.status_code == 200 and page.context["d"].completed == 2
    assert "completed_series,2,patients" in csv.content.decode()
    # the figures came from the replica (the summaries' state, the endpoints and the measures' patients, for
    # each page) ...
    summaries = [q for q in replica.captured_queries if "outcomes_dashboard" in q["sql"]]
    assert len(summaries) == 9 and len(_touching(replica.captured_queries, ENDPOINTS)) == 3
    # ... and nothing about the answers or their summaries from the primary, which still signed the user in
    # and took the CSV's export into the audit trail
    assert _touching(primary.captured_queries, RESPONSES) == []
    assert [q for q in primary.captured_queries if "outcomes_dashboard" in q["sql"]] == []
    assert _touching(primary.captured_queries, AUDIT) != []
    assert _touching(replica.captured_queries, AUDIT) == []


@postgresql
@committed
def test_a_write_page_and_the_page_after_it_never_read_the_replica(
    replica_configured, two_completers, staff, client_for
):
    client = client_for(staff[Role.NURSE])
    patient = two_completers["A"]
    with CaptureQueriesContext(connections["replica"]) as replica:
        answer = client.post(
            f"/outcomes/patient/{patient.external_id}/record/phq9/",
            {"timepoint": "ad_hoc", **{f"phq9_{i}": 1 for i in range(1, 10)}},
            follow=True,
        )
    assert answer.status_code == 200 and answer.redirect_chain  # recorded, then the patient's page
    assert QuestionnaireResponse.objects.filter(patient=patient).count() == 3
    assert replica.captured_queries == []


@postgresql
@committed
def test_a_read_inside_a_write_transaction_stays_on_the_primary(replica_configured):
    assert report_database() == "replica"
    with transaction.atomic():
        assert report_database() == "default"
    assert report_database() == "replica"


@postgresql
@committed
def test_without_a_replica_reports_read_the_primary(two_completers, staff, client_for):
    client = client_for(staff[Role.PRESCRIBER])
    with CaptureQueriesContext(connections["replica"]) as replica:
        assert client.get(DASHBOARD).status_code == 200
    assert report_database() == "default" and replica.captured_queries == []


@postgresql
@committed
def test_the_audit_list_reads_the_replica_and_verifying_reads_the_primary(
    replica_configured, two_completers, staff, client_for
):
    client = client_for(staff[Role.ADMIN])
    newest = AuditEntry.objects.order_by("-seq").first()
    assert newest is not None
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        listing = client.get("/audit/")
    assert listing.status_code == 200 and newest.summary in listing.content.decode()
    assert len(_touching(replica.captured_queries, AUDIT)) == 1  # the page's entries (keyset pages: no count)
    assert [q for q in _touching(primary.captured_queries, AUDIT) if q.startswith("SELECT")] == []
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        verified = client.get("/audit/?verify=1")
    assert "Chain intact" in verified.content.decode()
    # the walk along the chains read the primary; the replica only the list
    assert len(_touching(replica.captured_queries, AUDIT)) == 1
    walks = [q for q in _touching(primary.captured_queries, AUDIT) if "COALESCE" in q]
    assert len(walks) == 1


@postgresql
@committed
def test_writes_and_migrations_never_go_to_the_replica():
    from_replica = QuestionnaireResponse()
    from_replica._state.db = "replica"  # as a report's row is
    assert router.db_for_write(QuestionnaireResponse, instance=from_replica) == "default"
    assert router.db_for_read(QuestionnaireResponse) == "default"  # no report asked: the primary
    assert not router.allow_migrate("replica", "outcomes")
    assert router.allow_migrate("default", "outcomes")


def test_the_settings_add_the_replica_only_when_its_address_is_given(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic")
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    plain = runpy.run_path(base_settings.__file__)
    assert "replica" not in plain["DATABASES"] and plain["KETACLINIC_REPORTS_DATABASE"] == "default"
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://postgres@10.0.0.7:5433/clinic")
    with_replica = runpy.run_path(base_settings.__file__)
    replica = with_replica["DATABASES"]["replica"]
    assert (replica["HOST"], replica["PORT"], replica["NAME"]) == ("10.0.0.7", 5433, "clinic")
    assert with_replica["KETACLINIC_REPORTS_DATABASE"] == "replica"


@postgresql
@committed
def test_a_replica_that_cannot_be_reached_sends_the_reports_to_the_primary(
    replica_configured, two_completers, staff, client_for, monkeypatch
):
    client = client_for(staff[Role.PRESCRIBER])
    connections["replica"].close()

    def refused() -> None:
        raise OperationalError("connection to server at 10.0.0.7, port 5433 failed: Connection refused")

    monkeypatch.setattr(connections["replica"], "ensure_connection", refused)
    with CaptureQueriesContext(connections["default"]) as primary:
        page = client.get(DASHBOARD)
    assert page.status_code == 200 and page.context["d"].completed == 2
    # the summaries' state, the endpoints and the measures' patients, read from the primary instead
    assert len([q for q in primary.captured_queries if "outcomes_dashboard" in q["sql"]]) == 3
    assert len(_touching(primary.captured_queries, ENDPOINTS)) == 1


@postgresql
@committed
def test_the_dashboard_figures_are_the_same_from_either_database(two_completers, staff, settings):
    from ketaclinic.outcomes import selectors

    year = selectors.DashboardFilters(start=date(2026, 1, 1), end=date(2026, 11, 24))
    primary = selectors.outcomes_dashboard(user=staff[Role.ADMIN], filters=year)
    settings.KETACLINIC_REPORTS_DATABASE = "replica"
    replica = selectors.outcomes_dashboard(user=staff[Role.ADMIN], filters=year)
    assert primary == replica and primary.completed == 2 and primary.response_rate.numerator == 2
