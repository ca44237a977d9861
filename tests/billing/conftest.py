"""Billing fixtures: the infusion fixtures (sessions, walk), a billing clerk, the seeded packages."""

from __future__ import annotations

import importlib

import pytest

from ketaclinic.accounts.models import User
from ketaclinic.billing.models import Package
from ketaclinic.core.access import Role
from tests.infusions.conftest import chair, depression, nurse, session
from tests.plans.conftest import chairs, eligible
from tests.scheduling.conftest import desk, signed

__all__ = [
    "chair",
    "chairs",
    "depression",
    "desk",
    "eligible",
    "nurse",
    "session",
    "signed",
]


@pytest.fixture
def clerk(staff) -> User:
    return staff[Role.BILLING]


SEED_PACKAGES = importlib.import_module("ketaclinic.billing.migrations.0003_seed_packages")


@pytest.fixture(autouse=True)
def seeded_packages(db) -> None:
    """The seeds' packages and prices, put back by the migration's own (idempotent) function: a test on
    committed data (``transaction=True``, the PostgreSQL races) empties every table when it ends, migration
    data included."""
    from django.apps import apps

    SEED_PACKAGES.forwards(apps, None)


@pytest.fixture
def series(db) -> Package:
    return Package.objects.get(code="series-6")
