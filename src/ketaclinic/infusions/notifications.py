"""Notifying prescribers of what needs them now (a severe adverse event), by email through Django's email
framework. The message is composed and sent here, one prescriber at a time, by the background job
``infusions.tasks.adverse_event_email`` (enqueued in the transaction that records the event); every attempt
is recorded in the audit trail (append-only), the address masked."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.core.mail import EmailMessage
from django.db.models import Q

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.core.access import Role
from ketaclinic.infusions.models import AdverseEvent, InfusionSession
from ketaclinic.outcomes.emails import email_masked

ADVERSE_SUBJECT = "Severe adverse event at {location}: review needed"
ADVERSE_BODY = """A severe adverse event was recorded during an infusion session and needs your review
before the patient can be discharged.

Event: {kind} ({severity}) at {time}
Recorded by: {recorder}
Notes: {notes}

Open the session in the clinic's software to review it.
"""
ADVERSE_NOBODY = "Severe adverse event ({kind}): no prescriber with an email address to notify"


def session_prescribers(session: InfusionSession) -> list[User]:
    """Who is told: the prescriber(s) who signed the session's orders and the active prescribers of its
    location, those with an email address."""
    signers = session.orders.filter(signed_by__isnull=False).values_list("signed_by", flat=True)
    return list(
        User.objects.filter(
            Q(pk__in=signers) | Q(role=Role.PRESCRIBER.value, locations=session.location), is_active=True
        )
        .exclude(email="")
        .distinct()
        .order_by("username")
    )


def adverse_event_message(event: AdverseEvent, user: User) -> EmailMessage:
    """The message to one prescriber: the event, its time in the location's zone, who recorded it; no patient
    name."""
    session = event.session
    recorder = event.created_by
    local = event.at.astimezone(ZoneInfo(session.location.timezone))
    return EmailMessage(
        subject=ADVERSE_SUBJECT.format(location=session.location.name),
        body=ADVERSE_BODY.format(
            kind=event.get_kind_display(),
            severity=event.get_severity_display().lower(),
            time=f"{local:%H:%M}",
            recorder=(recorder.get_full_name() or recorder.username) if recorder else "unknown",
            notes=event.notes or "none",
        ),
        to=[user.email],
    )


def adverse_event_email(event: AdverseEvent, user: User) -> str:
    """Email one prescriber that a severe adverse event waits for their review and audit the attempt (the
    address masked); the transport's failure as words ('' when sent), for the job to retry."""
    try:
        adverse_event_message(event, user).send(fail_silently=False)
        error, status = "", "sent"
    except Exception as exc:  # noqa: BLE001 - a failed email is recorded here and retried by the job
        error, status = f"{type(exc).__name__}: {exc}", f"failed ({type(exc).__name__})"
    audit_record(
        action=AuditEntry.Action.CREATE,
        patient=event.session.patient,
        summary=f"Severe adverse event ({event.get_kind_display()}): prescriber {user.username} notified by "
        f"email ({status})",
        detail={
            "session": str(event.session.external_id),
            "adverse_event": str(event.external_id),
            "to": email_masked(user.email),
            "status": status,
        },
    )
    return error.replace(user.email, email_masked(user.email))


def adverse_event_nobody(*, user: User, event: AdverseEvent) -> None:
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=event.session.patient,
        summary=ADVERSE_NOBODY.format(kind=event.get_kind_display()),
        detail={"session": str(event.session.external_id), "adverse_event": str(event.external_id)},
    )
