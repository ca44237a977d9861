"""Emailing questionnaire links through the outbox (``ketaclinic.messaging``): the daily job and "Send link
now" on the worklist. A patient without an email address (or opted out of email) is recorded to hand a link
out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.tokens import token_new
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.outcomes import DueItem
from ketaclinic.messaging.models import Channel, OutboundMessage
from ketaclinic.outcomes import emails
from ketaclinic.outcomes.emails import NO_BASE_URL, link_url
from ketaclinic.outcomes.models import LinkDispatch, PatientLink
from ketaclinic.outcomes.selectors import (
    due_link_chunks,
    due_status_for_patient,
    item_key,
    link_expiry,
    patients_in_treatment,
    questionnaire_worklist,
)
from ketaclinic.outcomes.services._common import _instrument, _link_store
from ketaclinic.outcomes.services.messages import links_message_queue
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

NOT_WAITING = "{label} ({instrument}) is not waiting for an answer: nothing to send."
NO_EMAIL = "{name} has no email address: hand out a link instead (or enter the answers)."
DAILY_JOB = " (the daily run)"


def _dispatch_email(
    *, actor: User | None, patient: Patient, items: Sequence[DueItem], base_url: str
) -> OutboundMessage:
    """Queue one email with a new link per item through the outbox: the links, the message and its sending
    job in one transaction (the worker sends it, retries it, and shows it sent only once the mail server
    accepted it). An opted-out or missing address is refused and stores nothing."""
    if not base_url:
        raise ValidationError(NO_BASE_URL, field="base_url", value=base_url)
    now = timezone.now()
    planned = [
        (item, _instrument(item.instrument, for_patient=True), token_new(), link_expiry(item, now))
        for item in items
    ]
    urls = [link_url(base_url, token) for _, _, token, _ in planned]
    how = f" to send by email to {emails.email_masked(patient.email)}" + (DAILY_JOB if actor is None else "")
    with transaction.atomic():
        links = [
            _link_store(
                actor=actor,
                patient=patient,
                inst=inst,
                token=token,
                hours=72,
                timepoint=item.questionnaire.timepoint,
                infusion_number=item.questionnaire.infusion_number,
                how=how,
                expires_at=expires,
            )
            for item, inst, token, expires in planned
        ]
        return links_message_queue(
            actor=actor,
            patient=patient,
            channel=Channel.EMAIL,
            urls=urls,
            tokens=[token for _, _, token, _ in planned],
            expires=min(e for *_, e in planned),
            reference=" ".join(str(link.external_id) for link in links),
        )


def _record_no_address(*, actor: User | None, patient: Patient, item: DueItem) -> LinkDispatch:
    q = item.questionnaire
    with transaction.atomic():
        dispatch = LinkDispatch.objects.create(
            patient=patient,
            instrument=item.instrument,
            timepoint=q.timepoint,
            infusion_number=q.infusion_number,
            due_on=q.due_on,
            channel=LinkDispatch.Channel.EMAIL,
            sent_at=timezone.now(),
            outcome=LinkDispatch.Outcome.NO_ADDRESS,
            created_by=actor,
        )
        audit_record(
            action=AuditEntry.Action.CREATE if actor else AuditEntry.Action.SYSTEM,
            actor=actor,
            patient=patient,
            summary=f"No email address (or opted out of email): the {item.instrument} link for "
            f"{q.label.lower()} must be handed out" + (DAILY_JOB if actor is None else ""),
            detail={"dispatch": str(dispatch.external_id), "outcome": dispatch.outcome},
        )
    return dispatch


RESEND_AFTER = timedelta(minutes=10)
JUST_SENT = (
    "A link for the {instrument} was made at {when} and still works: it was not sent again. "
    "It can be re-sent after 10 minutes."
)


@dataclass
class SendSummary:
    queued: int = 0  # links queued in the outbox (its worker sends them, retries, and shows what failed)
    no_address: int = 0  # no email address, or the patient opted out of email
    live_link: int = 0  # a live link exists already: nothing sent
    not_by_link: int = 0  # licensed wording: staff enter the answers
    not_in_treatment: int = 0  # no active or completed plan (screened out, draft, stopped): staff decide

    def __str__(self) -> str:
        return (
            f"{self.queued} queued to be emailed, {self.no_address} without an email address or opted out "
            f"of email (hand out a link), {self.live_link} already have a live link, {self.not_by_link} not "
            f"sent by link (licensed wording), {self.not_in_treatment} not sent: no active or completed plan"
        )


CHUNK_SIZE = 200  # patients read and emailed at a time by the daily job: its memory does not grow with them


def _send_chunk(
    *,
    user: User | None,
    base_url: str,
    location: Location | None,
    today: date | None,
    among: list[int],
    summary: SendSummary,
) -> None:
    to_email: dict[Patient, list[DueItem]] = {}
    rows = questionnaire_worklist(
        user=user, location=location, today=today, among=among, page_size=None, only_due=True
    ).due
    treated = patients_in_treatment({row.patient for row in rows})
    for row in rows:
        if row.patient.pk not in treated:
            summary.not_in_treatment += 1
        elif not row.sendable:
            summary.not_by_link += 1
        elif row.live_link is not None:
            summary.live_link += 1
        elif row.hand_out:
            if row.dispatch is None or row.dispatch.outcome != LinkDispatch.Outcome.NO_ADDRESS:
                _record_no_address(actor=user, patient=row.patient, item=row.item)
            summary.no_address += 1
        else:
            to_email.setdefault(row.patient, []).append(row.item)
    for patient, items in to_email.items():
        _dispatch_email(actor=user, patient=patient, items=items, base_url=base_url)
        summary.queued += len(items)


def due_links_send(
    *,
    user: User | None,
    base_url: str,
    location: Location | None = None,
    today: date | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> SendSummary:
    """Queue an email with a link for every questionnaire due today (window open, no answer) that has no live
    link.

    One message per patient (all their links), sent by the outbox's worker. Idempotent: a queued link is
    live, so a second run the same day queues nothing again; a patient without an email address (or opted out
    of email) is recorded once per questionnaire and listed on the worklist as "hand out a link"; a message
    that the mail server never accepts shows as failed on the worklist and the patient's page.
    ``user`` None is the daily job (every location unless ``location`` is given). Patients are read and
    emailed ``chunk_size`` at a time, so memory stays bounded however large the network."""
    if user is not None:
        require(user, Permission.QUESTIONNAIRE_RECORD)
    if not base_url:
        raise ValidationError(NO_BASE_URL, field="base_url", value=base_url)
    summary = SendSummary()
    for chunk in due_link_chunks(location, chunk_size, today):
        _send_chunk(
            user=user,
            base_url=base_url,
            location=location,
            today=today,
            among=chunk,
            summary=summary,
        )
    return summary


def due_link_email(
    *,
    user: User,
    patient: Patient,
    instrument: str,
    timepoint: str,
    infusion_number: int | None,
    due_on: date,
    base_url: str,
    today: date | None = None,
) -> OutboundMessage:
    """ "Send link now" on the worklist: queue an email with a link for one questionnaire that is still
    waiting for an answer."""
    patient_for(user, patient, Permission.QUESTIONNAIRE_RECORD)
    inst = _instrument(instrument, for_patient=True)
    item = next(
        (
            i
            for i in due_status_for_patient(patient, today)
            if item_key(i) == (instrument, timepoint, infusion_number)
            and i.questionnaire.due_on == due_on
            and i.can_still_answer
        ),
        None,
    )
    if item is None:
        raise ValidationError(
            NOT_WAITING.format(label=f"{timepoint} {due_on}", instrument=inst.name),
            field="questionnaire",
            value=instrument,
        )
    if not patient.email:
        raise ValidationError(NO_EMAIL.format(name=patient.display_name), field="email", value="")
    with transaction.atomic():
        # One sender at a time per patient (a double click, or the daily job running meanwhile): a link for
        # this questionnaire made in the last few minutes is not sent again. An older live link may be
        # re-sent on purpose (the patient lost the email).
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        recent = PatientLink.objects.filter(
            patient=patient,
            instrument=instrument,
            timepoint=timepoint,
            infusion_number=infusion_number,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            created_at__gt=timezone.now() - RESEND_AFTER,
        ).first()
        if recent is not None:
            raise ValidationError(
                JUST_SENT.format(instrument=inst.name, when=f"{timezone.localtime(recent.created_at):%H:%M}"),
                field="questionnaire",
                value=instrument,
            )
        return _dispatch_email(actor=user, patient=patient, items=[item], base_url=base_url)
