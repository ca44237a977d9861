"""Retries with exponential backoff. Django's Tasks API (and the django-tasks backport) runs a task once and
records its failure; a task made with ``retried`` enqueues its next attempt ``first_delay * 2**(n-1)`` after
the n-th failure, up to ``attempts``, and writes the last failure to the audit trail. Each attempt is its own
row in the queue (the admin's jobs page shows which attempt it was and its error)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record

ATTEMPT = "attempt"  # the keyword argument that numbers an attempt (the first has none)
FINAL_FAILURE = "Background job {job} failed {attempts} times and will not be retried: {error}"


def backoff(attempt: int, first_delay: timedelta) -> timedelta:
    """The wait after the ``attempt``-th failure: ``first_delay``, then twice as long each time."""
    return first_delay * (1 << (attempt - 1))


def retried(
    *, attempts: int = 5, first_delay: timedelta = timedelta(seconds=30), priority: int = 0
) -> Callable[[Callable[..., Any]], Task[..., Any]]:
    """Make ``func`` a task that is tried up to ``attempts`` times, waiting longer after each failure."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")

    def decorate(func: Callable[..., Any]) -> Task[..., Any]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            attempt = int(kwargs.pop(ATTEMPT, 1))
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                if attempt < attempts:
                    this.using(run_after=timezone.now() + backoff(attempt, first_delay)).enqueue(
                        *args, **kwargs, **{ATTEMPT: attempt + 1}
                    )
                else:
                    audit_record(
                        action=AuditEntry.Action.SYSTEM,
                        summary=FINAL_FAILURE.format(job=func.__name__, attempts=attempts, error=error),
                        detail={"job": func.__name__, "attempts": attempts},
                    )
                raise

        this: Task[..., Any] = task(priority=priority)(run)
        return this

    return decorate
