"""Prior authorizations (workers' compensation and others): an infusion beyond the approved sessions
or outside the dates is refused at booking and at check-in, with nothing saved; self-pay patients are
not held."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import Location
from ketaclinic.billing.authorizations import booked_units, given_units
from ketaclinic.billing.models import InsurancePolicy, Payer, PriorAuthorization
from ketaclinic.billing.selectors import worklist
from ketaclinic.core.access import Role
from ketaclinic.core.billing.authorization import Authorization, authorization_expiring
from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.scheduling.models import Appointment, AppointmentType
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


# An authorization's days are the clinic's days: a session late in the evening on the last day, on the
# clinic's wall clock, is inside it even though it is already the next day in UTC (and on the server).
LA = ZoneInfo("America/Los_Angeles")
FIRST, LAST = date(2026, 11, 2), date(2026, 11, 20)


def la_session(session, day: date, hour: int, minute: int) -> None:
    """Move the (checked-in) session to ``day`` at ``hour:minute`` in Los Angeles."""
    Location.objects.filter(pk=session.location_id).update(timezone="America/Los_Angeles")
    at = datetime.combine(day, time(hour, minute), tzinfo=LA)
    InfusionSession.objects.filter(pk=session.pk).update(scheduled_start=at, checked_in_at=at)


@pytest.mark.parametrize(
    ("day", "hour", "minute", "inside"),
    [
        (LAST, 23, 30, True),  # 07:30 UTC the day after the last day
        (LAST + timedelta(days=1), 0, 30, False),  # 08:30 UTC the day after
        (FIRST, 0, 30, True),
        (FIRST - timedelta(days=1), 23, 30, False),  # 07:30 UTC on the first day
    ],
)
def test_an_authorizations_days_are_the_locations_days_for_sessions_and_the_worklist(
    patient, session, clerk, day, hour, minute, inside
):
    auth = authorize(patient, 6, FIRST, LAST)
    la_session(session, day, hour, minute)
    assert given_units(auth, patient.pk) == (1 if inside else 0)
    (row,) = [r for r in worklist(clerk, today=LAST - timedelta(days=3)).authorizations]
    assert row.used == (1 if inside else 0)


@pytest.mark.parametrize(("day", "hour", "inside"), [(LAST, 23, True), (LAST + timedelta(days=1), 0, False)])
def test_a_booking_late_on_the_last_local_day_counts_against_the_authorization(
    patient, nurse, appointment_types, day, hour, inside
):
    auth = authorize(patient, 6, FIRST, LAST)
    Location.objects.filter(pk=patient.location_id).update(timezone="America/Los_Angeles")
    start = datetime.combine(day, time(hour, 30), tzinfo=LA)
    Appointment.objects.create(
        location=patient.location,
        type=AppointmentType.objects.filter(is_infusion=True).first(),
        patient=patient,
        start=start,
        end=start + timedelta(minutes=20),
        staff=nurse,
        booked_by=nurse,
    )
    assert booked_units(auth, patient.pk) == (1 if inside else 0)


def test_the_account_page_counts_booked_units_as_the_booking_does(staff, patient, signed, desk, client_for):
    """The clerk sees what a booking will refuse: the authorization's infusions booked out of those approved
    (the booking's own count), beside the sessions given (the check-in's)."""
    monday = desk["monday"]
    authorize(patient, 6, monday - timedelta(days=1), monday + timedelta(days=60))
    clerk = staff[Role.BILLING]
    page = client_for(clerk).get(f"/billing/patients/{patient.external_id}/").content.decode()
    assert 'data-testid="auth-booked"' in page and "0 of 6 (6 more can be booked)" in page
    plan_series_book(user=staff[Role.NURSE], plan=signed, staff=staff[Role.NURSE])
    page = client_for(clerk).get(f"/billing/patients/{patient.external_id}/").content.decode()
    auth = PriorAuthorization.objects.get(number="PA-2026-0042")
    assert booked_units(auth, patient.pk) == 6
    assert "6 of 6 <span" in page and "no more can be booked" in page
    assert "0 of 6 (6 left)" in page  # none given yet
