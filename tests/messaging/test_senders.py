"""The senders: the console prints, email goes through Django's email backend, text messages through Twilio's
library (its HTTP client faked). Each answers the provider's reference, or raises SendFailed in words."""

from __future__ import annotations

import pytest
from django.core import mail

from ketaclinic.messaging.senders import (
    ConsoleSender,
    EmailSender,
    Message,
    SendFailed,
    TwilioSmsSender,
    sender_for,
)
from tests.messaging.conftest import ACCEPTED, FakeTwilioHttp

SMS = Message(channel="sms", to="+16175550123", body="Downtown Clinic: your link https://x/q/abc/")


def test_the_console_prints_the_message_and_gives_a_reference(capsys):
    reference = ConsoleSender().send(SMS)
    out = capsys.readouterr().out
    assert reference.startswith("console-") and "+16175550123" in out and "https://x/q/abc/" in out


def test_email_goes_through_the_email_backend_with_its_message_id(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reference = EmailSender().send(
        Message(channel="email", to="maria@example.org", subject="A questionnaire", body="Hello")
    )
    (sent,) = mail.outbox
    assert sent.to == ["maria@example.org"] and sent.subject == "A questionnaire" and sent.body == "Hello"
    assert sent.extra_headers["Message-ID"] == reference and reference.startswith("<")


def test_a_mail_server_that_refuses_raises_send_failed(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(SendFailed, match="mail server did not accept it .*connection refused"):
        EmailSender().send(Message(channel="email", to="maria@example.org", body="Hello"))


def test_twilio_accepts_and_answers_its_message_sid(twilio_settings):
    http = FakeTwilioHttp()
    assert TwilioSmsSender(http_client=http).send(SMS) == ACCEPTED["sid"]
    (request,) = http.requests
    assert request["method"] == "POST"
    assert request["url"].endswith("/Accounts/AC00000000000000000000000000000001/Messages.json")
    assert request["data"] == {"To": "+16175550123", "From": "+16175550100", "Body": SMS.body}
    assert request["auth"] == ("AC00000000000000000000000000000001", "secret-token")


def test_a_twilio_refusal_raises_send_failed_with_twilios_reason(twilio_settings):
    http = FakeTwilioHttp(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
    with pytest.raises(SendFailed, match=r"Twilio refused it: .*not a valid phone number.* \(error 21211\)"):
        TwilioSmsSender(http_client=http).send(SMS)


def test_twilio_answering_without_a_sid_is_not_counted_as_sent(twilio_settings):
    http = FakeTwilioHttp(201, {**ACCEPTED, "sid": None})
    with pytest.raises(SendFailed, match="without a message id"):
        TwilioSmsSender(http_client=http).send(SMS)


def test_twilio_without_its_account_refuses_before_any_request(settings):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM_NUMBER = "AC1", "", ""
    http = FakeTwilioHttp()
    with pytest.raises(SendFailed, match=r"SMS account \(auth token, sending number\) is missing"):
        TwilioSmsSender(http_client=http).send(SMS)
    assert http.requests == []


def test_settings_choose_the_sender_of_each_channel(settings):
    settings.MESSAGE_SENDERS = {"sms": "ketaclinic.messaging.senders.TwilioSmsSender"}
    assert isinstance(sender_for("sms"), TwilioSmsSender)
    with pytest.raises(SendFailed, match="No sender is set up for email"):
        sender_for("email")
