"""Prior authorizations (workers' compensation and others): an infusion beyond the approved sessions
or outside the dates is refused at booking and at check-in, with nothing saved; self-pay patients are
not held."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from ketaclinic.billing.models import InsurancePolicy, Payer, PriorAuthorization
from ketaclinic.core.access import Role
from ketaclinic.core.billing.authorization import Authorization, authorization_expiring
from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import services as s
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.services import appointment_book, plan_series_book
from tests.scheduling.conftest import kind, local

pytestmark = pytest.mark.django_db


def authorize(patient, units: int, first: date, last: date, status: str = "approved") -> PriorAuthorization:
    payer = Payer.objects.create(
        name="State Fund Workers' Comp", kind=Payer.Kind.WORKERS_COMP, payer_id="SF001"
    )
    policy = InsurancePolicy.objects.create(
        patient=patient, payer=payer, member_id="WC-88231", coverage_percent=100
    )
    return PriorAuthorization.objects.create(
        policy=policy,
        number="PA-2026-0042",
        approved_units=units,
        first_day=first,
        last_day=last,
        status=status,
    )


def test_a_series_beyond_the_authorized_sessions_is_refused_and_nothing_is_booked(
    staff, patient, signed, desk
):
    monday = desk["monday"]
    authorize(patient, 4, monday - timedelta(days=1), monday + timedelta(days=60))
    with pytest.raises(ValidationError, match="approves 4 sessions and 4 are already used"):
        plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    assert not Appointment.objects.filter(patient=patient).exists()


def test_a_booking_outside_the_authorized_dates_is_refused(staff, patient, signed, desk, downtown):
    monday = desk["monday"]
    authorize(patient, 12, monday + timedelta(days=30), monday + timedelta(days=60))
    with pytest.raises(ValidationError, match="before prior authorization .* starts"):
        plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    assert not Appointment.objects.filter(patient=patient).exists()


def test_within_the_authorization_the_series_is_booked(staff, patient, signed, desk):
    monday = desk["monday"]
    authorize(patient, 6, monday - timedelta(days=1), monday + timedelta(days=60))
    assert len(plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])) == 6
    consult = appointment_book(  # not an infusion: not held by the authorization
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("consultation"),
        location=signed.patient.location,
        start=local(monday + timedelta(days=2), 11),
        staff=staff[Role.PRESCRIBER],
        room=desk["room"],
    )
    assert consult.pk


def test_check_in_beyond_the_units_or_with_a_pending_authorization_is_refused(patient, session, nurse):
    today = timezone.localdate()
    auth = authorize(patient, 1, today - timedelta(days=10), today + timedelta(days=10), status="pending")
    with pytest.raises(ValidationError, match="is pending, not approved"):
        s.session_check_in(user=nurse, session=session, expected_version=session.version)
    session.refresh_from_db()
    assert session.checked_in_at is None
    PriorAuthorization.objects.filter(pk=auth.pk).update(status="approved", approved_units=0)
    with pytest.raises(ValidationError, match="Approved units 0 is outside the allowed range"):
        s.session_check_in(user=nurse, session=session, expected_version=session.version)
    PriorAuthorization.objects.filter(pk=auth.pk).update(approved_units=1)
    assert s.session_check_in(user=nurse, session=session, expected_version=session.version).checked_in_at


@pytest.mark.parametrize(
    ("last_day_in", "used", "expected"),
    [
        (30, 0, None),
        (14, 0, "ends in 14 days"),
        (3, 5, "ends in 3 days"),
        (-1, 0, "ended on"),
        (40, 5, "has 1 session left of 6"),
    ],
)
def test_the_worklist_names_authorizations_running_out(last_day_in, used, expected):
    today = date(2026, 12, 4)
    auth = Authorization("PA-1", 6, date(2026, 11, 1), today + timedelta(days=last_day_in))
    reason = authorization_expiring(auth, today, units_used=used)
    assert (reason is None) if expected is None else (expected in str(reason))
