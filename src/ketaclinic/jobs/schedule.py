"""Periodic jobs declared in code (the table is ``ketaclinic.web.jobs.SCHEDULE``), not in a crontab.

Each entry is due once a day from its time of day, in each location's own time zone (or the site's, for a
job of the whole network). ``periodic_enqueue`` enqueues every entry that is due and not yet enqueued for
that day: the day is claimed by a row with a unique key in the same transaction as the task it enqueues, so
a restarted worker, or two workers at once, never enqueue the same day twice. A worker started late in the
day still enqueues that day's run; a day the worker was down for entirely is not made up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks.base import Task

from ketaclinic.accounts.models import Location
from ketaclinic.jobs.models import PeriodicRun


@dataclass(frozen=True)
class Periodic:
    """A daily job: ``task`` is enqueued with ``(location_id, day)`` for each active location once its local
    time passes ``at`` (``per_location``), or with ``(day,)`` once for the network, ``day`` in ISO form."""

    job: str
    task: Task[..., Any]
    at: time
    description: str
    per_location: bool = True


def period_key(job: str, location: Location | None, day: date) -> str:
    return f"{job}:{location.code if location else '*'}:{day.isoformat()}"


def _due(
    entry: Periodic, locations: Sequence[Location], now: datetime
) -> Iterable[tuple[Location | None, date]]:
    places: Sequence[Location | None] = locations if entry.per_location else [None]
    for place in places:
        local = now.astimezone(ZoneInfo(place.timezone if place else settings.TIME_ZONE))
        if local.time() >= entry.at:
            yield place, local.date()


def periodic_enqueue(schedule: Sequence[Periodic], *, now: datetime | None = None) -> list[PeriodicRun]:
    """Enqueue every periodic job that is due and not yet enqueued for its day; the runs made now."""
    now = now or timezone.now()
    locations = list(Location.objects.filter(active=True).order_by("code"))
    due = [
        (entry, place, day, period_key(entry.job, place, day))
        for entry in schedule
        for place, day in _due(entry, locations, now)
    ]
    taken = set(PeriodicRun.objects.filter(key__in=[key for *_, key in due]).values_list("key", flat=True))
    made = []
    for entry, place, day, key in due:
        if key in taken:
            continue
        try:
            with transaction.atomic():
                run = PeriodicRun.objects.create(
                    key=key, job=entry.job, location=place, period=day.isoformat()
                )
                args = (place.pk, day.isoformat()) if place else (day.isoformat(),)
                run.task_id = str(entry.task.enqueue(*args).id)
                run.save(update_fields=["task_id"])
        except IntegrityError:  # another worker claimed this day between the read and the insert
            continue
        made.append(run)
    return made
