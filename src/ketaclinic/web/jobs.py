"""The background jobs of the whole clinic: what runs periodically (``SCHEDULE``, the table the worker reads)
and the admin's page that shows the queue (queued, running, done, failed, with each failure's error)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from ketaclinic.accounts.http import AuthedRequest
from ketaclinic.accounts.permissions import require
from ketaclinic.core.access import Permission
from ketaclinic.jobs import tasks as jobs_tasks
from ketaclinic.jobs.models import PeriodicRun
from ketaclinic.jobs.schedule import Periodic
from ketaclinic.jobs.selectors import STATES, UNKNOWN_JOB, job_counts, job_results, job_rows
from ketaclinic.outcomes import tasks as outcomes_tasks
from ketaclinic.reminders import tasks as reminders_tasks

# Every periodic job, declared here rather than in a crontab; times are each location's local time.
SCHEDULE: tuple[Periodic, ...] = (
    Periodic(
        job="due_links",
        task=outcomes_tasks.due_links_location,
        at=time(8, 0),
        description="Email patients the questionnaire links due today",
    ),
    Periodic(
        job="infusion_reminders",
        task=reminders_tasks.preparation_reminders_location,
        at=time(10, 0),
        description="Remind tomorrow's infusion patients to prepare and bring a driver (link to confirm)",
    ),
    Periodic(
        job="prune",
        task=jobs_tasks.finished_jobs_prune,
        at=time(3, 0),
        description="Delete finished jobs more than 30 days old",
        per_location=False,
    ),
    Periodic(
        job="outcome_summaries",
        task=outcomes_tasks.outcome_summaries_complete,
        at=time(4, 30),
        description="Build the outcomes dashboard's summaries if a build waits (after an upgrade)",
        per_location=False,
    ),
)


@dataclass(frozen=True)
class RunRow:
    """A daily run queued, in the clinic's words: the job, where (the location's name), its day, and when it
    was queued in that location's time zone."""

    job: str
    location: str
    period: str
    enqueued_at: datetime
    zone: str


def run_rows(limit: int = 20) -> list[RunRow]:
    described = {p.job: p.description for p in SCHEDULE}
    return [
        RunRow(
            job=described.get(run.job, UNKNOWN_JOB),
            location=run.location.name if run.location else "All locations",
            period=run.period,
            enqueued_at=run.enqueued_at,
            zone=run.location.timezone if run.location else settings.TIME_ZONE,
        )
        for run in PeriodicRun.objects.select_related("location")[:limit]
    ]


@login_required
def jobs_page(request: AuthedRequest) -> HttpResponse:
    require(request.user, Permission.JOBS_VIEW)
    status = request.GET.get("status", "")
    page = Paginator(job_results(status=status), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "jobs/list.html",
        {
            "rows": job_rows(page),
            "page": page,
            "status": status if status in STATES else "",
            "states": [
                (key, label, n) for (key, label), n in zip(STATES.items(), job_counts().values(), strict=True)
            ],
            "schedule": SCHEDULE,
            "runs": run_rows(),
        },
    )
