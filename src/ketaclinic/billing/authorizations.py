"""Prior authorizations held against bookings and check-ins: a patient with an authorization on an active
policy has an infusion booked or checked in only inside an approved authorization's dates and units."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ketaclinic.billing import rules
from ketaclinic.billing.models import PriorAuthorization
from ketaclinic.core.billing.authorization import check_authorization
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment


def patient_authorizations(patient: Patient) -> list[PriorAuthorization]:
    return list(
        PriorAuthorization.objects.filter(policy__patient=patient, policy__active=True).order_by("-last_day")
    )


def utc_window(first: date, last: date) -> tuple[datetime, datetime]:
    """A window in absolute time wide enough to hold every moment whose local day, in any time zone on earth
    (UTC-12 to UTC+14), lies in ``first``..``last``; rows inside it are then kept by their own local day."""
    return (
        datetime.combine(first - timedelta(days=1), time(0), tzinfo=UTC),
        datetime.combine(last + timedelta(days=2), time(0), tzinfo=UTC),
    )


def count_in_local_days(rows: Iterable[tuple[datetime, str]], first: date, last: date) -> int:
    """How many (moment, time zone name) fall on a local day from ``first`` to ``last`` inclusive, each on the
    wall clock of its own location (never the server's)."""
    return sum(1 for at, tz_name in rows if first <= local_day(at, tz_name) <= last)


def booked_rows(patient_ids: Iterable[int], first: date, last: date) -> list[tuple[int, datetime, str]]:
    """(patient, start, time zone) of every infusion booked or done (not cancelled) whose start may fall on a
    local day from ``first`` to ``last``: what a booking counts against an authorization (one query)."""
    start, end = utc_window(first, last)
    return list(
        Appointment.objects.filter(
            patient_id__in=list(patient_ids),
            type__is_infusion=True,
            status__in=[Appointment.Status.BOOKED, Appointment.Status.DONE],
            start__gte=start,
            start__lt=end,
        ).values_list("patient_id", "start", "location__timezone")
    )


def given_rows(
    patient_ids: Iterable[int], first: date, last: date, exclude_session: int | None = None
) -> list[tuple[int, datetime, str]]:
    """(patient, scheduled start, time zone) of every session checked in and not cancelled whose day may fall
    from ``first`` to ``last``: what a check-in, the account page and the worklist count (one query)."""
    start, end = utc_window(first, last)
    sessions = InfusionSession.objects.filter(
        patient_id__in=list(patient_ids),
        scheduled_start__gte=start,
        scheduled_start__lt=end,
        checked_in_at__isnull=False,
    ).exclude(state=SessionState.CANCELLED.value)
    if exclude_session is not None:
        sessions = sessions.exclude(pk=exclude_session)
    return list(sessions.values_list("patient_id", "scheduled_start", "location__timezone"))


def units_in(rows: Iterable[tuple[int, datetime, str]], a: PriorAuthorization, patient_id: int) -> int:
    """How many of ``rows`` (from ``booked_rows`` or ``given_rows``) are the patient's on the authorization's
    local days."""
    return count_in_local_days(
        ((at, tz) for pid, at, tz in rows if pid == patient_id), a.first_day, a.last_day
    )


def booked_units(a: PriorAuthorization, patient_id: int) -> int:
    return units_in(booked_rows([patient_id], a.first_day, a.last_day), a, patient_id)


def given_units(a: PriorAuthorization, patient_id: int, exclude_session: int | None = None) -> int:
    rows = given_rows([patient_id], a.first_day, a.last_day, exclude_session)
    return units_in(rows, a, patient_id)


def check_covered(patient: Patient, day: date, used_by: str, exclude_session: int | None = None) -> None:
    """Refuse (the core's ValidationError) when the patient's authorizations do not cover one more session on
    ``day``; patients without an authorization (self-pay) are not held."""
    auths = patient_authorizations(patient)
    if not auths:
        return
    covering = [a for a in auths if a.first_day <= day <= a.last_day] or auths
    problem: ValidationError | None = None
    for a in covering:
        used = (
            booked_units(a, patient.pk)
            if used_by == "booking"
            else given_units(a, patient.pk, exclude_session)
        )
        try:
            check_authorization(rules.authorization(a), day, used)
        except ValidationError as exc:
            problem = problem or exc
            continue
        return
    assert problem is not None  # noqa: S101 - at least one authorization was tried
    raise problem


def local_day(at: datetime, tz_name: str) -> date:
    return at.astimezone(ZoneInfo(tz_name)).date()
