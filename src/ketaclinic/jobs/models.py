"""The periodic runs already enqueued: one row per job and period (a location's day), unique in the
database, so a restarted worker or a second worker never enqueues the same period twice."""

from __future__ import annotations

from django.db import models

from ketaclinic.accounts.models import Location


class PeriodicRun(models.Model):
    key = models.CharField(max_length=200, unique=True)  # job, location code (or *) and period, e.g. its day
    job = models.CharField(max_length=100)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True)
    period = models.CharField(max_length=40)
    task_id = models.CharField(max_length=64, blank=True)
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-enqueued_at", "-id"]

    def __str__(self) -> str:
        return self.key
