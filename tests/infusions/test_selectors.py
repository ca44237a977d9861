"""Reads: the live session detail, the day board (bounded queries), the MAR and the chart series."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.accounts.models import Chair
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from tests.clock import daytime
from tests.conftest import make_staff, register
from tests.infusions.conftest import STATES, ensure_plan, fresh, schedule, vitals, walk

pytestmark = pytest.mark.django_db


def test_detail_of_a_running_session(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    vitals(nurse, session, session.started_at + timedelta(minutes=41), heart_rate_bpm=140)
    now = session.started_at + timedelta(minutes=60)
    d = selectors.session_detail(user=nurse, session=session, now=now)
    order = d.signed_order
    # Still "running" an hour into a 40-minute order: the pump stopped when the bag ran empty, never more than
    # it held.
    assert d.delivery.delivered_ml == pytest.approx(order.vtbi_ml)
    assert d.delivery.delivered_mg == pytest.approx(order.vtbi_ml * order.concentration_mg_per_ml, rel=1e-6)
    assert d.delivery.delivered_mg <= order.dose_mg + 1e-6
    assert d.delivery.vtbi_reached_at is not None and d.delivery.stop_pump
    assert d.delivery.elapsed_min == pytest.approx(60)
    assert [a.rule for a in d.open_alerts] == ["heart_rate_high"]
    assert d.vitals_due.due_at == session.started_at + timedelta(minutes=51) and d.vitals_due.overdue
    assert d.checklist.passed and d.signed_order is not None


def test_observation_remaining_while_recovering(session, nurse, prescriber):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    d = selectors.session_detail(user=nurse, session=session, now=session.ended_at + timedelta(minutes=10))
    assert d.observation_remaining_min == pytest.approx(20)
    assert d.vitals_due.due_at == session.ended_at + timedelta(minutes=15)


def test_the_day_board_shows_every_chair_and_home_visit_in_a_bounded_number_of_queries(
    nurse, prescriber, intake, downtown, depression, chair
):
    daytime(downtown.timezone)  # every session on one local day
    chairs = [chair, *(Chair.objects.create(location=downtown, name=f"Chair {n}") for n in (2, 3, 4, 5, 6))]
    patients = [
        register(intake, downtown, given_name=f"P{n}", family_name="Board", email=f"p{n}@example.org")
        for n in range(len(STATES))
    ]
    for state, p, c in zip(STATES, patients, chairs + [None], strict=False):
        if c is None:
            ensure_plan(p)
        session = (
            schedule(nurse, p, depression, c)
            if c
            else s.session_schedule(
                user=nurse,
                patient=p,
                protocol_version=depression,
                at_home=True,
                scheduled_start=timezone.now() - timedelta(minutes=160),
                added_reason="Home visit added to the plan",
            )
        )
        walk(session, state, nurse=nurse, prescriber=prescriber)
    day = session.scheduled_start.astimezone(
        ZoneInfo(downtown.timezone)
    ).date()  # their local day (not always today)
    with CaptureQueriesContext(connection) as ctx:
        board = selectors.day_board(user=nurse, location=downtown, day=day)
        rows = board.rows
    board_queries = [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT") and "audit_" not in q["sql"]
    ]
    # sessions, pump events, readings (only a complete set resets the due clock), signed orders (the bag caps
    # the delivered dose), open alerts, the user's break-glass accesses (read first: the patients' filter is
    # an index range on the location), planned slots, safety flags, chairs (outside a request the read is
    # audited at once)
    assert len(board_queries) == 9, "\n".join(q[:50] + " … " + q[-60:] for q in board_queries)
    assert sorted(r.state.value for r in rows) == sorted(
        ["scheduled", "checked_in", "prechecks_done", "running", "recovering", "discharged", "discharged"]
    )
    assert board.chairs[-1].chair is None and len(board.chairs[-1].rows) == 1  # the home visit
    running = next(r for r in rows if r.state.value == "running")
    assert running.delivery.delivered_mg > 0 and running.overdue  # last reading 40 min in, long ago


def test_the_board_is_for_ones_own_locations(nurse, northside):
    with pytest.raises(PermissionDenied):
        selectors.day_board(user=nurse, location=northside)


def test_the_mar_lists_ketamine_with_rates_and_rescue_medications(session, nurse, prescriber, patient, staff):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    s.administration_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        medication="ondansetron",
        dose="4",
        unit="mg",
        route="iv",
        reason="Nausea",
    )
    s.infusion_stop(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    entries = selectors.mar_for_session(user=staff["billing"], session=session)
    assert [e.medication for e in entries] == ["ketamine", "ondansetron"]
    ket = entries[0]
    assert (
        ket.rxnorm == "6130"
        and ket.ended_at is not None
        and [r["kind"] for r in ket.rates] == ["start", "stop"]
    )
    assert entries[1].dose == "4" and entries[1].route == "iv"
    assert len(selectors.mar_for_patient(user=nurse, patient=patient)) == 2
    with pytest.raises(PermissionDenied):
        selectors.mar_for_session(user=staff["intake"], session=session)


def test_the_chart_has_vitals_and_the_predicted_concentration(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    chart = selectors.vitals_chart(user=nurse, session=session)
    assert [v["phase"] for v in chart.vitals] == ["baseline", "infusion", "infusion", "infusion", "infusion"]
    assert chart.vitals[0]["minute"] < 0 and chart.vitals[1]["minute"] == pytest.approx(10)
    assert chart.predicted[0] == (0.0, 0.0) and max(c for _, c in chart.predicted) > 50
    assert "model prediction" in chart.predicted_note
    assert chart.predicted_given[0] == (0.0, 0.0) and chart.predicted_given[-1][0] >= 99  # 40 min given, +60


def test_other_locations_cannot_read_a_session(session, northside):
    far = make_staff("nurse", northside, username="nurse.far")
    with pytest.raises(PermissionDenied):
        selectors.session_get(user=far, external_id=str(session.external_id))
