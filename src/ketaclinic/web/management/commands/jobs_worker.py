"""``ketaclinic manage jobs_worker``: run the background jobs (django-tasks-db's worker) and enqueue the
periodic jobs of ``ketaclinic.web.jobs.SCHEDULE`` once per period. Several may run at once (each claims a
task under a row lock; a period is enqueued once). See docs/jobs.md."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandParser

from ketaclinic.jobs.worker import jobs_run
from ketaclinic.web.jobs import SCHEDULE


class Command(BaseCommand):
    help = "Run the background jobs and enqueue the periodic ones when they are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds to wait when nothing is ready (default 5)."
        )
        parser.add_argument(
            "--once", action="store_true", help="Enqueue what is due, run every ready job, then exit."
        )
        parser.add_argument("--worker-id", default="", help="A name for this worker (default: random).")

    def handle(self, *args: object, interval: float, once: bool, worker_id: str, **options: object) -> None:
        # Each task started, finished or failed (with its traceback) is logged by django-tasks; the worker
        # loop's own "starting"/"no more tasks" lines would repeat every pass, so only its warnings show.
        tasks_log, loop_log = logging.getLogger("django_tasks"), logging.getLogger("django_tasks_db")
        for log in (tasks_log, loop_log):
            if not log.hasHandlers():
                log.addHandler(logging.StreamHandler(self.stdout))
        tasks_log.setLevel(logging.INFO if int(str(options.get("verbosity", 1))) >= 1 else logging.WARNING)
        loop_log.setLevel(logging.WARNING)
        jobs = ", ".join(f"{p.job} at {p.at:%H:%M}" for p in SCHEDULE)
        self.stdout.write(
            f"Jobs worker: running queued jobs; daily: {jobs}; idle check every {interval:g} s."
        )
        self.stdout.flush()
        jobs_run(SCHEDULE, interval=interval, once=once, worker_id=worker_id)
