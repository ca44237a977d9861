"""The day-before reminder of every booked appointment, and an infusion patient's answer through its link.

``preparation_reminders_send`` queues, per booked appointment of tomorrow (any type), a text message (or an
email when the patient has no phone that takes texts, or opted out of texts): for a dosing session
(infusion, booster, esketamine) the time, the place, the preparation and the link to confirm it; for any
other appointment the time, the place, how to cancel and a link to the patient's upcoming appointments,
nothing clinical. A patient who cannot be reached on either is marked "no reminder could be sent", so the
desk calls. ``preparation_answer`` records the answer once (the row locked), judged by
``core.preparation``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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
from ketaclinic.messaging.reminders import reminder_body, visit_place, visit_reminder_body
from ketaclinic.messaging.services import message_queue
from ketaclinic.outcomes.emails import NO_BASE_URL
from ketaclinic.reminders.models import PreparationCheck
from ketaclinic.reminders.selectors import appointments_to_remind, asks_preparation
from ketaclinic.scheduling.models import Appointment

LINK_UNKNOWN = "This link is not valid. Please call the clinic."
LINK_ANSWERED = "You have already answered, thank you. To change your answer, please call the clinic."
LINK_EXPIRED = "This link has expired: the appointment has started. Please call the clinic."
LINK_MOVED = "This appointment was moved or cancelled, so this link no longer works. Please call the clinic."
PURPOSE = "Appointment reminder"


@dataclass(frozen=True)
class ReminderSummary:
    queued: int
    not_sent: int


def _queue(appointment: Appointment, body: str, shown: str) -> tuple[OutboundMessage | None, str]:
    """The message queued (text first, then email), or None with every channel's refusal in words."""
    reasons = []
    for channel in (Channel.SMS, Channel.EMAIL):
        try:
            with transaction.atomic():
                return message_queue(
                    patient=appointment.patient,
                    channel=channel,
                    body=body,
                    subject="Your appointment tomorrow" if channel == Channel.EMAIL else "",
                    shown_body=shown,
                    purpose=OutboundMessage.Purpose.APPOINTMENT_REMINDER,
                ), ""
        except ValidationError as exc:
            reasons.append(exc.message)
    return None, " ".join(reasons)


def _remind(appointment: Appointment, base_url: str) -> PreparationCheck:
    patient, location = appointment.patient, appointment.location
    token = token_new()
    first_name = patient.preferred_name or patient.given_name
    place = visit_place(at_home=appointment.at_home, location_name=location.name, address=location.address)
    prepared = asks_preparation(appointment)

    def words(url: str) -> str:
        if prepared:
            return reminder_body(
                first_name=first_name,
                starts_at=appointment.start,
                time_zone=location.timezone,
                location_name="your home" if appointment.at_home else location.name,
                confirm_url=url,
            )
        return visit_reminder_body(
            first_name=first_name,
            starts_at=appointment.start,
            time_zone=location.timezone,
            place=place,
            link_url=url,
            clinic_phone=location.phone,
        )

    body = words(base_url + reverse("preparation_confirm", args=[token]))
    message, reason = _queue(appointment, body, words("(one-time link)"))
    check = PreparationCheck.objects.create(
        appointment=appointment,
        starts_at=appointment.start,
        asks_preparation=prepared,
        planned=appointment.planned_infusion,
        token_sha256=token_sha256(token) if message is not None else None,
        expires_at=appointment.start,
        message=message,
        status=PreparationCheck.Status.WAITING if message is not None else PreparationCheck.Status.NOT_SENT,
        not_sent_reason=reason[:300],
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        patient=patient,
        summary=f"{PURPOSE} {'queued' if message is not None else 'not sent: ' + reason}",
        detail={"appointment": str(appointment.external_id), "starts_at": appointment.start.isoformat()},
        location_code=location.code,
    )
    return check


def preparation_reminders_send(*, location: Location, day: date, base_url: str) -> ReminderSummary:
    """Remind every patient with an appointment at ``location`` the day after ``day`` (local); each in its
    own transaction, an appointment already reminded for its start skipped (a second run sends nothing
    twice). Refused before anything is queued when ``base_url`` is not an http(s) address: a link without
    the clinic's address ("/prep/...") opens nothing on a patient's phone."""
    if not base_url.startswith(("https://", "http://")):
        raise ValidationError(NO_BASE_URL, field="base_url", value=base_url)
    queued = not_sent = 0
    for appointment in appointments_to_remind(location=location, appointment_day=day + timedelta(days=1)):
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().filter(pk=appointment.pk).first()
            if (
                locked is None  # one reminder at a time; moved or cancelled since it was read: not this one
                or locked.status != Appointment.Status.BOOKED
                or locked.start != appointment.start
                or PreparationCheck.objects.filter(appointment=locked, starts_at=locked.start).exists()
            ):
                continue
            check = _remind(appointment, base_url)
        if check.status == PreparationCheck.Status.WAITING:
            queued += 1
        else:
            not_sent += 1
    return ReminderSummary(queued=queued, not_sent=not_sent)


def preparation_open(token: str) -> PreparationCheck:
    """The reminder a token opens, or a refusal in words (unknown, answered, expired), audited."""
    check = (
        PreparationCheck.objects.select_related(
            "appointment__patient", "appointment__location", "planned__plan__patient", "planned__location"
        )
        .filter(token_sha256=token_sha256(token))
        .first()
    )
    if check is None:
        audit_anonymous_refusal("preparation-link-unknown", f"Preparation link refused: {LINK_UNKNOWN}")
        raise ValidationError(LINK_UNKNOWN, field="link", value=None)
    message = None
    appointment = check.appointment
    if appointment is not None and (
        appointment.status != Appointment.Status.BOOKED or appointment.start != check.starts_at
    ):
        message = LINK_MOVED
    elif check.answered_at is not None and check.asks_preparation:
        message = LINK_ANSWERED
    elif check.expires_at <= timezone.now():
        message = LINK_EXPIRED
    if message is not None:
        audit_record(
            action=AuditEntry.Action.DENIED,
            patient=check.patient,
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
        if check.answered_at is not None or not check.asks_preparation:
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
            patient=opened.patient,
            summary=f"Preparation answered through the reminder link: {check.get_status_display()}",
            detail={"reminder": str(check.external_id), "problems": check.problems},
        )
    return check
