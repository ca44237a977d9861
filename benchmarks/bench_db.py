"""A benchmark's own PostgreSQL database: made under a fixed name, dropped at the end, and never another.

The benchmarks drop append-only triggers, truncate tables and drop whole databases, so they must never be
pointed at a clinic's database by mistake. Each benchmark names its database (``ketaclinic_bench_<name>``);
``BENCH_DATABASE_URL`` or ``DATABASE_URL`` may choose the server, but a URL naming any other database is
refused before anything connects. ``BENCH_DATABASE_PREFIX`` (ending in ``_bench_``, say ``kc_mine_bench_``)
gives the databases another prefix, so that two people on one server each run a benchmark in their own.
``dedicated_database`` creates the database (anew unless kept from an
earlier ``--keep`` run) and drops it when the benchmark ends, whatever happens.

    with dedicated_database("outcomes", keep=args.keep) as url:
        ...
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
PREFIX = "ketaclinic_bench_"
VARIABLES = ("BENCH_DATABASE_URL", "DATABASE_URL")
REFUSED = (
    "{variable} names the database {value!r}; this benchmark creates, empties and drops its own database "
    "and runs only on {allowed!r}. Unset {variable}, or point it at {allowed!r} on the server you mean."
)


class NotTheBenchmarkDatabase(SystemExit):
    """Raised before any connection when a URL names a database the benchmark does not own: the benchmark
    stops with the message on stderr and exit status 1."""


PREFIX_SHAPE = re.compile(r"^[a-z][a-z0-9_]*_bench_$")


def database_name(benchmark: str, environ: Mapping[str, str] | None = None) -> str:
    """``ketaclinic_bench_<benchmark>``, or under BENCH_DATABASE_PREFIX (which must end in ``_bench_``)."""
    prefix = (os.environ if environ is None else environ).get("BENCH_DATABASE_PREFIX") or PREFIX
    if not PREFIX_SHAPE.match(prefix):
        raise NotTheBenchmarkDatabase(
            f"BENCH_DATABASE_PREFIX {prefix!r} refused: lower case, ending in _bench_ (say kc_mine_bench_)."
        )
    return prefix + benchmark


def _shown(url: str) -> str:
    """The URL without its password (for a message)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (
        f"{parts.username + '@' if parts.username else ''}{host}{':' + str(parts.port) if parts.port else ''}"
    )
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def bench_url(benchmark: str, environ: dict[str, str] | None = None) -> str:
    """The URL of the benchmark's database; refuses a BENCH_DATABASE_URL or DATABASE_URL naming another."""
    env = os.environ if environ is None else environ
    name = database_name(benchmark, env)
    server = DEFAULT_SERVER
    for variable in reversed(VARIABLES):  # BENCH_DATABASE_URL wins over DATABASE_URL for the server
        value = env.get(variable, "")
        if not value:
            continue
        parts = urlsplit(value)
        if not parts.scheme.startswith("postgres") or parts.path.lstrip("/") != name:
            raise NotTheBenchmarkDatabase(
                REFUSED.format(variable=variable, value=_shown(value), allowed=name)
            )
        server = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return f"{server}/{name}"


def _admin(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    return psycopg.connect(admin, autocommit=True)


@contextmanager
def dedicated_database(benchmark: str, *, keep: bool = False) -> Iterator[str]:
    """Create the benchmark's database (kept from a ``keep`` run, else anew), yield its URL, drop it after."""
    url = bench_url(benchmark)
    name = database_name(benchmark)
    with _admin(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not keep:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or not keep:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        if not keep:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001, S110 - Django may never have been set up
                pass
            with _admin(url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"benchmark database {name} dropped")
