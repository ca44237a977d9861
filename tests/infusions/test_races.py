"""Two people (or one device retrying) doing the same thing at the same moment get it done exactly once.

Each test fires N conflicting requests at one record and checks that exactly the right number go through and
that every other one is refused with the service's own message (or, for a retried reading, answered with the
stored reading): one session for a planned slot checked in from the board by twelve nurses, one signature on
an order, one reading for twenty posts of one client id, one acknowledgement of an alert, one pause of a
running pump.

On PostgreSQL the requests really run at once: one thread and one database connection each, released together
by a barrier, on committed data (``transaction=True``, emptied after by TRUNCATE). The tests' in-memory SQLite
takes one writer at a time (threads would only find it locked), so there the same attempts run one after
another in the test's own transaction and the same outcome is asserted: what a late request sees is then
exactly what a request that waited for a lock sees on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import DomainError
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, RateEvent, VitalAlert, VitalSigns
from ketaclinic.plans.models import PlannedInfusion
from tests.conftest import make_staff
from tests.infusions.conftest import fresh, schedule, todays_plan, vitals, walk

PG = os.environ.get("DATABASE_URL", "").startswith("postgres")
N = 12  # people pressing the same button at once
RETRIES = 20  # posts of one reading by a device on a flaky network

Outcome = tuple[str, Any]  # ("ok", what the service returned) or ("refused", DomainError)


def race(attempt: Callable[[Any], Any], args: Sequence[Any]) -> list[Outcome]:
    """``attempt(arg)`` for every arg: at once on PostgreSQL (one thread and connection each, started together
    by a barrier once every thread is connected), one after another on SQLite. A refusal is an outcome, not an
    error."""

    def one(arg: Any) -> Outcome:
        try:
            return "ok", attempt(arg)
        except DomainError as exc:
            return "refused", exc

    if not PG:
        return [one(arg) for arg in args]
    barrier = threading.Barrier(len(args))

    def together(arg: Any) -> Outcome:
        try:
            connection.ensure_connection()  # connecting is slow: done before the start line, not in the race
            barrier.wait(timeout=60)
            return one(arg)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        return list(pool.map(together, args))


def split(
    outcomes: list[Outcome], args: Sequence[Any]
) -> tuple[list[tuple[Any, Any]], list[tuple[Any, DomainError]]]:
    """(arg, result) of the attempts that went through, (arg, refusal) of the others."""
    done = [(a, r) for a, (kind, r) in zip(args, outcomes, strict=True) if kind == "ok"]
    refused = [(a, r) for a, (kind, r) in zip(args, outcomes, strict=True) if kind == "refused"]
    return done, refused


def people(role: Role, downtown, n: int = N) -> list[User]:
    """``n`` colleagues of one role at Downtown, each with their own name (so a message naming one can be
    checked)."""
    made = []
    for i in range(n):
        user = make_staff(role, downtown, f"{role.value}{i}.race")
        User.objects.filter(pk=user.pk).update(first_name=f"{role.value.title()}{i}")
        made.append(User.objects.get(pk=user.pk))
    return made


def audits(patient, summary: str) -> int:
    return AuditEntry.objects.filter(
        patient_external_id=patient.external_id, summary__startswith=summary
    ).count()


STALE = re.compile(
    r"This session was changed meanwhile by (?P<who>.+) at \d\d:\d\d:\d\d; reload it and try again\."
)


def assert_stale(exc: DomainError, winner: User) -> None:
    """Refused as stale (``expected_version``) with the service's message, naming the winner as the one who
    changed the session, on PostgreSQL too, where the loser had waited for the session's row lock."""
    found = STALE.fullmatch(exc.message)
    assert exc.field == "expected_version" and found is not None, (exc.field, exc.message)
    assert found["who"] == str(winner), exc.message


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode()).replace("&#x27;", "'")


# --- 1. "Check in" on a planned slot of the board
# -----------------------------------------------------------------


