"""Adverse events (recorded, and reviewed by a prescriber when severe) and medications given in a session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.actions import SessionOp
from ketaclinic.core.infusion.discharge import review_required as core_review_required
from ketaclinic.core.infusion.medications import PriorDose, administration_check, medication_get
from ketaclinic.infusions.models import AdverseEvent, InfusionSession, MedicationAdministration
from ketaclinic.infusions.selectors.checklist import patient_allergies
from ketaclinic.infusions.selectors.orders import signed_order
from ketaclinic.infusions.services._common import _allowed, _audit, _lock, _save, _when
from ketaclinic.infusions.tasks import adverse_event_notify

MIN_REVIEW_NOTE_CHARS = 10
REVIEW_NOTE_SHORT = "A review of a severe adverse event needs a note of at least {low} characters."
ADVERSE_NO_REVIEW = "That adverse event needs no review, or a prescriber has reviewed it already."
ADVERSE_OTHER_SESSION = "That adverse event belongs to another session."
ROUTE_UNKNOWN = "Route {value!r} is unknown: allowed are {allowed}."
OTHER_NEEDS_NOTES = "Describe an adverse event of kind other in the notes."
SEVERITY_UNKNOWN = "Severity {value!r} is unknown: allowed are mild, moderate, severe."
ADVERSE_KIND_UNKNOWN = "Adverse event {value!r} is unknown: allowed are {allowed}."


@transaction.atomic
def adverse_event_record(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    kind: str,
    severity: str,
    at: datetime | None = None,
    notes: str = "",
) -> AdverseEvent:
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _allowed(session, SessionOp.ADVERSE_EVENT)
    if kind not in AdverseEvent.Kind.values:
        raise ValidationError(
            ADVERSE_KIND_UNKNOWN.format(value=kind, allowed=", ".join(AdverseEvent.Kind.values)),
            field="kind",
            value=kind,
        )
    if severity not in AdverseEvent.Severity.values:
        raise ValidationError(SEVERITY_UNKNOWN.format(value=severity), field="severity", value=severity)
    if kind == AdverseEvent.Kind.OTHER and not notes.strip():
        raise ValidationError(OTHER_NEEDS_NOTES, field="notes", value=notes)
    event = AdverseEvent(
        session=session,
        kind=kind,
        severity=severity,
        at=_when(at, "The adverse event", not_before=session.checked_in_at),
        notes=notes.strip(),
        needs_review=core_review_required(kind, severity),
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(event)
    event.save()
    _save(session, user)
    _audit(
        user,
        session,
        f"Adverse event: {event.get_kind_display()} ({severity})",
        AuditEntry.Action.CREATE,
        adverse_event=str(event.external_id),
    )
    if event.needs_review:  # the prescriber is emailed by the worker; discharge waits for their review
        adverse_event_notify(user=user, event=event)  # enqueued in this transaction: a rollback tells nobody
    return event


@transaction.atomic
def adverse_event_review(*, user: User, event: AdverseEvent, note: str) -> AdverseEvent:
    """A prescriber reviews a severe adverse event (once), with a note; this lifts its block on discharge."""
    session = _lock(user, event.session, Permission.ORDER_SIGN, None)
    locked = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    if not locked.needs_review or locked.reviewed_at is not None:
        raise ValidationError(ADVERSE_NO_REVIEW, field="adverse_event", value=str(locked.external_id))
    text = note.strip()
    if len(text) < MIN_REVIEW_NOTE_CHARS:
        raise ValidationError(
            REVIEW_NOTE_SHORT.format(low=MIN_REVIEW_NOTE_CHARS), field="review_note", value=note
        )
    locked.reviewed_by, locked.reviewed_at, locked.review_note, locked.updated_by = (
        user,
        timezone.now(),
        text,
        user,
    )
    locked.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_by", "updated_at"])
    _save(session, user)
    _audit(
        user,
        session,
        f"Reviewed the adverse event {locked.get_kind_display()}: {text}",
        adverse_event=str(locked.external_id),
    )
    return locked


@transaction.atomic
def administration_record(
    *,
    user: User,
    session: InfusionSession,
    expected_version: int,
    medication: str,
    dose: Any,
    unit: str,
    route: str,
    at: datetime | None = None,
    reason: str = "",
    adverse_event: AdverseEvent | None = None,
    override_reason: str = "",
) -> MedicationAdministration:
    """A rescue medication (or an intranasal dose) given in the session, for the MAR: the protocol's formulary
    decides (``core.infusion.medications.administration_check``); ketamine is never recorded by hand."""
    session = _lock(user, session, Permission.SESSION_RUN, expected_version)
    _allowed(session, SessionOp.ADMINISTRATION)
    if route not in MedicationAdministration.Route.values:
        raise ValidationError(
            ROUTE_UNKNOWN.format(value=route, allowed=", ".join(MedicationAdministration.Route.values)),
            field="route",
            value=route,
        )
    code = (medication or "").strip().lower()
    order = signed_order(session)
    decision = administration_check(
        session.protocol_version.parsed.formulary,
        code,
        dose=dose,
        unit=unit,
        route=route,
        given=[PriorDose(g.dose, g.unit) for g in session.administrations.filter(medication=code)],
        allergies=patient_allergies(session.patient),
        prescriber_order=user.can(Permission.ORDER_SIGN),
        override_reason=override_reason,
        signed_order_dose_mg=None if order is None else order.dose_mg,
    )
    med = medication_get(code)
    amount = decision.amount
    if decision.override_reason:
        reason = (
            f"{reason.strip()} (beyond {'; '.join(decision.beyond_soft)}: {decision.override_reason})".strip()
        )
    if adverse_event is not None and adverse_event.session_id != session.pk:
        raise ValidationError(
            ADVERSE_OTHER_SESSION, field="adverse_event", value=str(adverse_event.external_id)
        )
    given = MedicationAdministration(
        session=session,
        medication=med.code,
        rxnorm=med.rxnorm,
        dose=amount,
        unit=unit,
        route=route,
        at=_when(at, "The administration", not_before=session.checked_in_at),
        reason=reason.strip()[:200],
        adverse_event=adverse_event,
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(given)
    given.save()
    _save(session, user)
    _audit(
        user,
        session,
        f"Gave {med.label} {amount} {unit} {route}" + (f" ({given.reason})" if given.reason else ""),
        AuditEntry.Action.CREATE,
        administration=str(given.external_id),
    )
    return given
