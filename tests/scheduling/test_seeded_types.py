"""The appointment types the clinic books come from migration 0003; a test on committed data empties every
table when it ends (TRUNCATE), so the tests that need the types re-seed them with the migration's own
function rather than trust the order tests happen to run in."""

from __future__ import annotations

import inspect

import pytest

from ketaclinic.scheduling.models import AppointmentType
from tests.accounts import conftest as accounts_conftest
from tests.conftest import SEED_TYPES
from tests.scheduling import conftest as scheduling_conftest


@pytest.mark.django_db
def test_emptied_types_come_back_from_the_fixture_once_each(request):
    AppointmentType.objects.all().delete()  # what the end of a committed-data test does to the table
    request.getfixturevalue("appointment_types")
    request.getfixturevalue("appointment_types")  # idempotent: updated, never duplicated
    codes = sorted(AppointmentType.objects.values_list("code", flat=True))
    assert codes == sorted(t[0] for t in SEED_TYPES.TYPES)
    assert AppointmentType.objects.get(code="infusion").prescriber_on_site


@pytest.mark.parametrize(
    "fixture", [accounts_conftest.clinic, scheduling_conftest.desk], ids=["every-operation clinic", "desk"]
)
def test_the_fixtures_that_book_ask_for_the_types(fixture):
    wrapped = getattr(fixture, "__wrapped__", fixture)
    assert "appointment_types" in inspect.signature(wrapped).parameters
