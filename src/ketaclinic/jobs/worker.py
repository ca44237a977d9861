"""The worker: django-tasks-db's own loop (claiming each task under a row lock, recording its result or its
error), with the periodic jobs enqueued whenever the queue is empty, at least every ``interval`` seconds."""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.utils.crypto import get_random_string
from django_tasks.base import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker

from ketaclinic.jobs.schedule import Periodic, periodic_enqueue


def jobs_worker(*, interval: float, worker_id: str = "") -> Worker:
    """A worker that runs every task that is ready, then returns (the caller loops)."""
    return Worker(
        queue_names=[DEFAULT_TASK_QUEUE_NAME],
        interval=interval,
        batch=True,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id or get_random_string(32),
        excluded_queue_names=[],
    )


def jobs_run(
    schedule: Sequence[Periodic], *, interval: float, once: bool = False, worker_id: str = ""
) -> None:
    """Enqueue what the schedule says is due, run every ready task, sleep ``interval``; again until stopped
    (SIGINT/SIGTERM let a running task finish). ``once`` makes a single pass."""
    worker = jobs_worker(interval=interval, worker_id=worker_id)
    if not once:
        worker.configure_signals()
    while worker.running:
        periodic_enqueue(schedule)
        worker.run()
        if once:
            return
        time.sleep(interval)
