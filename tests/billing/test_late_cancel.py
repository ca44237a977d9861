"""The late-cancellation fee: a patient's cancellation less than the price list's hours before the start is
charged the fee once, through the ledger, with the reason; the clinic's own cancellation and an early one
are not; the cancel form says a fee applies before the desk confirms; a clerk waives it by reversal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.billing import services as b
from ketaclinic.billing.models import LateCancelFee, LedgerEntry, PriceList
from ketaclinic.billing.selectors import balance_cents
from ketaclinic.core.access import Role
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.services import appointment_book, appointment_cancel
from tests.scheduling.conftest import kind, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(db) -> None:
    PriceList.objects.update(late_cancel_hours=24, late_cancel_fee_cents=7_500)


def booked(staff, patient, downtown, desk, hours_ahead: float) -> Appointment:
    """A consultation booked in the desk's hours, then (as if booked long ago) starting ``hours_ahead`` from
    now."""
    a = appointment_book(
        user=staff[Role.INTAKE],
        patient=patient,
        kind=kind("consultation"),
        location=downtown,
        start=local(desk["monday"] + timedelta(days=1), 10),
        staff=staff[Role.PRESCRIBER],
        room=desk["room"],
    )
    start = timezone.now() + timedelta(hours=hours_ahead)
    Appointment.objects.filter(pk=a.pk).update(start=start, end=start + (a.end - a.start))
    a.refresh_from_db()
    return a


def fees() -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(kind="charge", description__startswith="Late-cancellation fee"))


def test_a_late_cancellation_by_the_patient_is_charged_the_fee_once(staff, patient, downtown, desk, policy):
    a = booked(staff, patient, downtown, desk, hours_ahead=23.5)
    appointment_cancel(
        user=staff[Role.INTAKE], appointment=a, reason="Feeling unwell", cancelled_by="patient"
    )
    [fee] = fees()
    assert fee.amount_cents == 7_500 and "Feeling unwell" in fee.reason and "24 hours" in fee.reason
    assert balance_cents(b.account_for(patient)) == 7_500
    assert AuditEntry.objects.filter(summary__startswith="Charge of $75.00: Late-cancellation fee").exists()
    assert (
        b.late_cancel_fee_charge(user=staff[Role.INTAKE], appointment=a, by="patient") is None
    )  # idempotent
    assert len(fees()) == 1 and LateCancelFee.objects.get().charge == fee


@pytest.mark.parametrize(
    ("hours_ahead", "by", "charged"),
    [(24.1, "patient", False), (23.9, "patient", True), (1, "clinic", False), (-1, "patient", True)],
)
def test_only_a_late_cancellation_by_the_patient_is_charged(
    staff, patient, downtown, desk, policy, hours_ahead, by, charged
):
    a = booked(staff, patient, downtown, desk, hours_ahead=hours_ahead)
    appointment_cancel(user=staff[Role.INTAKE], appointment=a, reason="Rebooking", cancelled_by=by)
    assert bool(fees()) is charged


def test_no_fee_on_the_price_list_charges_nothing(staff, patient, downtown, desk):
    PriceList.objects.update(late_cancel_fee_cents=0)
    a = booked(staff, patient, downtown, desk, hours_ahead=2)
    appointment_cancel(user=staff[Role.INTAKE], appointment=a, reason="Rebooking")
    assert fees() == [] and not LedgerEntry.objects.exists()


def test_the_cancel_form_says_a_fee_applies_and_the_clinic_can_cancel_without_it(
    client_for, staff, patient, downtown, desk, policy
):
    client = client_for(staff[Role.INTAKE])
    later = booked(staff, patient, downtown, desk, hours_ahead=72)
    early = client.get(f"/desk/appointments/{later.external_id}/").content.decode()
    assert 'data-testid="cancel-form"' in early and 'data-testid="cancel-notice"' not in early
    Appointment.objects.filter(pk=later.pk).update(status="cancelled", cancel_reason="test setup")
    a = booked(staff, patient, downtown, desk, hours_ahead=3)
    page = client.get(f"/desk/appointments/{a.external_id}/").content.decode()
    assert "A late-cancellation fee of $75.00 applies: the start is less than 24 hours away." in page
    r = client.post(
        f"/desk/appointments/{a.external_id}/cancel/",
        {"reason": "Chair out of order", "cancelled_by": "clinic"},
    )
    assert r.status_code == 302 and fees() == []


def test_a_billing_clerk_waives_the_fee_by_reversing_it_with_a_reason(staff, patient, downtown, desk, policy):
    a = booked(staff, patient, downtown, desk, hours_ahead=5)
    appointment_cancel(user=staff[Role.INTAKE], appointment=a, reason="Car broke down")
    [fee] = fees()
    b.entry_reverse(user=staff[Role.BILLING], entry=fee, reason="Waived: first late cancellation")
    assert balance_cents(b.account_for(patient)) == 0
