"""The day-before reminder of each planned infusion, and the patient's answer through its one-time link.

``preparation_reminders_send`` queues, per planned infusion of tomorrow, a text message (or an email when the
patient has no phone that takes texts, or opted out of texts) with the time, the place, the preparation and
the link; a patient who cannot be reached on either is marked "no reminder could be sent", so the desk calls.
``preparation_answer`` records the answer once (the row locked), judged by ``core.preparation``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ketaclinic.accounts.models import Location
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_anonymous_refusal, audit_record
from ketaclinic.base.tokens import token_new, token_sha256
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.preparation import preparation_judge
from ketaclinic.messaging.models import Channel, OutboundMessage
from ketaclinic.messaging.reminders import reminder_body
from ketaclinic.messaging.services import message_queue
from ketaclinic.plans.models import PlannedInfusion
from ketaclinic.reminders.models import PreparationCheck
from ketaclinic.reminders.selectors import infusions_to_remind

LINK_UNKNOWN = "This link is not valid. Please call the clinic."
LINK_ANSWERED = "You have already answered, thank you. To change your answer, please call the clinic."
LINK_EXPIRED = "This link has expired: the appointment has started. Please call the clinic."
PURPOSE = "Infusion reminder"


@dataclass(frozen=True)
class ReminderSummary:
    queued: int
    not_sent: int


def _queue(planned: PlannedInfusion, body: str, shown: str) -> tuple[OutboundMessage | None, str]:
    """The message queued (text first, then email), or None with every channel's refusal in words."""
    reasons = []
    for channel in (Channel.SMS, Channel.EMAIL):
        try:
            with transaction.atomic():
                return message_queue(
                    patient=planned.plan.patient,
                    channel=channel,
                    body=body,
                    subject="Your infusion tomorrow" if channel == Channel.EMAIL else "",
                    shown_body=shown,
                    purpose=PURPOSE,
                ), ""
        except ValidationError as exc:
            reasons.append(exc.message)
    return None, " ".join(reasons)


def _remind(planned: PlannedInfusion, base_url: str) -> PreparationCheck:
    patient, location = planned.plan.patient, planned.location
    token = token_new()
    words = partial(
        reminder_body,
        first_name=patient.preferred_name or patient.given_name,
        starts_at=planned.scheduled_start,
        time_zone=location.timezone,
        location_name=location.name,
    )
    body = words(confirm_url=base_url + reverse("preparation_confirm", args=[token]))
    message, reason = _queue(planned, body, words(confirm_url="(one-time link)"))
    check = PreparationCheck.objects.create(
        planned=planned,
        token_sha256=token_sha256(token) if message is not None else None,
        expires_at=planned.scheduled_start,
        message=message,
        status=PreparationCheck.Status.WAITING if message is not None else PreparationCheck.Status.NOT_SENT,
        not_sent_reason=reason,
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        patient=patient,
        summary=f"Infusion reminder {'queued' if message is not None else 'not sent: ' + reason}",
        detail={"planned_infusion": str(planned.external_id)},
        location_code=location.code,
    )
    return check


def preparation_reminders_send(*, location: Location, day: date, base_url: str) -> ReminderSummary:
    """Remind every patient expected at ``location`` the day after ``day`` (local); each in its own
    transaction, a patient already reminded skipped (a second run sends nothing twice)."""
    queued = not_sent = 0
    for planned in infusions_to_remind(location=location, appointment_day=day + timedelta(days=1)):
        with transaction.atomic():
            PlannedInfusion.objects.select_for_update().filter(
                pk=planned.pk
            ).first()  # one reminder at a time
            if PreparationCheck.objects.filter(planned_id=planned.pk).exists():
                continue
            check = _remind(planned, base_url)
        if check.status == PreparationCheck.Status.WAITING:
            queued += 1
        else:
            not_sent += 1
    return ReminderSummary(queued=queued, not_sent=not_sent)


def preparation_open(token: str) -> PreparationCheck:
    """The reminder a token opens, or a refusal in words (unknown, answered, expired), audited."""
    check = (
        PreparationCheck.objects.select_related("planned__plan__patient", "planned__location")
        .filter(token_sha256=token_sha256(token))
        .first()
    )
    if check is None:
        audit_anonymous_refusal("preparation-link-unknown", f"Preparation link refused: {LINK_UNKNOWN}")
        raise ValidationError(LINK_UNKNOWN, field="link", value=None)
    message = None
    if check.answered_at is not None:
        message = LINK_ANSWERED
    elif check.expires_at <= timezone.now():
        message = LINK_EXPIRED
    if message is not None:
        audit_record(
            action=AuditEntry.Action.DENIED,
            patient=check.planned.plan.patient,
            summary=f"Preparation link refused: {message}",
            detail={"reminder": str(check.external_id), "status": 403},
        )
        raise ValidationError(message, field="link", value=None)
    return check


def preparation_answer(
    *, token: str, light_meal: bool, no_alcohol: bool, driver: bool, driver_name: str, note: str
) -> PreparationCheck:
    """The patient's answer, once: judged by the core, saved with the row locked, audited."""
    opened = preparation_open(token)  # a refusal is audited outside the answer's transaction
    with transaction.atomic():
        check = PreparationCheck.objects.select_for_update().get(pk=opened.pk)
        if check.answered_at is not None:
            raise ValidationError(LINK_ANSWERED, field="link", value=None)
        judged = preparation_judge(
            light_meal=light_meal, no_alcohol=no_alcohol, driver=driver, driver_name=driver_name, note=note
        )
        check.light_meal, check.no_alcohol, check.driver = light_meal, no_alcohol, driver
        check.driver_name, check.note = driver_name.strip(), note.strip()
        check.status = judged.status
        check.problems = list(judged.problems)
        check.answered_at = timezone.now()
        check.save()
        audit_record(
            action=AuditEntry.Action.UPDATE,
            patient=opened.planned.plan.patient,
            summary=f"Preparation answered through the reminder link: {check.get_status_display()}",
            detail={"reminder": str(check.external_id), "problems": check.problems},
        )
    return check
