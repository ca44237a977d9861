"""Notifying prescribers of what needs them now (a severe adverse event), by email through Django's email
framework; every notification is recorded in the audit trail (append-only)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.core.mail import EmailMessage
from django.db.models import Q

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Role
from ketaclinic.infusions.models import AdverseEvent, InfusionSession

ADVERSE_SUBJECT = "Severe adverse event at {location}: review needed"
ADVERSE_BODY = """A severe adverse event was recorded during an infusion session and needs your review
before the patient can be discharged.

Event: {kind} ({severity}) at {time}
Recorded by: {recorder}
Notes: {notes}

Open the session in the clinic's software to review it.
"""


def session_prescribers(session: InfusionSession) -> list[User]:
    """Who is told: the prescriber(s) who signed the session's orders and the active prescribers of its
    location."""
    signers = session.orders.filter(signed_by__isnull=False).values_list("signed_by", flat=True)
    return list(
        User.objects.filter(
            Q(pk__in=signers) | Q(role=Role.PRESCRIBER.value, locations=session.location), is_active=True
        )
        .distinct()
        .order_by("username")
    )


def adverse_event_notify(*, user: User, session: InfusionSession, event: AdverseEvent) -> list[str]:
    """Email the session's prescribers (no patient name in the message) and record who was told."""
    people = session_prescribers(session)
    addresses = [p.email for p in people if p.email]
    local = event.at.astimezone(ZoneInfo(session.location.timezone))
    if addresses:
        EmailMessage(
            subject=ADVERSE_SUBJECT.format(location=session.location.name),
            body=ADVERSE_BODY.format(
                kind=event.get_kind_display(),
                severity=event.get_severity_display().lower(),
                time=f"{local:%H:%M}",
                recorder=user.get_full_name() or user.username,
                notes=event.notes or "none",
            ),
            to=addresses,
        ).send()
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=session.patient,
        summary=f"Prescribers notified of a severe adverse event ({event.get_kind_display()}): "
        + (", ".join(p.username for p in people) or "no prescriber found"),
        detail={
            "session": str(session.external_id),
            "adverse_event": str(event.external_id),
            "notified": [p.username for p in people],
            "emailed": addresses,
        },
    )
    return addresses
