"""Background jobs: enqueued in the transaction that causes them (a rolled-back change sends nothing),
retried with growing waits until the last attempt is audited, shown to the clinic's admin; the daily
questionnaire links enqueued once per location and day, and walked in fixed-size chunks of patients."""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ketaclinic.accounts.models import Location
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.jobs.models import PeriodicRun
from ketaclinic.jobs.retries import FINAL_FAILURE, backoff
from ketaclinic.jobs.schedule import periodic_enqueue
from ketaclinic.jobs.tasks import finished_jobs_prune
from ketaclinic.messaging.models import OutboundMessage
from ketaclinic.outcomes import selectors
from ketaclinic.outcomes.models import QuestionnaireDue, SafetyFlag
from ketaclinic.outcomes.services import due_links_send, response_record
from ketaclinic.web.jobs import SCHEDULE
from tests.conftest import register
from tests.jobs.runner import run_ready_jobs
from tests.outcomes.conftest import phq9
from tests.outcomes.test_due import course, give_plan  # noqa: F401 - the due-links course fixture

pytestmark = pytest.mark.django_db
LINKS = [p for p in SCHEDULE if p.job == "due_links"]


@pytest.fixture
def reachable(staff):
    prescriber = staff[Role.PRESCRIBER]
    prescriber.email = "dr.tester@clinic.example.org"
    prescriber.save(update_fields=["email"])
    return prescriber


def urgent_answer(nurse, patient):
    return response_record(user=nurse, patient=patient, instrument="phq9", answers=phq9(18, item9=2))


def test_a_flag_raised_by_a_rolled_back_answer_emails_nobody(staff, patient, reachable):
    queued_inside = []

    def answer_then_fail() -> None:
        with transaction.atomic():
            urgent_answer(staff[Role.NURSE], patient)
            queued_inside.append(DBTaskResult.objects.count())
            raise RuntimeError("the answer's transaction fails after the flag was raised")

    with pytest.raises(RuntimeError):
        answer_then_fail()
    assert queued_inside == [1]  # the email was queued inside the answer's transaction...
    assert not SafetyFlag.objects.exists() and not DBTaskResult.objects.exists()  # ...and left with it
    assert run_ready_jobs() == 0 and mail.outbox == []


def test_a_committed_flag_emails_its_prescriber_through_the_worker(staff, patient, reachable):
    urgent_answer(staff[Role.NURSE], patient)
    assert mail.outbox == []  # the answer is saved without waiting for the mail server
    assert run_ready_jobs() == 1
    assert [m.to for m in mail.outbox] == [["dr.tester@clinic.example.org"]]
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"]
    assert AuditEntry.objects.filter(summary__contains="notified by email (sent)").count() == 1


