"""The worker itself (``ketaclinic manage jobs_worker``), on committed data as in production (PostgreSQL):
the loop of django-tasks-db claims each queued task, runs it and records its result; the manual
``send_due_links --enqueue`` and the schedule both go through it."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from ketaclinic.accounts.models import Location
from ketaclinic.jobs.models import PeriodicRun
from ketaclinic.outcomes.tasks import due_links_enqueue
from ketaclinic.web.jobs import SCHEDULE
from tests.outcomes.test_due import course  # noqa: F401 - the due-links course fixture

# Committed data on PostgreSQL (emptied after by TRUNCATE); the tests' in-memory SQLite cannot be emptied
# that way (the audit trail refuses DELETE), so there the same passes run in the test's own transaction.
pytestmark = pytest.mark.django_db(transaction=os.environ.get("DATABASE_URL", "").startswith("postgres"))


def test_links_queued_by_hand_are_sent_by_the_worker_and_the_days_run_is_queued_once(course):  # noqa: F811
    out = StringIO()
    call_command("send_due_links", "--enqueue", stdout=out)
    assert "1 location job(s) queued for the worker" in out.getvalue() and mail.outbox == []
    call_command("jobs_worker", "--once", stdout=StringIO())
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["maria.garcia@example.org"]
    # The schedule's runs for today (the links per location, the prune, the summaries) were queued by the
    # same pass when their time has come (it depends on when the test runs): either way once, however many
    # passes.
    runs = PeriodicRun.objects.count()
    call_command("jobs_worker", "--once", stdout=StringIO())
    most = sum(Location.objects.filter(active=True).count() if p.per_location else 1 for p in SCHEDULE)
    assert PeriodicRun.objects.count() == runs <= most
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert len(mail.outbox) == 1  # the scheduled run found every link already sent


def test_a_committed_change_is_run_and_a_rolled_back_one_never_reaches_the_worker(course):  # noqa: F811
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            due_links_enqueue()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert not DBTaskResult.objects.exists()
    due_links_enqueue()
    call_command("jobs_worker", "--once", stdout=StringIO())
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() >= 1 and len(mail.outbox) == 1
