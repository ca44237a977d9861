"""Simultaneous bookings of one chair, one nurse or one patient give exactly one appointment.

On PostgreSQL the requests really run at once (one thread and connection each, released together by a
barrier, on committed data): the chair's row lock queues the chair's bookers, and the exclusion constraints
stop the nurse's and the patient's, whose losers are then told, like on SQLite, which resource is taken and
when it is free. SQLite takes one writer at a time, so there the same attempts run one after another.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from ketaclinic.core.access import Role
from ketaclinic.scheduling.models import Appointment, Room, StaffSkills
from ketaclinic.scheduling.services import appointment_book
from ketaclinic.scheduling.services._checks import CLASH
from tests.conftest import register
from tests.infusions.test_races import people, race, split
from tests.scheduling.conftest import kind, local, on_shift

PG = os.environ.get("DATABASE_URL", "").startswith("postgres")
N = 6  # a busy front desk: six people pressing "Book" at once


def crowd(staff, downtown, desk, n: int = N):
    """``n`` nurses on shift who give infusions, ``n`` patients and ``n`` rooms at Downtown."""
    nurses = people(Role.NURSE, downtown, n)
    for nurse in nurses:
        StaffSkills.objects.create(user=nurse, infuses=True)
        on_shift(nurse, downtown, desk["monday"], days=7)
    patients = [
        register(
            staff[Role.INTAKE],
            downtown,
            given_name=f"Racer{i}",
            family_name="Desk",
            email=f"r{i}@example.org",
        )
        for i in range(n)
    ]
    rooms = [Room.objects.create(location=downtown, name=f"Room {i + 2}") for i in range(n)]
    return nurses, patients, rooms


def assert_one(outcomes, args, field: str, resource: str) -> None:
    done, refused = split(outcomes, args)
    assert len(done) == 1, outcomes
    assert len(refused) == N - 1
    for _, exc in refused:
        assert exc.field == field, exc.message
        head = CLASH.split("{other}")[0].format(resource=resource)
        assert exc.message.startswith(head) and "Nearest free starts:" in exc.message, exc.message


@pytest.mark.django_db(transaction=PG)
def test_six_bookings_of_one_chair_at_once_give_one(staff, downtown, desk):
    nurses, patients, _ = crowd(staff, downtown, desk)
    chair, start = desk["chairs"][1], local(desk["monday"] + timedelta(days=1), 10)

    def attempt(i: int) -> Appointment:
        return appointment_book(
            user=staff[Role.INTAKE],
            patient=patients[i],
            kind=kind("esketamine"),
            location=downtown,
            start=start,
            staff=nurses[i],
            chair=chair,
        )

    args = list(range(N))
    assert_one(race(attempt, args), args, "chair", chair.name)
    assert Appointment.objects.filter(chair=chair, status="booked").count() == 1


@pytest.mark.django_db(transaction=PG)
def test_six_bookings_of_one_nurse_at_once_give_one(staff, downtown, desk):
    nurses, patients, rooms = crowd(staff, downtown, desk)
    start = local(desk["monday"] + timedelta(days=2), 11)

    def attempt(i: int) -> Appointment:
        return appointment_book(
            user=staff[Role.INTAKE],
            patient=patients[i],
            kind=kind("integration"),
            location=downtown,
            start=start + timedelta(minutes=15 * (i % 2)),
            staff=nurses[0],
            room=rooms[i],
        )

    args = list(range(N))
    assert_one(race(attempt, args), args, "staff", str(nurses[0]))
    assert Appointment.objects.filter(staff=nurses[0], status="booked").count() == 1


@pytest.mark.django_db(transaction=PG)
def test_six_bookings_of_one_patient_at_once_give_one(staff, downtown, desk):
    nurses, patients, rooms = crowd(staff, downtown, desk)
    start = local(desk["monday"] + timedelta(days=3), 14)

    def attempt(i: int) -> Appointment:
        return appointment_book(
            user=staff[Role.INTAKE],
            patient=patients[0],
            kind=kind("integration"),
            location=downtown,
            start=start,
            staff=nurses[i],
            room=rooms[i],
        )

    args = list(range(N))
    assert_one(race(attempt, args), args, "patient", "The patient")
    assert Appointment.objects.filter(patient=patients[0], status="booked").count() == 1
