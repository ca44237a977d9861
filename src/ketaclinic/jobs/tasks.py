"""The queue's own housekeeping: finished jobs are kept for ``KEEP_FINISHED`` (the admin's page shows them),
then deleted, so the table does not grow with the years."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ketaclinic.jobs.retries import retried

KEEP_FINISHED = timedelta(days=30)


@retried(attempts=3, first_delay=timedelta(minutes=10))
def finished_jobs_prune(day: str) -> int:
    """Delete finished background jobs more than 30 days old.

    Queued and running jobs are never deleted; the number deleted is returned."""
    cutoff = timezone.make_aware(datetime.combine(date.fromisoformat(day), time.min)) - KEEP_FINISHED
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
