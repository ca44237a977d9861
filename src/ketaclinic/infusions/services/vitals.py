"""Vital signs and their alerts: record a reading (idempotent by client id), raise the overdue alert,
acknowledge an alert."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.actions import SessionOp
from ketaclinic.core.infusion.vitals import (
    OVERDUE_ALERT,
    Sedation,
    VitalReading,
    VitalsDue,
    alerts_for,
    reading_check,
)
from ketaclinic.infusions.models import InfusionSession, VitalAlert, VitalSigns
from ketaclinic.infusions.selectors.pathway import session_sections
from ketaclinic.infusions.services._common import _allowed, _audit, _event_at, _local, _lock
from ketaclinic.patients.access import patient_for

TAKEN_AT_NAIVE = (
    "The time the reading was taken ({value}) has no time zone: send it with its offset, "
    "e.g. 2026-12-02T09:30:00-05:00."
)
ALERT_ACKNOWLEDGED = "This alert was already acknowledged by {who} at {when}."
CLIENT_ID_REQUIRED = (
    "A reading needs a client id (a UUID the device or page generates) so a retry never duplicates it."
)
CLIENT_ID_OTHER_SESSION = "Reading id {value} was already used for another session."
BEFORE_CHECK_IN = "A reading taken at {value} is before the patient checked in ({check_in})."


@dataclass(frozen=True, slots=True)
class VitalsPosted:
    reading: VitalSigns
    created: bool  # False when a retried post returned the reading already stored
    alerts: tuple[VitalAlert, ...]


def _phase(session: InfusionSession, taken_at: datetime) -> str:
    if session.started_at is None or taken_at < session.started_at:
        return VitalSigns.Phase.BASELINE
    if session.ended_at is None or taken_at < session.ended_at:
        return VitalSigns.Phase.INFUSION
    return VitalSigns.Phase.RECOVERY


def vitals_record(
    *,
    user: User,
    session: InfusionSession,
    client_id: str,
    taken_at: datetime | None = None,
    systolic_mmhg: float | None = None,
    diastolic_mmhg: float | None = None,
    heart_rate_bpm: float | None = None,
    spo2_percent: float | None = None,
    respiratory_rate_per_min: float | None = None,
    sedation: str = "",
    source: str = "manual",
    backdate_reason: str = "",
) -> VitalsPosted:
    """Record one reading, committed at once; a retry with the same ``client_id`` returns the stored
    reading."""
    client_id = (client_id or "").strip()
    if not client_id:
        raise ValidationError(CLIENT_ID_REQUIRED, field="client_id", value=client_id)
    if taken_at is not None and taken_at.tzinfo is None:
        raise ValidationError(
            TAKEN_AT_NAIVE.format(value=taken_at.isoformat(timespec="minutes")),
            field="taken_at",
            value=taken_at,
        )
    try:
        with transaction.atomic():
            return _vitals_record(
                user=user,
                session=session,
                client_id=client_id,
                taken_at=taken_at,
                reading=VitalReading(
                    systolic_mmhg,
                    diastolic_mmhg,
                    heart_rate_bpm,
                    spo2_percent,
                    respiratory_rate_per_min,
                    Sedation.parse(sedation) if sedation else None,
                ),
                source=source,
                backdate_reason=backdate_reason,
            )
    except IntegrityError:  # a concurrent retry stored it first: answer with that one
        existing = VitalSigns.objects.filter(client_id=client_id).first()
        if existing is None:
            raise
        return _existing(user, session, existing)


def _existing(user: User, session: InfusionSession, existing: VitalSigns) -> VitalsPosted:
    patient_for(user, session.patient, Permission.SESSION_RUN)
    if existing.session_id != session.pk:
        raise ValidationError(
            CLIENT_ID_OTHER_SESSION.format(value=existing.client_id),
            field="client_id",
            value=existing.client_id,
        )
    return VitalsPosted(existing, False, tuple(existing.alerts.all()))


def _vitals_record(
    *,
    user: User,
    session: InfusionSession,
    client_id: str,
    taken_at: datetime | None,
    reading: VitalReading,
    source: str,
    backdate_reason: str = "",
) -> VitalsPosted:
    session = _lock(user, session, Permission.SESSION_RUN, None)
    existing = VitalSigns.objects.filter(client_id=client_id).first()
    if existing is not None:
        return _existing(user, session, existing)
    _allowed(session, SessionOp.VITALS_RECORD)
    when = _event_at(session, "A reading taken", taken_at, backdate_reason)
    checked_in_at = session.checked_in_at
    assert checked_in_at is not None  # readings are allowed from check-in on (_allowed above)
    if when < checked_in_at:
        raise ValidationError(
            BEFORE_CHECK_IN.format(
                value=when.isoformat(timespec="minutes"),
                check_in=checked_in_at.isoformat(timespec="minutes"),
            ),
            field="taken_at",
            value=when,
        )
    monitoring = session_sections(session)[0]
    reading_check(reading, monitoring)
    phase = _phase(session, when)
    v = VitalSigns(
        external_id=uuid.uuid4(),
        client_id=client_id,
        session=session,
        phase=phase,
        taken_at=when,
        **VitalSigns.measured(reading),
        source=source[:20] or "manual",
        recorded_by=user,
        backdate_reason=backdate_reason.strip(),
    )
    v.save()
    alerts = []
    if phase != VitalSigns.Phase.BASELINE:
        for a in alerts_for(reading, monitoring):
            alert = VitalAlert.raised_by(a, session=session, vitals=v, raised_at=when)
            alert.save()
            alerts.append(alert)
    _audit(
        user,
        session,
        f"Recorded vital signs ({phase})" + (f", {len(alerts)} alert(s)" if alerts else ""),
        AuditEntry.Action.CREATE,
        vitals=str(v.external_id),
        alerts=[a.rule for a in alerts],
    )
    return VitalsPosted(v, True, tuple(alerts))


OVERDUE_RULE = "vitals_overdue"


@transaction.atomic
def vitals_overdue_alert_raise(*, session: InfusionSession, due: VitalsDue | None) -> VitalAlert | None:
    """Overdue vital signs become an alert that must be acknowledged (one open at a time; idempotent).

    Called when the live page or its poll is read, with the due time computed from the last COMPLETE set
    (a partial reading does not clear it). Nothing is written unless the set is overdue.
    """
    if due is None or not due.overdue:
        return None
    locked = InfusionSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if locked.alerts.filter(rule=OVERDUE_RULE, acknowledged_at__isnull=True).exists():
        return None
    monitoring = session_sections(locked)[0]
    due_local = due.due_at.astimezone(ZoneInfo(locked.location.timezone)).strftime("%H:%M")
    alert = VitalAlert.objects.create(
        external_id=uuid.uuid4(),
        session=locked,
        vitals=None,
        rule=OVERDUE_RULE,
        vital="",
        value=round(due.overdue_by_min, 1),
        limit=monitoring.overdue_grace_min,
        suggested_action="observe",
        level="hold",
        message=OVERDUE_ALERT.format(late=due.overdue_by_min, due=due_local),
        raised_at=timezone.now(),
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=None,
        patient=locked.patient,
        summary=f"Alert: vital signs overdue by {due.overdue_by_min:.0f} min",
        detail={"session": str(locked.external_id), "alert": str(alert.external_id)},
    )
    return alert


@transaction.atomic
def alert_acknowledge(*, user: User, alert: VitalAlert, note: str = "") -> VitalAlert:
    """Acknowledge an alert (once; the second nurse is told who did it first)."""
    _lock(user, alert.session, Permission.SESSION_RUN, None)
    alert = (
        VitalAlert.objects.select_for_update(of=("self",))
        .select_related("session__patient", "session__location")
        .get(pk=alert.pk)
    )
    if alert.acknowledged_at is not None:
        raise ValidationError(
            ALERT_ACKNOWLEDGED.format(
                who=alert.acknowledged_by, when=_local(alert.session, alert.acknowledged_at)
            ),
            field="alert",
            value=str(alert.external_id),
        )
    alert.acknowledged_by, alert.acknowledged_at, alert.acknowledgement_note = (
        user,
        timezone.now(),
        note.strip(),
    )
    alert.save()
    _audit(
        user,
        alert.session,
        f"Acknowledged alert {alert.rule}" + (f": {alert.acknowledgement_note}" if note.strip() else ""),
        alert=str(alert.external_id),
    )
    return alert
