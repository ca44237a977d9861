"""Shared fixtures: two locations, one staff user per role, patients at each location, protocols loaded.

Users are created through the same service the clinic uses. Prescribers and admins have a confirmed
TOTP device; ``client_for(user)`` returns a Django test client signed in *and* second-factor verified.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import settings as hypothesis_settings

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.services import staff_create
from ketaclinic.core.access import Role
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import patient_register
from ketaclinic.protocols.services import protocols_load_shipped

# Speed is measured in benchmarks, never in timed tests: no per-example deadline (on a busy two-core machine
# a 200 ms deadline fails correct code; hypothesis then reports the example as flaky).
hypothesis_settings.register_profile("ketaclinic", deadline=None)
hypothesis_settings.load_profile("ketaclinic")

PASSWORD = "correct horse battery staple"
TOTP_KEY_HEX = "3132333435363738393031323334353637383930"


def pytest_configure(config):
    """``KETACLINIC_TEST_CLOCK=HH:MM`` runs the suite at that local time of day (``tests.clock``)."""
    import os

    if at := os.environ.get("KETACLINIC_TEST_CLOCK"):
        from tests.clock import start_at_local_time

        start_at_local_time(at)


# `make test` runs its two passes side by side; each browser test module runs in one of them, so the slower
# PostgreSQL pass does not wait on every browser flow twice. On PostgreSQL (the production database): the
# flows that book, bill and remind (exclusion constraints, row locks, the ledger); on SQLite: the rest. Both
# passes still run every test that is not a browser test. Unset (pytest run by hand): every module runs.
E2E_ON_POSTGRES = frozenset(
    {
        "test_front_desk_pathway.py",
        "test_billing.py",
        "test_reminder_phone.py",
        "test_calendar.py",
        "test_resources.py",
        "test_rems.py",
        "test_inquiries.py",
    }
)


def pytest_collection_modifyitems(config, items):
    """``KETACLINIC_E2E_PASS=sqlite|postgres`` (set by the Makefile): keep this pass's share of the browser
    tests (``E2E_ON_POSTGRES``), deselect the other's."""
    import os

    share = os.environ.get("KETACLINIC_E2E_PASS", "")
    if share not in ("sqlite", "postgres"):
        return
    keep, drop = [], []
    for item in items:
        path = item.nodeid.split("::")[0]
        if path.startswith("tests/e2e/") and (
            (path.rsplit("/", 1)[1] in E2E_ON_POSTGRES) != (share == "postgres")
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _cache_cleared():
    """Rate-limit counts (django-ratelimit) live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _test_clock_reset():
    """A test that moved the clock forward (``tests.clock``, e.g. by walking a session) gets the real one
    back."""
    from tests.clock import reset

    yield
    reset()


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    """The demo clinic loaded once for a whole test module (it takes seconds): each test of the module runs
    in its own savepoint inside the module's transaction, so it sees the demo as loaded and leaves it so;
    the module's transaction is rolled back at its end. Tests use it with ``pytest.mark.django_db``."""
    from django.db import transaction

    from ketaclinic.web.demo import demo_load

    with django_db_blocker.unblock(), transaction.atomic():
        assert demo_load() is True
        yield
        transaction.set_rollback(True)


@pytest.fixture
def protocols(db):
    return {pv.protocol_id: pv for pv in protocols_load_shipped()}


@pytest.fixture
def downtown(db) -> Location:
    return Location.objects.create(code="downtown", name="Downtown Clinic")


@pytest.fixture
def northside(db) -> Location:
    return Location.objects.create(code="northside", name="Northside Clinic")


def make_staff(role: Role | str, location: Location, username: str | None = None) -> User:
    role = Role(role)
    user = staff_create(
        username=username or f"{role.value}.{location.code}",
        password=PASSWORD,
        role=role.value,
        locations=[location],
        prescriber_kind="psychiatrist" if role is Role.PRESCRIBER else "",
        first_name=role.value.title(),
        last_name="Tester",
    )
    if user.needs_second_factor:
        TOTPDevice.objects.create(user=user, name="test", key=TOTP_KEY_HEX, confirmed=True)
    return user


@pytest.fixture
def staff(downtown) -> dict[Role, User]:
    """One user of each role, all at Downtown."""
    return {role: make_staff(role, downtown) for role in Role}


@pytest.fixture
def prescriber(staff) -> User:
    return staff[Role.PRESCRIBER]


@pytest.fixture
def intake(staff) -> User:
    return staff[Role.INTAKE]


def register(user: User, location: Location, **overrides) -> Patient:
    fields: dict[str, Any] = dict(
        given_name="Maria",
        family_name="Garcia",
        birth_date=date(1985, 4, 12),
        sex_at_birth="female",
        weight=("70", "kg"),
        height=("165", "cm"),
    )
    fields.update(overrides)
    return patient_register(user=user, location=location, **fields)


@pytest.fixture
def patient(intake, downtown) -> Patient:
    return register(intake, downtown)


@pytest.fixture
def other_patient(northside) -> Patient:
    """A patient of Northside, where the ``staff`` users do not work."""
    registrar = make_staff(Role.INTAKE, northside)
    return register(
        registrar, northside, given_name="James", family_name="Nguyen", birth_date=date(1979, 9, 30)
    )


def current_totp() -> str:
    return f"{totp(bytes.fromhex(TOTP_KEY_HEX)):06d}"


@pytest.fixture
def client_for(db) -> Callable[[User], Client]:
    """A client signed in as ``user`` through the real sign-in pages (password, then TOTP when required)."""

    def make(user: User) -> Client:
        client = Client()
        response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        if user.needs_second_factor:
            response = client.post("/accounts/2fa/verify/", {"token": current_totp()})
            assert response.status_code == 302, response.content[:500]
        return client

    return make


SEED_TYPES = importlib.import_module("ketaclinic.scheduling.migrations.0003_appointment_types")


@pytest.fixture
def appointment_types(db) -> None:
    """The kinds of appointment migration 0003 seeds, put back by the migration's own ``seed`` (idempotent:
    update or create by code). A test on committed data (``transaction=True``) empties every table with
    TRUNCATE when it ends, migration data included, so a test that needs the types asks for this fixture
    instead of trusting the migration to have left them there."""
    from django.apps import apps

    SEED_TYPES.seed(apps, None)
