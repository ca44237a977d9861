"""Running the queued jobs inside a test: django-tasks-db's own ``run_task`` on each ready task, in the test's
transaction (the worker's loop also recycles the connection between tasks, which a test's transaction
cannot survive; ``test_worker.py`` runs that loop on committed data)."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from ketaclinic.jobs.worker import jobs_worker


def run_ready_jobs(limit: int = 100) -> int:
    """Run every task that is ready now (a retry waiting for its time is left queued); how many ran."""
    worker = jobs_worker(interval=0, worker_id="test")
    ran = 0
    while (
        ran < limit and (result := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None
    ):
        result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
    return ran
