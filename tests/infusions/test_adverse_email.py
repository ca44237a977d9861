"""The prescriber's email about a severe adverse event goes through the background jobs, like the
safety-flag email: enqueued in the event's own transaction (a rolled-back event emails nobody), sent by the
worker (recording the event never waits for the mail server), retried with doubling waits, its last failure
audited."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ketaclinic.audit.models import AuditEntry
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import AdverseEvent
from ketaclinic.infusions.notifications import ADVERSE_NOBODY
from ketaclinic.jobs.retries import FINAL_FAILURE, backoff
from tests.clock import advance
from tests.infusions.conftest import fresh, walk
from tests.jobs.runner import run_ready_jobs

pytestmark = pytest.mark.django_db
ADDRESS = "dr.chair@clinic.example.org"


@pytest.fixture
def recovering(session, nurse, prescriber):
    prescriber.email = ADDRESS
    prescriber.save(update_fields=["email"])
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(5)
    mail.outbox.clear()
    return fresh(session)


def severe(nurse, session) -> AdverseEvent:
    return s.adverse_event_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        kind="seizure",
        severity="severe",
        notes="Tonic-clonic, 40 s",
    )


def refuse(*args, **kwargs):
    raise smtplib.SMTPServerDisconnected(f"Connection to {ADDRESS} unexpectedly closed")


def time_passes() -> None:
    """Every retry waiting for its time becomes ready (as if the wait had passed)."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - timedelta(seconds=1))


def test_a_rolled_back_adverse_event_emails_nobody(recovering, nurse):
    queued_inside = []

    def record_then_fail() -> None:
        with transaction.atomic():
            severe(nurse, recovering)
            queued_inside.append(DBTaskResult.objects.count())
            raise RuntimeError("the page's transaction fails after the event was recorded")

    with pytest.raises(RuntimeError):
        record_then_fail()
    assert queued_inside == [1]  # the email was queued inside the event's transaction...
    assert not AdverseEvent.objects.exists() and not DBTaskResult.objects.exists()  # ...and left with it
    assert run_ready_jobs() == 0 and mail.outbox == []


def test_the_worker_emails_the_prescriber_with_the_event_and_no_name(recovering, nurse):
    event = severe(nurse, recovering)
    assert mail.outbox == []  # recorded without waiting for the mail server
    assert run_ready_jobs() == 1 and run_ready_jobs() == 0
    (message,) = mail.outbox
    assert message.to == [ADDRESS] and "Severe adverse event at Downtown Clinic" in message.subject
    local = event.at.astimezone(ZoneInfo(recovering.location.timezone))
    assert f"Seizure (severe) at {local:%H:%M}" in message.body and "Tonic-clonic, 40 s" in message.body
    assert f"Recorded by: {nurse.get_full_name() or nurse.username}" in message.body
    assert recovering.patient.family_name not in f"{message.subject} {message.body}"
    (entry,) = AuditEntry.objects.filter(summary__contains="notified by email (sent)")
    assert entry.patient_external_id == recovering.patient.external_id
    assert entry.detail["to"] == "d***@clinic.example.org"  # the address masked
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"]


def test_a_failing_email_is_retried_with_doubling_waits_and_its_last_failure_audited(
    recovering, nurse, monkeypatch
):
    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    severe(nurse, recovering)
    waits = []
    for _ in range(10):
        if not run_ready_jobs():
            break
        queued = DBTaskResult.objects.filter(status="READY").first()
        if queued is not None:
            waits.append(round((queued.run_after - queued.enqueued_at).total_seconds()))
        time_passes()
    first = timedelta(minutes=1)
    assert waits == [backoff(n, first).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 480, 960]
    assert DBTaskResult.objects.filter(status="FAILED").count() == 6 and mail.outbox == []
    assert AuditEntry.objects.filter(
        action="system",
        summary__startswith=FINAL_FAILURE.split("{job}")[0] + "adverse_event_email failed 6 times",
    ).exists()
    assert AuditEntry.objects.filter(summary__contains="notified by email (failed").count() == 6
    errors = " ".join(DBTaskResult.objects.values_list("traceback", flat=True))
    assert "SMTPServerDisconnected" in errors and ADDRESS not in errors  # the address masked in the error


def test_a_retry_that_succeeds_ends_the_retries(recovering, nurse, monkeypatch):
    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    severe(nurse, recovering)
    assert run_ready_jobs() == 1 and mail.outbox == []
    monkeypatch.undo()
    time_passes()
    assert run_ready_jobs() == 1 and run_ready_jobs() == 0
    statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == ["FAILED", "SUCCESSFUL"] and [m.to for m in mail.outbox] == [[ADDRESS]]


def test_with_no_prescriber_to_email_the_event_is_audited_at_once_and_nothing_queued(
    session, nurse, prescriber
):
    session = fresh(walk(session, "recovering", nurse=nurse, prescriber=prescriber))  # nobody has an address
    advance(5)
    severe(nurse, session)
    assert not DBTaskResult.objects.exists()
    assert AuditEntry.objects.filter(summary=ADVERSE_NOBODY.format(kind="Seizure")).exists()
