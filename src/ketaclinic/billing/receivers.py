"""What billing does when the front desk and the infusion room act (``ketaclinic.base.signals``), inside their
transaction: a refusal here refuses their action with nothing saved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ketaclinic.accounts.models import Location
from ketaclinic.billing.authorizations import check_covered, local_day
from ketaclinic.billing.packages import package_return, package_use
from ketaclinic.billing.selectors import late_cancel_fee_due, late_cancel_policy
from ketaclinic.billing.services import late_cancel_fee_charge
from ketaclinic.core.billing.money import format_money
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.patients.models import Patient


def on_booking(*, patient: Patient, kind: Any, start: datetime, location: Location, **_: Any) -> None:
    if getattr(kind, "is_infusion", False):
        check_covered(patient, local_day(start, location.timezone), "booking")


def on_check_in(*, session: InfusionSession, user: Any, **_: Any) -> None:
    day = local_day(session.scheduled_start, session.location.timezone)
    check_covered(session.patient, day, "check-in", exclude_session=session.pk)
    package_use(session=session, user=user)


def on_completed(*, session: InfusionSession, user: Any, **_: Any) -> None:
    package_use(session=session, user=user)


def on_cancelled(*, session: InfusionSession, user: Any, **_: Any) -> None:
    package_return(session=session, user=user)


def on_appointment_changed(*, appointment: Any, user: Any = None, cancelled_by: str = "", **_: Any) -> None:
    """A cancellation (not a move) by the patient, late by the price list's policy: charge the fee, once."""
    if cancelled_by and appointment.status == "cancelled" and user is not None:
        late_cancel_fee_charge(user=user, appointment=appointment, by=cancelled_by)


def cancel_notice(*, appointment: Any, at: datetime, cancelled_by: str, **_: Any) -> str | None:
    """The sentence the cancel form shows when cancelling now would be charged (None: no fee)."""
    fee = late_cancel_fee_due(appointment, at=at, by=cancelled_by)
    if fee is None:
        return None
    policy = late_cancel_policy(
        appointment.location, local_day(appointment.start, appointment.location.timezone)
    )
    hours = policy.hours if policy else 0
    return (
        f"A late-cancellation fee of {format_money(fee)} applies: the start is less than {hours} hours away. "
        "It is charged to the patient's account if the patient cancels now (not if the clinic does); a "
        "billing clerk may waive it by reversing the charge with a reason."
    )
