"""Every dashboard definition on a hand-made dataset with known answers, filters, CSV, query count."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.core.access import Role
from ketaclinic.outcomes import selectors
from ketaclinic.outcomes.services import response_record
from tests.accounts.conftest import refer
from tests.conftest import register
from tests.outcomes.conftest import at, gad7, phq9

pytestmark = pytest.mark.django_db
YEAR = selectors.DashboardFilters(start=date(2026, 1, 1), end=date(2026, 11, 24))


def add(user, patient, instrument, answers, days, timepoint):
    return response_record(
        user=user,
        patient=patient,
        instrument=instrument,
        answers=answers,
        authored_at=at(days),
        timepoint=timepoint,
    )


@pytest.fixture
def dataset(staff, downtown, northside):
    """A: 20 (ideation) -> 12 -> 10 on day 14 -> 8: responder at day 14, ideation resolved; GAD-7 14 -> 7.
    B: 15 -> 7 on day 7 -> 4: responder at day 7, remission; GAD-7 10 -> 8.
    C: 12 (ideation) -> 10 (ideation still): no response.
    D: 8 -> 2: baseline below 10, counts only in the mean change.
    E: 20, no post-series answer: not a completer.  F: 20 -> 5, but the endpoint is in 2025: outside.
    G (Northside, PTSD): 18 -> 6."""
    u = staff[Role.NURSE]
    people = {k: register(u, downtown, given_name=k, family_name=f"Test{k}") for k in "ABCDEF"}
    refer(staff[Role.INTAKE], people["A"])  # indication trd for A
    a, b, c, d, e, f = (people[k] for k in "ABCDEF")
    add(u, a, "phq9", phq9(20, 1), 0, "baseline")
    add(u, a, "phq9", phq9(12, 1), 7, "pre_infusion")
    add(u, a, "phq9", phq9(10), 14, "follow_up")
    add(u, a, "phq9", phq9(8), 35, "post_series")
    add(u, a, "gad7", gad7(14), 0, "baseline")
    add(u, a, "gad7", gad7(7), 35, "post_series")
    add(u, b, "phq9", phq9(15), 0, "baseline")
    add(u, b, "phq9", phq9(7), 7, "pre_infusion")
    add(u, b, "phq9", phq9(4), 35, "post_series")
    add(u, b, "gad7", gad7(10), 0, "baseline")
    add(u, b, "gad7", gad7(8), 35, "post_series")
    add(u, c, "phq9", phq9(12, 1), 0, "baseline")
    add(u, c, "phq9", phq9(10, 1), 35, "post_series")
    add(u, d, "phq9", phq9(8), 0, "baseline")
    add(u, d, "phq9", phq9(2), 35, "post_series")
    add(u, e, "phq9", phq9(20), 0, "baseline")
    add(u, f, "phq9", phq9(20), -120, "baseline")
    add(u, f, "phq9", phq9(5), -90, "post_series")  # 2025-12-02
    from tests.conftest import make_staff

    north_nurse = make_staff(Role.NURSE, northside, username="nurse.north")
    g = register(north_nurse, northside, given_name="G", family_name="TestG")
    add(north_nurse, g, "phq9", phq9(18), 0, "baseline")
    add(north_nurse, g, "phq9", phq9(6), 35, "post_series")
    return people


def test_every_definition_on_known_answers(dataset, downtown, staff):
    d = selectors.outcomes_dashboard(
        user=staff[Role.PRESCRIBER],
        filters=selectors.DashboardFilters(YEAR.start, YEAR.end, location=downtown),
    )
    assert d.completed == 4  # A, B, C, D
    assert (d.response_rate.numerator, d.response_rate.n, d.response_rate.value) == (
        2,
        3,
        66.7,
    )  # A, B of A, B, C
    assert (d.response_rate.low, d.response_rate.high, d.response_rate.method) == (20.8, 93.9, "Wilson")
    assert (d.remission_rate.numerator, d.remission_rate.n, d.remission_rate.value) == (1, 3, 33.3)  # B
    # (60 + 73.33 + 16.67 + 75) / 4 = 56.25; s = 27.18; t(3) = 3.182 -> ± 43.25
    assert (d.phq9_change.n, d.phq9_change.method) == (4, "t")
    assert d.phq9_change.value == pytest.approx(56.25, abs=0.051)
    assert d.phq9_change.low == pytest.approx(13.0, abs=0.15) and d.phq9_change.high == pytest.approx(
        99.5, abs=0.15
    )
    assert (d.gad7_change.n, d.gad7_change.value) == (2, 35.0)  # (50 + 20) / 2
    assert (d.ideation_resolved.numerator, d.ideation_resolved.n, d.ideation_resolved.value) == (
        1,
        2,
        50.0,
    )  # A of A, C
    assert (d.time_to_response.n, d.time_to_response.value, d.time_to_response_median) == (
        2,
        10.5,
        10.5,
    )  # 14, 7 days
    assert dict(d.change_histogram) == {"worse": 0, "0–24%": 1, "25–49%": 0, "50–74%": 2, "75–100%": 1}


def test_location_and_indication_filters_and_all_locations(dataset, staff):
    everyone = selectors.outcomes_dashboard(user=staff[Role.ADMIN], filters=YEAR)
    assert everyone.completed == 5 and everyone.response_rate.n == 4 and everyone.response_rate.numerator == 3
    trd = selectors.outcomes_dashboard(
        user=staff[Role.ADMIN], filters=selectors.DashboardFilters(YEAR.start, YEAR.end, indication="trd")
    )
    assert trd.completed == 1 and trd.response_rate.numerator == 1
    old = selectors.outcomes_dashboard(
        user=staff[Role.ADMIN], filters=selectors.DashboardFilters(date(2025, 11, 1), date(2025, 12, 31))
    )
    assert old.completed == 1 and old.remission_rate.numerator == 0 and old.response_rate.numerator == 1  # F


def test_a_correction_replaces_the_answer_in_the_figures(dataset, staff, downtown):
    from ketaclinic.outcomes.models import QuestionnaireResponse
    from ketaclinic.outcomes.services import response_correct

    c_end = QuestionnaireResponse.objects.get(patient=dataset["C"], timepoint="post_series")
    response_correct(
        user=staff[Role.NURSE], response=c_end, answers=phq9(6), reason="Entered the wrong sheet"
    )
    d = selectors.outcomes_dashboard(
        user=staff[Role.PRESCRIBER],
        filters=selectors.DashboardFilters(YEAR.start, YEAR.end, location=downtown),
    )
    assert d.completed == 4 and d.response_rate.numerator == 3 and d.ideation_resolved.numerator == 2


def test_the_query_count_does_not_grow_with_the_data(dataset, staff, downtown):
    user = staff[Role.PRESCRIBER]
    user.can  # noqa: B018 - permissions are attributes, no query
    with CaptureQueriesContext(connection) as small:
        selectors.outcomes_dashboard(user=user, filters=YEAR)
    for n in range(15):
        p = register(staff[Role.NURSE], downtown, given_name=f"X{n}", family_name="More")
        add(staff[Role.NURSE], p, "phq9", phq9(16), 0, "baseline")
        add(staff[Role.NURSE], p, "phq9", phq9(6), 30, "post_series")
    with CaptureQueriesContext(connection) as large:
        d = selectors.outcomes_dashboard(user=user, filters=YEAR)
    assert d.completed == 20
    assert (
        len(small) == len(large) == 3
    )  # PHQ-9 and GAD-7 completers, PHQ-9 history for the published measures


def test_the_page_shows_figures_definitions_and_exports_csv(dataset, staff, client_for):
    client = client_for(staff[Role.PRESCRIBER])
    page = client.get("/outcomes/dashboard/?start=2026-01-01&end=2026-11-24&location=downtown")
    body = page.content.decode()
    assert page.status_code == 200
    assert "66.7%" in body and "20.8 to 93.9 (Wilson)" in body and "n = 3" in body and "Definitions" in body
    assert "Wilson score intervals for proportions" in body
    assert "TestA" not in body  # aggregates only
    csv = client.get("/outcomes/dashboard.csv?start=2026-01-01&end=2026-11-24&location=downtown")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("measure,value,unit,ci95_low,ci95_high,interval,n")
    by_key = {line.split(",")[0]: line for line in lines[1:]}
    assert by_key["response_rate"].startswith(
        "response_rate,66.7,%,20.8,93.9,Wilson,3,2,2026-01-01,2026-11-24,downtown,all"
    )
    api = client.get("/api/outcomes/dashboard?start=2026-01-01&end=2026-11-24&location=downtown").json()
    assert api["completed"] == 4 and api["measures"]["remission_rate"]["value"] == 33.3


def test_pages_for_a_patient_and_the_escalation_on_the_prescribers_dashboard(dataset, staff, client_for):
    nurse = staff[Role.NURSE]
    response_record(user=nurse, patient=dataset["E"], instrument="phq9", answers=phq9(15, 2))
    home = client_for(staff[Role.PRESCRIBER]).get("/dashboard/").content.decode()
    assert "URGENT: safety flags to assess" in home and dataset["E"].display_name in home
    page = client_for(nurse).get(f"/outcomes/patient/{dataset['A'].external_id}/").content.decode()
    assert "responder since" in page and "Due questionnaires" in page
    svg = client_for(nurse).get(f"/outcomes/patient/{dataset['A'].external_id}/chart/phq9.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    form = client_for(nurse).post(
        f"/outcomes/patient/{dataset['E'].external_id}/record/phq9/",
        {"timepoint": "ad_hoc", **{f"phq9_{i}": 1 for i in range(1, 10)}},
        follow=True,
    )
    assert "URGENT safety flag raised" in form.content.decode()
    billing = client_for(staff[Role.BILLING]).get("/dashboard/").content.decode()
    assert "URGENT" not in billing
