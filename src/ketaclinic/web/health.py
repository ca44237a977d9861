"""``/healthz`` (the process answers) and ``/readyz`` (it can serve a clinic: the database answers and every
migration this code ships is applied). A load balancer sends traffic only to a ready server; both are open to
anyone, audited by no one, and say nothing about the clinic."""

from __future__ import annotations

from functools import cache

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, HttpResponse

NOT_READY_DATABASE = "not ready: the database does not answer"
NOT_READY_MIGRATIONS = "not ready: {count} migration(s) not applied"


@cache
def _shipped_migrations() -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """Every migration on disk with those it replaces (a squashed one is applied when they all are); read
    once per process: the code does not change under a running server."""
    disk = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    return {key: tuple(migration.replaces) for key, migration in disk.items()}


def _text(body: str, status: int) -> HttpResponse:
    response = HttpResponse(body, content_type="text/plain", status=status)
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    return _text("ok", 200)


def readyz(request: HttpRequest) -> HttpResponse:
    try:
        applied = set(MigrationRecorder(connection).applied_migrations())  # none before the first migrate
    except DatabaseError:
        return _text(NOT_READY_DATABASE, 503)
    missing = [
        key
        for key, replaces in _shipped_migrations().items()
        if key not in applied and not (replaces and set(replaces) <= applied)
    ]
    if missing:
        return _text(NOT_READY_MIGRATIONS.format(count=len(missing)), 503)
    return _text("ready", 200)