@pytest.mark.django_db(transaction=PG)
def test_twelve_nurses_checking_in_one_planned_slot_at_once_give_one_session(
    staff, patient, chair, protocols, downtown, client_for
):
    """Twelve nurses press "Check in" on the same planned slot of the board at once (the real page: a POST
    each, signed in as themselves). Exactly one opens the session and lands on its live page; the eleven
    others go back to the board told, by name and time, who checked the patient in first. The slot has one
    session, checked in once.

    Can fail: without the unique constraint of one live session per slot and the slot's row lock, two or more
    sessions would be opened (count, audit). Without the row lock alone (constraint kept), the requests that
    read the slot before the winner committed would lose at the constraint instead and be told only "That
    planned infusion already has a session." (PostgreSQL) -- the exact message each loser is shown is
    asserted. With the check of an existing session removed, the later requests would be refused by the
    constraint or open a second session on SQLite too."""
    slot: PlannedInfusion = todays_plan(staff, patient, chair).infusions.order_by("sequence").first()
    nurses = people(Role.NURSE, downtown)
    clients = [client_for(n) for n in nurses]
    url = f"/sessions/board/slots/{slot.external_id}/check-in/"
    board = f"/sessions/board/?location={slot.location.code}"

    outcomes = race(lambda client: client.post(url), clients)

    session = InfusionSession.objects.select_related("created_by", "updated_by").get(planned_infusion=slot)
    assert session.state == "checked_in" and session.checked_in_at is not None
    landed = [
        (n, c)
        for n, c, (_, r) in zip(nurses, clients, outcomes, strict=True)
        if r.status_code == 302 and r["Location"] == f"/sessions/{session.external_id}/"
    ]
    sent_back = [
        (n, c)
        for n, c, (_, r) in zip(nurses, clients, outcomes, strict=True)
        if r.status_code == 302 and r["Location"] == board
    ]
    assert len(landed) == 1 and len(sent_back) == N - 1, [
        (kind, r.status_code, r.get("Location")) for kind, r in outcomes
    ]
    ((winner, _),) = landed
    assert session.created_by == winner and session.updated_by == winner and session.version == 2
    assert InfusionSession.objects.filter(planned_infusion=slot).count() == 1
    assert audits(patient, "Checked in for the infusion") == 1
    assert audits(patient, "Scheduled infusion session") == 1
    when = timezone.localtime(session.checked_in_at, ZoneInfo(slot.location.timezone)).strftime("%H:%M")
    told = s.PLANNED_ALREADY_CHECKED_IN.format(
        patient=patient.display_name, label=slot.label, when=when, who=winner
    )
    for nurse, client in sent_back:
        page = text(client.get(board))
        assert told in page, (
            str(nurse),
            re.findall(r"was already checked in[^<]*|already has a session[^<]*", page),
        )
    assert (
        text(clients[nurses.index(winner)].get(f"/sessions/{session.external_id}/")).count(
            f"{patient.display_name} checked in for infusion 1 of 6."
        )
        == 1
    )


# --- 2. signing an order
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=PG)
def test_twelve_prescribers_signing_one_order_at_once_give_one_signature(
    nurse, patient, depression, chair, downtown
):
    """Twelve prescribers sign the same order, all from a page showing the same session version. Exactly one
    signature is recorded (the order's signer and time are the winner's, never overwritten by a later one; one
    "Signed" audit entry; the session's version moves by one). The eleven others are refused as stale: "This
    session was changed meanwhile by <the winner>", field ``expected_version``.

    Can fail: without the version check, the later signers would get past the session lock and be refused by
    the order's own "already signed" check instead (field ``order``), so the field asserted here would differ;
    without the session's row lock (FOR UPDATE), on PostgreSQL the signers would all read the old version,
    pass the check and queue on the order's row, again refused with field ``order``; without both locks and
    the signed check, every signer would overwrite the signature (more than one success, several audit
    entries, version bumped N times)."""
    session = schedule(nurse, patient, depression, chair)
    session = s.session_check_in(user=nurse, session=session, expected_version=session.version)
    s.checklist_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        code="weight_today",
        value="70",
        unit="kg",
    )
    session = fresh(session)
    order = s.order_create(user=nurse, session=session, expected_version=session.version)
    version = fresh(session).version
    prescribers = people(Role.PRESCRIBER, downtown)
    copies = {p.pk: InfusionOrder.objects.select_related("session").get(pk=order.pk) for p in prescribers}

    outcomes = race(lambda p: s.order_sign(user=p, order=copies[p.pk], expected_version=version), prescribers)

    done, refused = split(outcomes, prescribers)
    assert len(done) == 1 and len(refused) == N - 1, outcomes
    ((winner, signed),) = done
    order.refresh_from_db()
    assert order.signed_by == winner and order.signed_at == signed.signed_at and order.voided_at is None
    assert InfusionOrder.objects.filter(session=session, signed_at__isnull=False).count() == 1
    assert fresh(session).version == version + 1
    assert audits(patient, "Signed infusion order") == 1
    for _, exc in refused:
        assert_stale(exc, winner)


