"""The two polled fragments (the live page's status box and the day board, every 15 s on every open page) read
only a fingerprint of the session's rows when nothing changed since the last poll, and the rows again when
something did: the same number of queries however long the session or busy the board, and a poll after a
change shows the change (a reading and its alert, an acknowledgement, a pump pause, a safety flag, readings
falling overdue)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.accounts.models import Chair
from ketaclinic.core.access import Role
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession, VitalAlert
from ketaclinic.outcomes.services import response_record
from tests.clock import advance, daytime
from tests.conftest import register
from tests.infusions.conftest import fresh, schedule, vitals, walk
from tests.infusions.test_board import PHQ9_ITEM9
from tests.web.test_page_costs import queries

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def status_url(session: InfusionSession) -> str:
    return f"/sessions/{session.external_id}/status/"


def board_url(session: InfusionSession) -> str:
    day = session.scheduled_start.astimezone(ZoneInfo(session.location.timezone)).date()
    return f"/sessions/board/?location={session.location.code}&date={day.isoformat()}"


def poll(client, url: str) -> str:
    response = client.get(url, **HX)
    assert response.status_code == 200 and "<html" not in response.content.decode()
    return response.content.decode()


def steady(client, url: str) -> int:
    """The queries of a poll that follows another poll (what every open page does every 15 s)."""
    poll(client, url)
    return queries(lambda: poll(client, url))


def test_a_status_poll_makes_as_many_queries_for_20_readings_as_for_4(session, nurse, prescriber, client_for):
    running = walk(session, "running", nurse=nurse, prescriber=prescriber)  # four readings
    client = client_for(nurse)
    four = steady(client, status_url(running))
    for minute in range(1, 17):
        advance(1)
        vitals(nurse, fresh(running), timezone.now(), heart_rate_bpm=60 + minute)
    assert "Next vital signs due" in poll(client, status_url(running))
    assert steady(client, status_url(running)) == four
    # the sign-in's session and user, the session with its fingerprint, the user's locations, the audit
    # trail's check for this read a moment ago (in production remembered in the cache once committed)
    assert four <= 5, four


def test_a_board_poll_makes_as_many_queries_for_6_running_sessions_as_for_2(
    nurse, prescriber, intake, downtown, depression, chair, client_for
):
    daytime(downtown.timezone)  # six sessions walked forward stay on one local day (CI crossed midnight)
    client = client_for(nurse)
    sessions = []

    def running(n: int) -> None:
        patient = register(
            intake, downtown, given_name=f"P{n}", family_name="Board", email=f"p{n}@example.org"
        )
        seat = chair if n == 0 else Chair.objects.create(location=downtown, name=f"Chair {n + 1}")
        sessions.append(
            walk(schedule(nurse, patient, depression, seat), "running", nurse=nurse, prescriber=prescriber)
        )

    for n in range(2):
        running(n)
    url = board_url(sessions[0])
    assert poll(client, url).count("Running") == 2
    two = steady(client, url)
    for n in range(2, 6):
        running(n)
    assert poll(client, url).count("Running") == 6
    assert steady(client, url) == two
    # the sign-in's session and user, the user's locations, the location, the sessions with their
    # fingerprints, the user's break-glass accesses, the planned slots, the flags, the chairs, the audit
    # trail's check (none of the sessions' pump events, readings, orders or alerts: unchanged)
    assert two <= 10, two


def test_steady_polls_never_read_a_protocol_document(session, nurse, prescriber, client_for):
    """A protocol version's document is about 20 kB of JSON; a poll uses the version validated once per
    process, so neither poll carries the document from the database on every call (it did, per row)."""
    running = walk(session, "running", nurse=nurse, prescriber=prescriber)
    client = client_for(nurse)
    document = '"protocols_protocolversion"."document"'
    for url in (status_url(running), board_url(running)):
        poll(client, url)
        with CaptureQueriesContext(connection) as ctx:
            assert "Running" in poll(client, url)
        assert ctx.captured_queries, url
        assert not [q["sql"] for q in ctx.captured_queries if document in q["sql"]], url


def test_a_status_poll_after_a_change_shows_it(session, nurse, prescriber, staff, client_for):
    running = walk(session, "running", nurse=nurse, prescriber=prescriber)
    client = client_for(nurse)
    url = status_url(running)
    before = poll(client, url)
    assert 'data-testid="alert"' not in before and "Running" in before
    assert poll(client, url).count('data-testid="alert"') == 0  # from the cache: still nothing

    advance(1)
    vitals(nurse, fresh(running), timezone.now(), systolic_mmhg=190)
    body = poll(client, url)
    assert body.count('data-testid="alert"') == 1 and "190" in body

    alert = VitalAlert.objects.get(session=running, acknowledged_at__isnull=True)
    s.alert_acknowledge(user=nurse, alert=alert, note="Repeated: 150")
    assert 'data-testid="alert"' not in poll(client, url)

    response_record(user=staff[Role.INTAKE], patient=running.patient, instrument="phq9", answers=PHQ9_ITEM9)
    assert 'data-testid="safety-flag"' in poll(client, url)

    running = fresh(running)
    s.infusion_pause(user=nurse, session=running, expected_version=running.version, reason="Nausea")
    body = poll(client, url)
    assert "Paused" in body and ">0.0 mg/h" in body  # the pump stopped


def test_readings_falling_overdue_raise_the_alert_within_one_poll_and_the_next_reading_clears_it(
    session, nurse, prescriber, client_for
):
    running = walk(session, "running", nurse=nurse, prescriber=prescriber)  # last reading now
    client = client_for(nurse)
    url, board = status_url(running), board_url(running)
    assert "Next vital signs due" in poll(client, url) and "vitals overdue" not in poll(client, board)
    advance(30)  # nothing written meanwhile: the polls' rows come from the cache, the clock moved
    body = poll(client, url)
    assert 'data-testid="overdue"' in body and body.count('data-testid="alert"') == 1
    assert "vitals overdue" in poll(client, board) and "1 alert" in poll(client, board)
    assert poll(client, url).count('data-testid="alert"') == 1  # one overdue alert, not one a poll

    vitals(nurse, fresh(running), timezone.now())
    assert 'data-testid="overdue"' not in poll(client, url)
    assert "vitals overdue" not in poll(client, board)