def refuse(*args, **kwargs):
    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def time_passes() -> None:
    """Every retry waiting for its time becomes ready (as if the wait had passed)."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - timedelta(seconds=1))


def test_a_failing_email_is_retried_with_doubling_waits_and_its_last_failure_audited(
    staff, patient, reachable, monkeypatch
):
    monkeypatch.setattr("ketaclinic.outcomes.emails.send_mail", refuse)
    urgent_answer(staff[Role.NURSE], patient)
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
        summary__startswith=FINAL_FAILURE.split("{job}")[0] + "safety_flag_email failed 6 times",
    ).exists()
    assert AuditEntry.objects.filter(summary__contains="notified by email (failed").count() == 6


def test_a_retry_that_succeeds_ends_the_retries(staff, patient, reachable, monkeypatch):
    monkeypatch.setattr("ketaclinic.outcomes.emails.send_mail", refuse)
    urgent_answer(staff[Role.NURSE], patient)
    run_ready_jobs()
    monkeypatch.undo()
    time_passes()
    assert run_ready_jobs() == 1 and run_ready_jobs() == 0
    statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == ["FAILED", "SUCCESSFUL"] and len(mail.outbox) == 1


def test_the_admin_sees_queued_done_and_failed_jobs_with_the_error(
    staff, patient, reachable, monkeypatch, client_for
):
    monkeypatch.setattr("ketaclinic.outcomes.emails.send_mail", refuse)
    urgent_answer(staff[Role.NURSE], patient)
    run_ready_jobs()
    admin = client_for(staff[Role.ADMIN])
    page = admin.get("/jobs/").content.decode()
    assert "Tell a prescriber by email that a patient&#x27;s safety flag waits for them" in page
    assert "Failed (1)" in page and "Queued (1)" in page and "Done (0)" in page
    assert "JobIncomplete: The safety-flag email to a prescriber failed: SMTPServerDisconnected" in page
    assert "dr.tester" not in page  # the address is masked in the error
    assert "not before" in page  # the retry waits for its time
    failed_only = admin.get("/jobs/?status=FAILED").content.decode()
    assert failed_only.count("<td>Failed</td>") == 1 and "<td>Queued" not in failed_only


def test_the_daily_links_are_enqueued_once_per_location_and_day_in_its_own_time_zone(downtown):
    west = Location.objects.create(code="west", name="West Clinic", timezone="America/Los_Angeles")
    ny = ZoneInfo("America/New_York")
    morning = datetime(2026, 11, 25, 8, 30, tzinfo=ny)  # 05:30 in Los Angeles: not yet due there
    made = periodic_enqueue(LINKS, now=morning)
    assert [(r.location, r.period) for r in made] == [(downtown, "2026-11-25")]
    assert periodic_enqueue(LINKS, now=morning + timedelta(minutes=5)) == []  # a restarted worker
    later = periodic_enqueue(LINKS, now=morning + timedelta(hours=3))  # 08:30 in Los Angeles
    assert [(r.location, r.period) for r in later] == [(west, "2026-11-25")]
    assert periodic_enqueue(LINKS, now=datetime(2026, 11, 25, 7, 59, tzinfo=ny) + timedelta(days=1)) == []
    assert len(periodic_enqueue(LINKS, now=morning + timedelta(days=1))) == 1
    tasks = DBTaskResult.objects.order_by("enqueued_at")
    assert [t.args_kwargs["args"] for t in tasks] == [
        [downtown.pk, "2026-11-25"],
        [west.pk, "2026-11-25"],
        [downtown.pk, "2026-11-26"],
    ]
    assert PeriodicRun.objects.count() == 3


def test_finished_jobs_are_pruned_once_a_day_after_30_days_and_queued_ones_never(downtown):
    ny = ZoneInfo("America/New_York")
    night = datetime(2026, 11, 25, 3, 5, tzinfo=ny)
    old_done, old_queued, recent_done = (
        finished_jobs_prune.enqueue("2026-01-01"),
        finished_jobs_prune.enqueue("2026-01-02"),
        finished_jobs_prune.enqueue("2026-01-03"),
    )
    DBTaskResult.objects.filter(pk__in=[old_done.id, recent_done.id]).update(
        status="SUCCESSFUL", finished_at=night - timedelta(days=20)
    )
    DBTaskResult.objects.filter(pk=old_done.id).update(finished_at=night - timedelta(days=31))
    DBTaskResult.objects.filter(pk=old_queued.id).update(run_after=night + timedelta(days=365))
    made = periodic_enqueue(SCHEDULE, now=night)  # 03:05: the prune is due, the links (08:00) not yet
    assert [(r.job, r.location, r.period) for r in made] == [("prune", None, "2026-11-25")]
    assert periodic_enqueue(SCHEDULE, now=night + timedelta(hours=1)) == []
    assert run_ready_jobs() == 1
    left = set(DBTaskResult.objects.values_list("id", flat=True))
    assert str(old_done.id) not in {str(i) for i in left}
    assert {str(old_queued.id), str(recent_done.id)} <= {str(i) for i in left}


def test_a_day_claimed_by_another_worker_is_not_enqueued_again(downtown):
    morning = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    PeriodicRun.objects.create(key="due_links:downtown:2026-11-25", job="due_links", period="2026-11-25")
    assert periodic_enqueue(LINKS, now=morning) == [] and not DBTaskResult.objects.exists()


def test_the_daily_links_job_queues_a_locations_links_and_the_outbox_retries_what_failed(course, monkeypatch):  # noqa: F811
    downtown = course.location
    periodic_enqueue(LINKS, now=timezone.now().astimezone(ZoneInfo(downtown.timezone)).replace(hour=9))
    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert run_ready_jobs() == 2  # the location's run, then the email's first attempt
    run = DBTaskResult.objects.get(status="SUCCESSFUL")
    assert run.return_value.startswith("2 queued to be emailed")
    failed = DBTaskResult.objects.get(status="FAILED")
    assert "The message was not sent: The mail server did not accept it" in failed.traceback
    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts, mail.outbox) == ("queued", 1, [])
    monkeypatch.undo()
    time_passes()
    assert run_ready_jobs() == 1 and len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2


def test_the_daily_links_walk_patients_in_fixed_chunks_with_the_same_queries_per_chunk(
    staff, downtown, northside, protocols, monkeypatch
):
    """Memory and queries per chunk do not grow with the network: each chunk reads at most ``chunk_size``
    patients, and every further chunk costs the same number of queries."""
    prescriber, intake = staff[Role.PRESCRIBER], staff[Role.INTAKE]
    patients = []
    for n in range(6):
        p = register(intake, downtown, given_name=f"P{n}", family_name="Chunk", email=f"p{n}@example.org")
        give_plan(p, protocols, prescriber, intake)
        patients.append(p)
    base = "https://clinic.example.org"
    due_links_send(user=None, base_url=base, location=downtown)  # everyone has a live link now
    seen: list[list[int]] = []
    real = selectors.questionnaire_worklist
    where = "ketaclinic.outcomes.services.dispatch."

    def spy(**kwargs):
        seen.append(list(kwargs["among"]))
        return real(**kwargs)

    monkeypatch.setattr(where + "questionnaire_worklist", spy)

    def queries(limit: int) -> int:
        ids = [p.pk for p in patients[:limit]]
        # the clinic's first ``limit`` patients: the others' questionnaires are listed elsewhere for this run
        QuestionnaireDue.objects.update(location=downtown)
        QuestionnaireDue.objects.exclude(patient_id__in=ids).update(location=northside)
        with CaptureQueriesContext(connection) as ctx:
            summary = due_links_send(user=None, base_url=base, location=downtown, chunk_size=2)
        assert summary.live_link == limit * 2  # PHQ-9 and GAD-7 each: nothing sent twice
        return len(ctx.captured_queries)

    two, four, six = queries(2), queries(4), queries(6)
    assert four - two == six - four > 0  # one more chunk costs the same, however many came before
    assert max(len(chunk) for chunk in seen) == 2
    assert sorted(pk for chunk in seen[-3:] for pk in chunk) == sorted(p.pk for p in patients)