# --- 3. one reading posted twenty times
# ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=PG)
def test_twenty_posts_of_one_reading_at_once_store_it_once_and_answer_each_with_it(
    nurse, prescriber, patient, depression, chair
):
    """A bedside device posts the same reading (same ``client_id``) twenty times at once. The documented
    behaviour (``vitals_record``: "a retry with the same client_id returns the stored reading") is asserted:
    one VitalSigns row, one audit entry; every post answered without an error with that same reading,
    ``created`` True for exactly one of them and False for the nineteen retries.

    Can fail: without the unique client id (and the session lock that makes a retry find the stored reading),
    the posts would store up to twenty readings -- twenty points on the chart and in the note for one
    measurement; without the fallback that answers a retry that lost at the unique index with the stored
    reading, those retries would get an IntegrityError (a 500 to the device) instead of the reading. (Removing
    only the session lock is not visible here: the unique index and that fallback then give the same
    answers.)"""
    session = walk(schedule(nurse, patient, depression, chair), "running", nurse=nurse, prescriber=prescriber)
    before = VitalSigns.objects.filter(session=session).count()
    recorded_before = audits(patient, "Recorded vital signs")
    client_id = "bedside-monitor-7f3c2a61-retry"
    reading: dict[str, Any] = {
        "systolic_mmhg": 131,
        "diastolic_mmhg": 82,
        "heart_rate_bpm": 77,
        "spo2_percent": 97,
        "respiratory_rate_per_min": 15,
        "sedation": "mild",
    }
    copies = [fresh(session) for _ in range(RETRIES)]

    outcomes = race(
        lambda copy: s.vitals_record(user=nurse, session=copy, client_id=client_id, **reading), copies
    )

    assert all(kind == "ok" for kind, _ in outcomes), [r for kind, r in outcomes if kind != "ok"]
    posted = [r for _, r in outcomes]
    (stored,) = VitalSigns.objects.filter(client_id=client_id)
    assert stored.session_id == session.pk and stored.heart_rate_bpm == 77 and stored.sedation == "mild"
    assert [p.created for p in posted].count(True) == 1 and [p.created for p in posted].count(
        False
    ) == RETRIES - 1
    assert {p.reading.pk for p in posted} == {stored.pk}
    assert VitalSigns.objects.filter(session=session).count() == before + 1
    assert audits(patient, "Recorded vital signs") == recorded_before + 1


# --- 4. acknowledging one alert
# -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=PG)
def test_twelve_nurses_acknowledging_one_alert_at_once_record_one_acknowledgement(
    nurse, prescriber, patient, depression, chair, downtown
):
    """An SpO2 alert during the infusion; twelve nurses acknowledge it at once, each with their own note. One
    acknowledgement is recorded -- the winner's name, time and note stay on the alert, never overwritten by a
    later one -- and one audit entry; the eleven others are told "This alert was already acknowledged by <the
    winner> at <time>" (field ``alert``).

    Can fail: without the check of an existing acknowledgement, every nurse would overwrite the
    acknowledgement (eleven more successes, the alert's acknowledged_by/at/note the last writer's). Without
    both row locks (the session's and the alert's FOR UPDATE), on PostgreSQL the nurses would all read the
    alert unacknowledged and all overwrite it. Without the session's lock alone, the nurses queue on the
    alert's lock and are refused, but told "already acknowledged by None" (the join re-checked after the wait,
    as in the xfail test below): the exact message asserted fails. Removing only the alert's lock is not
    visible (the session's lock queues them)."""
    session = walk(schedule(nurse, patient, depression, chair), "running", nurse=nurse, prescriber=prescriber)
    (alert,) = vitals(nurse, session, timezone.now(), spo2_percent=90).alerts
    assert alert.rule == "spo2_low" and alert.acknowledged_at is None
    nurses = people(Role.NURSE, downtown)
    copies = {n.pk: VitalAlert.objects.select_related("session").get(pk=alert.pk) for n in nurses}
    note = {n.pk: f"Repositioned, O2 2 L; SpO2 97 at recheck ({n.first_name})" for n in nurses}

    outcomes = race(lambda n: s.alert_acknowledge(user=n, alert=copies[n.pk], note=note[n.pk]), nurses)

    done, refused = split(outcomes, nurses)
    assert len(done) == 1 and len(refused) == N - 1, outcomes
    ((winner, acknowledged),) = done
    alert.refresh_from_db()
    assert alert.acknowledged_by == winner and alert.acknowledged_at == acknowledged.acknowledged_at
    assert alert.acknowledgement_note == note[winner.pk]
    assert audits(patient, "Acknowledged alert spo2_low") == 1
    told = (
        f"This alert was already acknowledged by {winner} at "
        f"{timezone.localtime(alert.acknowledged_at):%H:%M}."
    )
    for _, exc in refused:
        assert exc.field == "alert" and exc.message == told, (exc.field, exc.message)


