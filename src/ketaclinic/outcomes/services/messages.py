"""Sending a questionnaire link through the outbox ("Send a link to the patient's phone"): the one-time link
and its message are stored in one transaction, and the message's sending job queued with them; a refusal
(opted out, no phone or email) stores neither."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from ketaclinic.accounts.models import User
from ketaclinic.base.tokens import token_new
from ketaclinic.core.access import Permission
from ketaclinic.messaging.models import Channel, OutboundMessage
from ketaclinic.messaging.services import message_queue
from ketaclinic.outcomes import emails
from ketaclinic.outcomes.emails import link_url
from ketaclinic.outcomes.services._common import _instrument, _link_store
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

LINK_HIDDEN = "(link, works once)"


def links_message_queue(
    *,
    actor: User | None,
    patient: Patient,
    channel: str,
    urls: Sequence[str],
    tokens: Sequence[str],
    expires: datetime,
    reference: str,
) -> OutboundMessage:
    """Queue the message carrying ``urls`` (pages show it with the tokens hidden)."""
    if channel == Channel.EMAIL:
        email = emails.questionnaire_email(patient=patient, urls=urls, expires=expires)
        subject, body = str(email.subject), str(email.body)
    else:
        subject, body = "", emails.questionnaire_sms(patient=patient, urls=urls, expires=expires)
    shown = body
    for token in tokens:
        shown = shown.replace(token, LINK_HIDDEN)
    return message_queue(
        patient=patient,
        channel=channel,
        subject=subject,
        body=body,
        shown_body=shown,
        purpose=OutboundMessage.Purpose.QUESTIONNAIRE_LINK,
        reference=reference,
        actor=actor,
    )


@transaction.atomic
def link_send(
    *, user: User, patient: Patient, instrument: str, hours: int, channel: str, base_url: str
) -> OutboundMessage:
    """A new one-time link for ``instrument``, sent by text message or email through the outbox."""
    patient_for(user, patient, Permission.QUESTIONNAIRE_RECORD)
    inst = _instrument(instrument, for_patient=True)
    token = token_new()
    url = link_url(base_url, token)
    words = Channel(channel).label.lower() if channel in Channel.values else channel
    link = _link_store(
        actor=user,
        patient=patient,
        inst=inst,
        token=token,
        hours=hours,
        timepoint="ad_hoc",
        infusion_number=None,
        how=f" by {words}",
    )
    return links_message_queue(
        actor=user,
        patient=patient,
        channel=channel,
        urls=[url],
        tokens=[token],
        expires=link.expires_at,
        reference=str(link.external_id),
    )
