"""What the clinic's admin sees of the queue: each task with its state, attempt and error, newest first, and
the count in each state; a fixed number of queries whatever the size of the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ketaclinic.jobs.retries import ATTEMPT

# The clinic's words for the queue's states.
STATES = {
    TaskResultStatus.READY: "Queued",
    TaskResultStatus.RUNNING: "Running",
    TaskResultStatus.SUCCESSFUL: "Done",
    TaskResultStatus.FAILED: "Failed",
}
UNKNOWN_JOB = "A job this version no longer has"
Result = DBTaskResult[..., Any]  # one task (one attempt) in the queue


@cache
def job_label(task_path: str) -> str:
    """A task's first docstring line (``Email the questionnaire links due today at one location``)."""
    try:
        func = getattr(import_string(task_path), "func", None)
    except ImportError:
        return UNKNOWN_JOB
    doc = (getattr(func, "__doc__", None) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else task_path.rsplit(".", 1)[-1].replace("_", " ")


@dataclass(frozen=True)
class JobRow:
    label: str
    state: str
    status: str
    attempt: int
    enqueued_at: datetime
    waits_until: datetime | None  # a queued task (a retry) that may not run before this
    started_at: datetime | None
    finished_at: datetime | None
    error: str  # the exception's last line, for a failed attempt


def _error(result: Result) -> str:
    lines = [line for line in (result.traceback or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def job_row(result: Result) -> JobRow:
    kwargs = (result.args_kwargs or {}).get("kwargs") or {}
    waits = (
        result.run_after
        if result.status == TaskResultStatus.READY and result.run_after > timezone.now()
        else None
    )
    return JobRow(
        label=job_label(result.task_path),
        state=STATES.get(TaskResultStatus(result.status), result.status),
        status=result.status,
        attempt=int(kwargs.get(ATTEMPT, 1)),
        enqueued_at=result.enqueued_at,
        waits_until=waits,
        started_at=result.started_at,
        finished_at=result.finished_at,
        error=_error(result) if result.status == TaskResultStatus.FAILED else "",
    )


def job_results(*, status: str = "") -> QuerySet[Result]:
    """The queue, newest first; only one state when ``status`` names one."""
    qs = DBTaskResult.objects.order_by("-enqueued_at", "-id")
    return qs.filter(status=status) if status in STATES else qs


def job_counts() -> dict[str, int]:
    """How many tasks are in each state (every state listed, zero included)."""
    counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {str(status): counts.get(status, 0) for status in STATES}
