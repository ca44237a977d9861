"""No chair or patient in two places: a session takes its chair (and its patient) from its start to its end
(the protocol's chair time) only when no other session and no planned infusion of another patient holds it;
twenty requests at once for one chair and time give exactly one session, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from ketaclinic.accounts.models import Chair
from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession
from tests.conftest import register
from tests.infusions.conftest import ensure_plan

REASON = "Added for the test of chair times"


def _book(nurse, patient, depression, chair, at):
    return s.session_schedule(
        user=nurse,
        patient=patient,
        protocol_version=depression,
        chair=chair,
        scheduled_start=at,
        added_reason=REASON,
    )


def test_a_taken_chair_is_refused_naming_both_times(nurse, intake, downtown, depression, chair):
    at = timezone.now() + timedelta(hours=3)
    first, second = (
        register(intake, downtown, given_name=n, family_name="Chair", email=f"{n}@example.org")
        for n in ("First", "Second")
    )
    ensure_plan(first), ensure_plan(second)
    booked = _book(nurse, first, depression, chair, at)
    assert booked.scheduled_end == at + timedelta(minutes=depression.parsed.series.chair_minutes)
    with pytest.raises(ValidationError) as exc:
        _book(nurse, second, depression, chair, at + timedelta(minutes=90))  # overlaps the last 30 min
    assert (
        exc.value.field == "chair"
        and "Chair 1 is taken" in exc.value.message
        and "another session" in exc.value.message
    )
    assert _book(nurse, second, depression, chair, booked.scheduled_end).pk  # right after it: free
    other = Chair.objects.create(location=downtown, name="Chair 2")
    with pytest.raises(ValidationError) as exc:  # the same patient in another chair at the same time
        _book(nurse, first, depression, other, at + timedelta(minutes=30))
    assert exc.value.field == "scheduled_start" and "one place at a time" in exc.value.message


def test_a_cancelled_session_frees_its_chair(nurse, intake, downtown, depression, chair):
    at = timezone.now() + timedelta(hours=3)
    first, second = (
        register(intake, downtown, given_name=n, family_name="Cancel", email=f"c{n}@example.org")
        for n in ("One", "Two")
    )
    ensure_plan(first), ensure_plan(second)
    booked = _book(nurse, first, depression, chair, at)
    s.session_cancel(user=nurse, session=booked, expected_version=booked.version, reason="Patient is unwell")
    assert _book(nurse, second, depression, chair, at).pk


def test_a_chair_held_by_another_plans_planned_infusion_is_refused(
    nurse, intake, downtown, depression, chair
):
    holder = register(intake, downtown, given_name="Holder", family_name="Plan", email="holder@example.org")
    slot = ensure_plan(holder).infusions.order_by("scheduled_start").first()
    other = register(intake, downtown, given_name="Other", family_name="Plan", email="other@example.org")
    ensure_plan(other)
    with pytest.raises(ValidationError) as exc:
        _book(nurse, other, depression, slot.chair, slot.scheduled_start + timedelta(minutes=30))
    assert "another patient's planned infusion" in exc.value.message


# On PostgreSQL the twenty run at once on their own connections, so the test's data must really commit
# (flushed after by TRUNCATE); the tests' in-memory SQLite takes one writer at a time, so there they run one
# after another.
PG = os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.mark.django_db(transaction=PG)
def test_twenty_requests_at_once_for_one_chair_give_one_session(staff, downtown, protocols):
    from ketaclinic.core.access import Role

    nurse, intake = staff[Role.NURSE], staff[Role.INTAKE]
    chair = Chair.objects.create(location=downtown, name="Race chair")
    depression = protocols["depression-standard"]
    patients = [
        register(intake, downtown, given_name=f"Race{i}", family_name="Chair", email=f"race{i}@example.org")
        for i in range(20)
    ]
    for p in patients:
        ensure_plan(p)
    at = timezone.now() + timedelta(hours=5)

    def attempt(patient):
        try:
            _book(nurse, patient, depression, chair, at)
            return "booked"
        except ValidationError as exc:
            return exc.field
        finally:
            if PG:
                connection.close()

    if PG:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(attempt, patients))
    else:
        results = [attempt(p) for p in patients]
    assert results.count("booked") == 1 and results.count("chair") == 19, results
    assert InfusionSession.objects.filter(chair=chair).count() == 1
