"""Senders: what hands a message to a provider. A sender is anything with ``send(message) -> reference`` (the
provider's id for the accepted message) that raises ``SendFailed`` when the provider refuses or cannot be
reached. Out of the box: the console (development), email (Django's email backend) and text messages through
Twilio. ``settings.MESSAGE_SENDERS`` names the sender of each channel (a dotted path)."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client

NOT_CONFIGURED = "Text messages are not set up: the clinic's SMS account ({missing}) is missing."
NO_SENDER = "No sender is set up for {channel} messages (MESSAGE_SENDERS)."


@dataclass(frozen=True)
class Message:
    """What a sender needs: the channel, the address (E.164 phone number or email), the text."""

    channel: str
    to: str
    body: str
    subject: str = ""


class SendFailed(Exception):
    """The provider refused the message or could not be reached; the reason in words."""


class Sender(Protocol):
    def send(self, message: Message) -> str:
        """Hand the message to the provider; its reference for the accepted message."""
        ...


class ConsoleSender:
    """Prints each message (development and the demo): nothing leaves the machine."""

    def send(self, message: Message) -> str:
        reference = f"console-{uuid.uuid4()}"
        sys.stdout.write(
            f"--- {message.channel} to {message.to} ({reference})\n"
            + (f"Subject: {message.subject}\n" if message.subject else "")
            + f"{message.body}\n---\n"
        )
        return reference


class EmailSender:
    """Email through Django's email backend (``EMAIL_BACKEND``); the reference is the Message-ID."""

    def send(self, message: Message) -> str:
        message_id = make_msgid(domain="ketaclinic")
        email = EmailMessage(
            subject=message.subject or "A message from your clinic",
            body=message.body,
            to=[message.to],
            headers={"Message-ID": message_id},
        )
        try:
            email.send(fail_silently=False)
        except Exception as exc:  # noqa: BLE001 - any transport failure is the provider's refusal
            raise SendFailed(f"The mail server did not accept it ({type(exc).__name__}: {exc})") from exc
        return message_id


class TwilioSmsSender:
    """Text messages through Twilio's REST API (the ``twilio`` library). Configured by ``TWILIO_ACCOUNT_SID``,
    ``TWILIO_AUTH_TOKEN`` and ``TWILIO_FROM_NUMBER`` (E.164); ``http_client`` replaces the library's HTTP
    client (tests)."""

    def __init__(self, *, http_client: HttpClient | None = None) -> None:
        self.account_sid: str = settings.TWILIO_ACCOUNT_SID
        self.auth_token: str = settings.TWILIO_AUTH_TOKEN
        self.from_number: str = settings.TWILIO_FROM_NUMBER
        self.http_client = http_client

    def send(self, message: Message) -> str:
        missing = [
            name
            for name, value in (
                ("account SID", self.account_sid),
                ("auth token", self.auth_token),
                ("sending number", self.from_number),
            )
            if not value
        ]
        if missing:
            raise SendFailed(NOT_CONFIGURED.format(missing=", ".join(missing)))
        client = Client(self.account_sid, self.auth_token, http_client=self.http_client)
        try:
            sent = client.messages.create(to=message.to, from_=self.from_number, body=message.body)
        except TwilioRestException as exc:
            raise SendFailed(f"Twilio refused it: {exc.msg} (error {exc.code})") from exc
        except (TwilioException, OSError) as exc:
            raise SendFailed(f"Twilio could not be reached ({type(exc).__name__}: {exc})") from exc
        reference: str | None = sent.sid
        if not reference:
            raise SendFailed("Twilio answered without a message id: not counted as sent.")
        return reference


def sender_for(channel: str) -> Sender:
    """The sender ``settings.MESSAGE_SENDERS`` names for ``channel``."""
    path = settings.MESSAGE_SENDERS.get(channel)
    if not path:
        raise SendFailed(NO_SENDER.format(channel=channel))
    sender: Sender = import_string(path)()
    return sender
