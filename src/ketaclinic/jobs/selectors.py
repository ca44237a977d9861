"""What the clinic's admin sees of the queue: each task with its state, attempt and error, newest first, and
the count in each state; a fixed number of queries whatever the size of the queue. A task of one location (a
parameter named ``location_id``, like the daily questionnaire links) names its location, and its times are
shown in that location's time zone."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ketaclinic.accounts.models import Location
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
LOCATION_PARAMETER = "location_id"  # a task with this parameter runs for one location


@cache
def job_label(task_path: str) -> str:
    """A task's first docstring line (``Email the questionnaire links due today at one location``)."""
    try:
        func = getattr(import_string(task_path), "func", None)
    except ImportError:
        return UNKNOWN_JOB
    doc = (getattr(func, "__doc__", None) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else task_path.rsplit(".", 1)[-1].replace("_", " ")


@cache
def _signature(task_path: str) -> inspect.Signature | None:
    """The task's own parameters, when it takes ``location_id`` (None otherwise, or for an unknown task)."""
    try:
        func = getattr(import_string(task_path), "func", None)
    except ImportError:
        return None
    if func is None:
        return None
    signature = inspect.signature(func)  # through ``functools.wraps``: the task's own parameters
    return signature if LOCATION_PARAMETER in signature.parameters else None


def job_location_id(result: Result) -> int | None:
    """The key of the location a task runs for, read from its arguments (None for a task of the network)."""
    signature = _signature(result.task_path)
    if signature is None:
        return None
    stored = result.args_kwargs or {}
    kwargs = {k: v for k, v in (stored.get("kwargs") or {}).items() if k != ATTEMPT}
    try:
        bound = signature.bind_partial(*(stored.get("args") or []), **kwargs)
    except TypeError:  # the arguments of an older version of the task
        return None
    value = bound.arguments.get(LOCATION_PARAMETER)
    return value if isinstance(value, int) else None


@dataclass(frozen=True)
class JobRow:
    label: str
    location: str  # the name of the location the task runs for, '' for a task of the network
    zone: str  # the time zone its times are shown in: its location's, else the site's
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


def job_locations(results: Iterable[Result]) -> dict[int, Location]:
    """The locations a page of tasks runs for, in one query."""
    ids = {pk for pk in map(job_location_id, results) if pk is not None}
    return Location.objects.in_bulk(ids) if ids else {}


def job_row(result: Result, locations: dict[int, Location] | None = None) -> JobRow:
    """One task as the admin sees it; ``locations`` from :func:`job_locations` (a location not in it, or
    deleted, is named by nobody)."""
    location_id = job_location_id(result)
    location = (locations or {}).get(location_id) if location_id is not None else None
    kwargs = (result.args_kwargs or {}).get("kwargs") or {}
    waits = (
        result.run_after
        if result.status == TaskResultStatus.READY and result.run_after > timezone.now()
        else None
    )
    return JobRow(
        label=job_label(result.task_path),
        location=location.name if location else "",
        zone=location.timezone if location else settings.TIME_ZONE,
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


def job_rows(results: Iterable[Result]) -> list[JobRow]:
    """A page of the queue as rows, with the names of their locations (one query more, whatever the page)."""
    page = list(results)
    locations = job_locations(page)
    return [job_row(result, locations) for result in page]


def job_counts() -> dict[str, int]:
    """How many tasks are in each state (every state listed, zero included)."""
    counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {str(status): counts.get(status, 0) for status in STATES}
