"""Reports read from a PostgreSQL streaming replica when ``DATABASE_REPLICA_URL`` is set; nothing else does.

A replica trails the primary by a little (milliseconds when idle, seconds under load). A report over a year of
answers does not notice; a nurse who records vital signs and is sent back to the session page does. So the
choice is made per query, by the report itself, never by a global rule:

- :func:`report_database` names the database a report reads from: the replica alias when one is
  configured (``KETACLINIC_REPORTS_DATABASE``), the primary otherwise, and always the primary inside a
  transaction (a read that belongs to a write must see the write's own rows and hold its locks). A
  report selector uses it explicitly: ``.using(report_database())`` or
  ``connections[report_database()].cursor()``.
- :class:`PrimaryRouter` (``DATABASE_ROUTERS``) never routes a read (it has no opinion, so every query without
  an explicit database goes to the primary: sign-in, sessions, permission checks, every clinical page), sends
  every write to the primary (even of a row a report loaded from the replica) and never migrates the replica.

A global "reads to the replica" router was rejected: Django would send every read outside a transaction there,
including the read-before-write of a clinical action (the session's state before a titration, the chain head
before an audit entry), the session cookie of a user who signed in a second ago, and a page shown right after
the change it must show.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model

REPLICA = "replica"
logger = logging.getLogger(__name__)


def report_database() -> str:
    """The alias a report reads from now: the configured reports database, or the primary in a transaction
    or while the replica cannot be reached (a report is slower on the primary, never refused)."""
    alias: str = getattr(settings, "KETACLINIC_REPORTS_DATABASE", DEFAULT_DB_ALIAS)
    if alias == DEFAULT_DB_ALIAS or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    try:
        connections[alias].ensure_connection()
    except DatabaseError as exc:
        logger.warning("The replica (%s) cannot be reached, reports read the primary: %s", alias, exc)
        return DEFAULT_DB_ALIAS
    return alias


class PrimaryRouter:
    """Writes and migrations on the primary only; reads go where the query says (the primary unless a report
    asked for :func:`report_database`)."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return None  # Django then follows the instance a related read starts from, else the primary

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replica is a copy of the primary: a row read from either is the same row

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db != REPLICA
