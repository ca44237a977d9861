"""What billing does when the front desk and the infusion room act (``ketaclinic.base.signals``), inside their
transaction: a refusal here refuses their action with nothing saved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ketaclinic.accounts.models import Location
from ketaclinic.billing.authorizations import check_covered, local_day
from ketaclinic.billing.packages import package_return, package_use
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
