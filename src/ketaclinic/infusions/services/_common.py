"""What every infusion session action shares: the row lock with the version check, the save, event times,
the audit entry, the state machine step, and the refusals more than one action makes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.consent.selectors import consent_on_file
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.actions import OP_OF_TRANSITION, SessionOp, action_require
from ketaclinic.core.infusion.event_times import BackdateLimits, event_time_check
from ketaclinic.core.infusion.medications import order_allergy_check
from ketaclinic.core.infusion.state import Guards, SessionAction, transition
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.infusions.selectors.checklist import consent_problem, patient_allergies
from ketaclinic.infusions.selectors.pathway import session_sections
from ketaclinic.patients.access import patient_for

VIAL_CHECK_SAME_PERSON = (
    "The independent check must be made by a second clinician: {who} prepared the order or records the start."
)
NO_DOSING = "Protocol {value} has no dosing section."
REASON_REQUIRED = "A reason is required."
NO_SIGNED_ORDER = "No signed order for this session."
CHANGED_MEANWHILE = "This session was changed meanwhile by {who} at {when}; reload it and try again."
IN_FUTURE = "{what} at {value} is in the future."
BEFORE_PREVIOUS = "{what} at {value} is before the previous event of this session ({previous})."
CONSENT_REQUIRED = (
    "The patient's consent is not on file ({problem}); collect the signature before the infusion."
)
ACTION_AFTER_STOP_SKEW = timedelta(minutes=1)  # clocks of tablets and gateways may be a little ahead


class ChangedMeanwhile(ValidationError):
    """Optimistic concurrency: the session changed since the person loaded it."""


def _local(session: InfusionSession, at: datetime | None, fmt: str = "%H:%M") -> str:
    """``at`` on the session location's clock, for a refusal's words (whoever reads it, wherever)."""
    return "—" if at is None else at.astimezone(ZoneInfo(session.location.timezone)).strftime(fmt)


def _lock(
    user: User, session: InfusionSession, permission: Permission, expected_version: int | None
) -> InfusionSession:
    """Re-read the session FOR UPDATE, check the permission and the version the person saw."""
    require(user, permission)
    # updated_by is not joined here: a request that waited for the row lock gets the row as the winner left
    # it, but PostgreSQL re-checks a joined row against the old version and would give updated_by as NULL.
    # Read lazily after the lock, it is the winner.
    locked = (
        InfusionSession.objects.select_for_update(of=("self",))
        .select_related("patient", "protocol_version", "location")
        .get(pk=session.pk)
    )
    patient_for(user, locked.patient, permission)
    if expected_version is not None and locked.version != expected_version:
        when = _local(locked, locked.updated_at, "%H:%M:%S")
        raise ChangedMeanwhile(
            CHANGED_MEANWHILE.format(who=locked.updated_by or "someone", when=when),
            field="expected_version",
            value=expected_version,
        )
    return locked


def _save(session: InfusionSession, user: User, *fields: str) -> InfusionSession:
    session.version += 1
    session.updated_by = user
    session.save(update_fields=["version", "updated_by", "updated_at", *fields])
    return session


def _when(at: datetime | None, what: str, *, not_before: datetime | None = None) -> datetime:
    now = timezone.now()
    at = at or now
    if at > now + ACTION_AFTER_STOP_SKEW:
        raise ValidationError(
            IN_FUTURE.format(what=what, value=at.isoformat(timespec="minutes")), field="at", value=at
        )
    if not_before is not None and at < not_before:
        raise ValidationError(
            BEFORE_PREVIOUS.format(
                what=what,
                value=at.isoformat(timespec="minutes"),
                previous=not_before.isoformat(timespec="minutes"),
            ),
            field="at",
            value=at,
        )
    return at


def _audit(
    user: User, session: InfusionSession, summary: str, action: str = AuditEntry.Action.UPDATE, **detail: Any
) -> None:
    audit_record(
        action=action,
        actor=user,
        patient=session.patient,
        summary=summary,
        detail={"session": str(session.external_id), "version": session.version, **detail},
    )


def _move(session: InfusionSession, action: SessionAction, guards: Guards | None = None) -> None:
    """A state change: a person's act goes through the one answer of what may be done now
    (:func:`ketaclinic.core.infusion.actions.action_require`); reopening the pre-checks is not an act but the
    consequence of a failing answer."""
    if action is SessionAction.PRECHECKS_REOPEN:
        session.state = transition(session.state_enum, action, guards).value
        return
    new = action_require(OP_OF_TRANSITION[action], session.state_enum, guards)
    assert new is not None  # noqa: S101 — a state change always leads somewhere
    session.state = new.value


def _allowed(session: InfusionSession, op: SessionOp) -> None:
    """Refuse an operation the session's state does not allow now (the core's answer, with its reason)."""
    action_require(op, session.state_enum)


def _limits(session: InfusionSession) -> BackdateLimits:
    b = session_sections(session)[0].backdating
    return BackdateLimits(b.max_min, b.reason_after_min)


def _event_at(
    session: InfusionSession, what: str, at: datetime | None, reason: str, *after: tuple[str, datetime | None]
) -> datetime:
    """The time an event is recorded at: within the protocol's backdating bounds, with a reason when late,
    never before the events it depends on (``core.infusion.event_times``)."""
    return event_time_check(
        what=what, at=at, now=timezone.now(), limits=_limits(session), after=tuple(after), reason=reason
    )


def _consent_required(session: InfusionSession) -> None:
    """Refuse unless the patient's consent is on file now, whatever the protocol's checklist says: a checklist
    without the consent item must not let the pre-checks pass or an infusion start without consent."""
    problem = consent_problem(consent_on_file(session.patient, at=timezone.now()))
    if problem is not None:
        raise ValidationError(CONSENT_REQUIRED.format(problem=problem), field="consent", value=problem)


def _order_allergy_refuse(session: InfusionSession) -> None:
    order_allergy_check(session.protocol_version.parsed.formulary, patient_allergies(session.patient))


def _last_event_at(session: InfusionSession) -> datetime | None:
    last = session.rate_events.order_by("-at", "-id").first()
    return None if last is None else last.at


def _last_pump_event(session: InfusionSession) -> tuple[str, datetime | None]:
    return ("the last pump event", _last_event_at(session))
