"""The outbox: a message is queued with its sending job in the caller's transaction (a rolled-back change
sends nothing), refused on an opted-out channel or without an address, retried with doubling waits, and
shown as sent only when the provider accepted it; a failed message shows its reason and can be sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.messaging import services
from ketaclinic.messaging.delivery import OPTED_OUT_MEANWHILE
from ketaclinic.messaging.models import SEND_ATTEMPTS, OutboundMessage
from ketaclinic.messaging.services import BAD_PHONE, NO_EMAIL, NO_PHONE, NOT_FAILED
from ketaclinic.patients.models import Patient
from tests.jobs.runner import run_ready_jobs

pytestmark = pytest.mark.django_db
LINK = "Downtown Clinic: please answer https://clinic.example.org/q/SECRET-TOKEN/"
SHOWN = "Downtown Clinic: please answer https://clinic.example.org/q/(link)/"


@pytest.fixture
def reachable(patient) -> Patient:
    Patient.objects.filter(pk=patient.pk).update(phone="+16175550123", email="maria@example.org")
    patient.refresh_from_db()
    return patient


def queue(patient, channel="sms", **kw) -> OutboundMessage:
    return services.message_queue(
        patient=patient, channel=channel, body=LINK, shown_body=SHOWN, purpose="questionnaire_link", **kw
    )


def time_passes() -> None:
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - timedelta(seconds=1))


def test_a_queued_message_is_sent_by_the_worker_and_only_then_shows_as_sent(reachable, provider):
    message = queue(reachable)
    assert (message.status, message.sent_at, provider.accepted) == ("queued", None, [])
    assert run_ready_jobs() == 1
    message.refresh_from_db()
    (accepted,) = provider.accepted
    assert (accepted.to, accepted.body) == ("+16175550123", LINK)
    assert message.status == "sent" and message.provider_reference == "ref-1" and message.sent_at is not None
    assert message.body == SHOWN  # the delivered one-time link is no longer readable in the database
    assert AuditEntry.objects.filter(summary__endswith="to phone ending 0123: sent").exists()


def test_a_rolled_back_change_sends_nothing(reachable, provider):
    queued_inside = []

    def change_then_fail() -> None:
        with transaction.atomic():
            queue(reachable)
            queued_inside.append(DBTaskResult.objects.count())
            raise RuntimeError("the change that caused the message fails")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert queued_inside == [1]  # queued inside the change's transaction...
    assert not OutboundMessage.objects.exists() and not DBTaskResult.objects.exists()  # ...and left with it
    assert run_ready_jobs() == 0 and provider.accepted == []


@pytest.mark.parametrize(("channel", "field"), [("sms", "sms_opted_out"), ("email", "email_opted_out")])
def test_an_opted_out_channel_is_refused_and_nothing_is_queued(reachable, provider, staff, channel, field):
    other = {"sms_opted_out": False, "email_opted_out": False, field: True}
    services.contact_preference_set(user=staff[Role.INTAKE], patient=reachable, **other)
    with pytest.raises(ValidationError, match="asked not to receive") as refused:
        queue(reachable, channel)
    assert refused.value.field == "channel"
    assert not OutboundMessage.objects.exists() and not DBTaskResult.objects.exists()
    # the other channel still works
    assert queue(reachable, "email" if channel == "sms" else "sms").status == "queued"


def test_a_missing_or_unreachable_address_is_refused_in_words(patient, provider):
    with pytest.raises(ValidationError) as no_phone:
        queue(patient, "sms")
    assert no_phone.value.message == NO_PHONE.format(name=patient.display_name)
    with pytest.raises(ValidationError) as no_email:
        queue(patient, "email")
    assert no_email.value.message == NO_EMAIL.format(name=patient.display_name)
    Patient.objects.filter(pk=patient.pk).update(phone="555-01")
    patient.refresh_from_db()
    with pytest.raises(ValidationError) as bad:
        queue(patient, "sms")
    assert bad.value.message == BAD_PHONE.format(name=patient.display_name, value="555-01")
    assert not OutboundMessage.objects.exists() and not DBTaskResult.objects.exists()


def test_a_failed_attempt_is_retried_and_a_later_success_shows_as_sent(reachable, provider):
    provider.failures = 2
    message = queue(reachable)
    for attempt in (1, 2):
        assert run_ready_jobs() == 1
        message.refresh_from_db()
        assert message.status == "queued" and message.attempts == attempt and message.sent_at is None
        assert message.last_error == "The provider is down (to phone ending 0123)"  # the number masked
        time_passes()
    assert run_ready_jobs() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    assert len(provider.accepted) == 1 and run_ready_jobs() == 0


def test_a_message_the_provider_never_accepts_shows_as_failed_never_sent_and_can_be_sent_again(
    reachable, provider, staff
):
    provider.failures = SEND_ATTEMPTS
    message = queue(reachable)
    waits = []
    while run_ready_jobs():
        waiting = DBTaskResult.objects.filter(status="READY").first()
        if waiting is not None:
            waits.append(round((waiting.run_after - waiting.enqueued_at).total_seconds()))
        time_passes()
    message.refresh_from_db()
    assert waits == [60, 120, 240, 480]
    assert message.status == "failed" and message.sent_at is None and message.provider_reference == ""
    assert message.attempts == SEND_ATTEMPTS and "provider is down" in message.last_error
    assert provider.accepted == []
    services.message_resend(user=staff[Role.INTAKE], message=message)
    assert run_ready_jobs() == 1
    message.refresh_from_db()
    assert message.status == "sent" and len(provider.accepted) == 1
    with pytest.raises(ValidationError) as again:
        services.message_resend(user=staff[Role.INTAKE], message=message)
    assert again.value.message == NOT_FAILED.format(status="sent")


def test_the_database_refuses_a_sent_message_without_the_providers_reference(reachable, provider):
    message = queue(reachable)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk).update(status="sent", sent_at=timezone.now())


def test_a_message_queued_before_an_opt_out_is_not_sent_and_cannot_be_sent_again(reachable, provider, staff):
    message = queue(reachable)
    services.contact_preference_set(
        user=staff[Role.INTAKE], patient=reachable, sms_opted_out=True, email_opted_out=False
    )
    assert run_ready_jobs() == 1 and provider.accepted == []
    message.refresh_from_db()
    assert message.status == "failed" and message.sent_at is None
    assert message.last_error == OPTED_OUT_MEANWHILE.format(channel="text message")
    with pytest.raises(ValidationError, match="asked not to receive text messages"):
        services.message_resend(user=staff[Role.INTAKE], message=message)
