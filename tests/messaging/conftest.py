"""A fake of the Twilio library's HTTP client (no network): it answers what Twilio's REST API answers, and
keeps each request for the test to read."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response

from ketaclinic.messaging.senders import SendFailed

ACCEPTED = {
    "sid": "SM0123456789abcdef0123456789abcdef",
    "status": "queued",
    "to": "+16175550123",
    "from": "+16175550100",
    "body": "",
}


class FakeTwilioHttp(HttpClient):
    def __init__(self, status: int = 201, answer: dict[str, Any] | None = None) -> None:
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.status = status
        self.answer = ACCEPTED if answer is None else answer
        self.requests: list[dict[str, Any]] = []

    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append({"method": method, "url": uri, "data": data, "auth": auth})
        return Response(self.status, json.dumps(self.answer))


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000001"
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    settings.TWILIO_FROM_NUMBER = "+16175550100"
    return settings


class RecordingSender:
    """A provider the test controls: ``failures`` refusals first, then accepts; keeps what it accepted."""

    accepted: list[Any] = []
    failures = 0

    def send(self, message):
        if RecordingSender.failures > 0:
            RecordingSender.failures -= 1
            raise SendFailed(f"The provider is down (to {message.to})")
        RecordingSender.accepted.append(message)
        return f"ref-{len(RecordingSender.accepted)}"


@pytest.fixture
def provider(settings):
    """Both channels go to the test's provider; it starts empty and accepting."""
    path = "tests.messaging.conftest.RecordingSender"
    settings.MESSAGE_SENDERS = {"sms": path, "email": path}
    RecordingSender.accepted = []
    RecordingSender.failures = 0
    return RecordingSender