# --- 5. pausing a running infusion
# --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=PG)
def test_twelve_nurses_pausing_one_running_infusion_at_once_record_one_pause(
    nurse, prescriber, patient, depression, chair, downtown
):
    """The pump runs; twelve nurses press "Pause" at once from pages showing the same version. One pause event
    is recorded (the winner's, with their reason), the session is paused and its version moves by one; the
    eleven others are refused as stale: "This session was changed meanwhile by <the winner>", field
    ``expected_version``.

    Can fail: without the version check, the later nurses (queued on the session's lock) would be refused by
    the state machine instead ("pause" while paused), not with ``expected_version``; without the session's row
    lock, on PostgreSQL they would all read the running session at the old version and each record a pause
    event (several pauses in the pump's record, and in the delivered dose computed from it)."""
    session = walk(schedule(nurse, patient, depression, chair), "running", nurse=nurse, prescriber=prescriber)
    version = session.version
    nurses = people(Role.NURSE, downtown)
    copies = {n.pk: fresh(session) for n in nurses}

    outcomes = race(
        lambda n: s.infusion_pause(
            user=n,
            session=copies[n.pk],
            expected_version=version,
            reason=f"Patient asked for a break ({n.first_name})",
        ),
        nurses,
    )

    done, refused = split(outcomes, nurses)
    assert len(done) == 1 and len(refused) == N - 1, outcomes
    ((winner, event),) = done
    (pause,) = RateEvent.objects.filter(session=session, kind=RateEvent.Kind.PAUSE)
    assert (
        pause.pk == event.pk
        and pause.recorded_by == winner
        and pause.reason == f"Patient asked for a break ({winner.first_name})"
    )
    after = fresh(session)
    assert after.state == "paused" and after.version == version + 1 and after.updated_by == winner
    assert audits(patient, "Paused the infusion") == 1
    for _, exc in refused:
        assert_stale(exc, winner)


# --- the stale refusal names who changed the session
# --------------------------------------------------------------


@pytest.mark.django_db(transaction=PG)
def test_a_request_that_waited_for_the_lock_is_told_who_changed_the_session(
    nurse, intake, patient, depression, chair
):
    """The front desk checks the patient in while a nurse's check-in of the same page (same version) waits for
    the session's lock; the nurse is refused as stale and told it was the front desk ("changed meanwhile by
    Intake Tester"), as when the two requests come one after the other.

    Deterministic: on PostgreSQL the front desk's transaction holds the lock until the nurse's request is seen
    waiting on it (pg_stat_activity), then commits. Failed on PostgreSQL while _lock joined updated_by in its
    FOR UPDATE read (the nurse was told "someone"); on SQLite requests never wait on a row lock."""
    session = schedule(nurse, patient, depression, chair)
    version = session.version
    assert fresh(session).updated_by == nurse  # the winner (the front desk) changes who last changed it

    def nurse_checks_in(copy: InfusionSession) -> Outcome:
        return race(lambda c: s.session_check_in(user=nurse, session=c, expected_version=version), [copy])[0]

    if not PG:
        s.session_check_in(user=intake, session=fresh(session), expected_version=version)
        kind, exc = nurse_checks_in(fresh(session))
    else:
        copy = fresh(session)
        with ThreadPoolExecutor(max_workers=1) as pool, transaction.atomic():
            s.session_check_in(user=intake, session=fresh(session), expected_version=version)
            waiting = pool.submit(nurse_checks_in, copy)
            with connection.cursor() as cursor:
                for _ in range(600):  # the nurse's request is waiting for the session's row lock
                    cursor.execute("select pg_stat_clear_snapshot()")
                    cursor.execute(
                        "select count(*) from pg_stat_activity where datname = current_database() "
                        "and wait_event_type = 'Lock'"
                    )
                    if cursor.fetchone()[0]:
                        break
                    time.sleep(0.05)
                else:
                    pytest.fail("the nurse's check-in never waited for the lock")
        kind, exc = waiting.result(timeout=60)
    assert kind == "refused" and fresh(session).state == "checked_in" and fresh(session).updated_by == intake
    assert exc.field == "expected_version"
    found = STALE.fullmatch(exc.message)
    assert found is not None and found["who"] == str(intake), exc.message
