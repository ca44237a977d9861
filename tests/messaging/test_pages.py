"""The pages: "Send a link to the patient's phone" queues a text message (or an email) carrying a one-time
link and lists the link messages with their status; a failed one shows its reason and is sent again from the
page; the chart shows and edits the patient's opt-outs."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ketaclinic.core.access import Role
from ketaclinic.messaging.models import SEND_ATTEMPTS, OutboundMessage
from ketaclinic.outcomes.models import PatientLink
from ketaclinic.patients.models import Patient
from tests.jobs.runner import run_ready_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def reachable(patient) -> Patient:
    Patient.objects.filter(pk=patient.pk).update(phone="+16175550123", email="maria@example.org")
    patient.refresh_from_db()
    return patient


def page(client, patient) -> str:
    return html.unescape(client.get(f"/outcomes/patient/{patient.external_id}/").content.decode())


def send(client, patient, how="sms") -> str:
    r = client.post(
        f"/outcomes/patient/{patient.external_id}/link/",
        {"instrument": "phq9", "hours": "72", "how": how},
        follow=True,
    )
    assert r.status_code == 200
    return html.unescape(r.content.decode())


def time_passes() -> None:
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - timedelta(seconds=1))


def test_send_a_link_queues_a_text_message_that_carries_a_working_one_time_link(
    reachable, staff, client_for, provider
):
    client = client_for(staff[Role.INTAKE])
    body = send(client, reachable)
    assert "The link is queued by text message to phone ending 0123" in body
    assert "Waiting to be sent" in body and "Questionnaire link" in body
    assert "/q/" not in body  # the link itself is not shown: it goes to the patient's phone
    assert provider.accepted == [] and PatientLink.objects.count() == 1
    assert run_ready_jobs() == 1
    (sms,) = provider.accepted
    assert sms.to == "+16175550123" and "Downtown" in sms.body and "988" in sms.body
    url = re.search(r"https?://\S+/q/[^/\s]+/", sms.body).group(0)
    after = page(client, reachable)
    assert re.search(
        r"Text message to phone ending 0123</td>\s*<td><span class=\"badge msg-sent\">Sent", after
    )
    assert client.get(url[url.index("/q/") :]).status_code == 200  # the patient's link opens the form
    message = OutboundMessage.objects.get()
    assert url not in message.body and "(link, works once)" in message.body


def test_send_by_email_queues_an_email_with_the_questionnaire_message(reachable, staff, client_for, provider):
    client = client_for(staff[Role.NURSE])
    assert "queued by email to m***@example.org" in send(client, reachable, "email")
    run_ready_jobs()
    (email,) = provider.accepted
    assert email.to == "maria@example.org" and email.subject.startswith("A short questionnaire from")


def test_a_failed_send_shows_its_reason_and_is_sent_again_from_the_page(
    reachable, staff, client_for, provider
):
    client = client_for(staff[Role.INTAKE])
    provider.failures = SEND_ATTEMPTS
    send(client, reachable)
    run_ready_jobs()
    assert "1 attempt failed, trying again: The provider is down" in page(client, reachable)
    time_passes()
    while run_ready_jobs():
        time_passes()
    failed = page(client, reachable)
    assert "Sending failed" in failed and "The provider is down (to phone ending 0123)" in failed
    assert "Send again" in failed and ">Sent<" not in failed
    message = OutboundMessage.objects.get()
    r = client.post(
        f"/messages/patient/{reachable.external_id}/resend/",
        {"message": str(message.external_id), "next": f"/outcomes/patient/{reachable.external_id}/"},
        follow=True,
    )
    assert "The text message is queued to be sent again." in html.unescape(r.content.decode())
    assert run_ready_jobs() == 1 and len(provider.accepted) == 1
    assert "msg-sent" in page(client, reachable)


def test_without_a_phone_or_after_an_opt_out_nothing_is_queued_and_no_link_made(
    patient, staff, client_for, provider
):
    client = client_for(staff[Role.INTAKE])
    assert 'value="sms" disabled' in page(client, patient)
    assert "has no phone number on the chart" in send(client, patient)
    Patient.objects.filter(pk=patient.pk).update(phone="+16175550123")
    chart = client.get(f"/patients/{patient.external_id}/").content.decode()
    assert "Messages from the clinic" in chart and "No text messages (the patient opted out)" in chart
    r = client.post(
        f"/messages/patient/{patient.external_id}/preferences/", {"sms_opted_out": "on"}, follow=True
    )
    assert "Message preferences saved." in r.content.decode()
    assert 'name="sms_opted_out" checked' in r.content.decode()
    form = page(client, patient)
    assert 'value="sms" disabled' in form and "— opted out" in form  # offered no more; refused anyway
    assert "asked not to receive text messages from the clinic: nothing was queued" in send(client, patient)
    assert not OutboundMessage.objects.exists() and not PatientLink.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_show_the_link_here_still_hands_out_a_link_once(reachable, staff, client_for, provider):
    body = send(client_for(staff[Role.INTAKE]), reachable, "show")
    assert (
        "Link created for the Patient Health Questionnaire-9 (PHQ-9)" in body
        and "it works once" in body
        and "/q/" in body
    )
    assert not OutboundMessage.objects.exists()


def test_a_message_of_another_patient_cannot_be_sent_again_through_this_one(
    reachable, other_patient, staff, client_for, provider
):
    client = client_for(staff[Role.INTAKE])
    r = client.post(
        f"/messages/patient/{reachable.external_id}/resend/", {"message": "not-a-uuid"}, follow=True
    )
    assert "That message is not among this patient's messages." in html.unescape(r.content.decode())
