"""Billing fixtures: the infusion fixtures (sessions, walk), a billing clerk, the seeded packages."""

from __future__ import annotations

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


@pytest.fixture
def series(db) -> Package:
    return Package.objects.get(code="series-6")
