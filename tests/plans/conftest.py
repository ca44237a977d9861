"""A patient with a signed eligible TRD screening, chairs at Downtown, a mobile location, all made by the
real services (the access tests' clinic helpers)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import Chair, Location
from ketaclinic.core.access import Role
from ketaclinic.plans.services import plan_draft
from ketaclinic.screening.services import screening_sign
from tests.accounts.conftest import refer, screen


def eligible_screening(staff, patient):
    s = screen(staff[Role.INTAKE], patient, refer(staff[Role.INTAKE], patient))
    return screening_sign(
        user=staff[Role.PRESCRIBER], screening=s, outcome="eligible", note="Reviewed in interview: eligible."
    )


def next_monday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def chairs(downtown) -> list[Chair]:
    return [Chair.objects.create(location=downtown, name=f"Chair {n}") for n in (1, 2)]


@pytest.fixture
def mobile(db) -> Location:
    """Home visits within 15 miles of the centre of ZIP 02110 (downtown Boston)."""
    return Location.objects.create(
        code="mobile",
        name="Mobile infusions",
        kind=Location.Kind.MOBILE,
        service_centre_postal_code="02110",
        service_radius_miles=15,
    )


@pytest.fixture
def eligible(staff, patient, protocols):
    return eligible_screening(staff, patient)


def draft(staff, patient, screening, seat, **kw):
    args = dict(
        user=staff[Role.PRESCRIBER],
        patient=patient,
        screening=screening,
        start=next_monday(),
        weekdays=(0, 3),
        at=time(9),
        location=seat.location if seat is not None else None,
        chair=seat,
    )
    args.update(kw)
    return plan_draft(**args)


@pytest.fixture
def plan(staff, patient, eligible, chairs):
    return draft(staff, patient, eligible, chairs[0])
