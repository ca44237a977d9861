"""Would monthly range partitioning help ketaclinic's vital-sign readings on PostgreSQL? Measured.

In its own database (``replica_partitioning`` on ``--server``, default ``postgres://postgres@127.0.0.1:5432``;
made here, dropped after unless ``--keep``, reused when kept; a database of that name it did not make is
refused) it builds a
table shaped like ``infusions_vitalsigns`` with ``--rows`` readings (default 10,000,000) spread over 24 months
— sessions of 20 readings 5 minutes apart at 9 locations, a sessions table with the real
``(location, scheduled_start)`` index — twice, on the same rows:

- **plain**, with the real model's indexes: primary key, unique ``external_id``, unique ``client_id`` (the
  idempotency key), ``(session_id, taken_at)`` (``Meta.indexes``), and the foreign-key indexes Django adds
  (``session_id``, ``recorded_by_id``);
- **partitioned** by month on ``taken_at`` (24 partitions), with the same indexes as far as PostgreSQL allows
  them: a unique index on a partitioned table must contain the partition key, so the primary key becomes
  ``(id, taken_at)`` and ``client_id``/``external_id`` are unique only *within a month*.

Then it times, median and p95 over ``--samples`` random keys, warm cache, each against the plain table
(the baseline; ratios are partitioned / plain): the queries the app runs (one session's readings — the session
page, chart, MAR, note; one location's readings for a day and for a month through the sessions table, as the
app asks and with the readings' own time range added so the planner can prune), a single reading's insert
(the nurse's post), and the retention-style removal of the oldest month (``DELETE`` then ``VACUUM`` on the
plain table; ``DETACH`` + ``DROP`` of the partition), and prints table and index sizes.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

DATABASE = "replica_partitioning"
MARK = "ketaclinic benchmarks/partitioning.py: safe to drop"
START = datetime(2025, 1, 1, tzinfo=UTC)
MONTHS = 24
PER_SESSION = 20
LOCATIONS = 9

COLUMNS = """
    id bigint NOT NULL, external_id uuid NOT NULL, client_id varchar(64) NOT NULL, session_id bigint NOT NULL,
    phase varchar(10) NOT NULL, taken_at timestamptz NOT NULL,
    systolic_mmhg smallint, diastolic_mmhg smallint,
    heart_rate_bpm smallint, spo2_percent smallint, respiratory_rate_per_min smallint,
    sedation varchar(10) NOT NULL, source varchar(20) NOT NULL, recorded_by_id bigint NOT NULL,
    backdate_reason text NOT NULL, recorded_at timestamptz NOT NULL"""


def month(i: int) -> datetime:
    y, m = divmod(START.month - 1 + i, 12)
    return START.replace(year=START.year + y, month=m + 1)


def build(conn: psycopg.Connection[Any], rows: int) -> dict[str, float]:
    """Both tables on the same rows; returns the seconds each step took."""
    sessions = rows // PER_SESSION
    span = (month(MONTHS) - START).total_seconds() - 3 * 3600
    took: dict[str, float] = {}

    def step(name: str, *sql: str) -> None:
        start = time.perf_counter()
        for s in sql:
            conn.execute(s)  # type: ignore[arg-type]
        took[name] = time.perf_counter() - start
        print(f"  {name}: {took[name]:.1f} s", flush=True)

    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET max_parallel_maintenance_workers = 0")  # two shared cores: leave one to the others
    step(
        "sessions",
        "CREATE TABLE sessions (id bigint PRIMARY KEY, location_id int NOT NULL, "
        "scheduled_start timestamptz)",
        f"""INSERT INTO sessions SELECT s, s % {LOCATIONS},
            '{START.isoformat()}'::timestamptz + (s::float8 / {sessions} * {span}) * interval '1 second'
            FROM generate_series(1, {sessions}) s""",
        "CREATE INDEX ON sessions (location_id, scheduled_start)",
        "ANALYZE sessions",
    )
    step(
        "plain: rows",
        f"CREATE TABLE vitals_plain ({COLUMNS})",
        f"""INSERT INTO vitals_plain SELECT
            (s.id - 1) * {PER_SESSION} + k + 1, gen_random_uuid(), md5(s.id::text || '-' || k), s.id,
            CASE WHEN k < 2 THEN 'baseline' WHEN k < 14 THEN 'infusion' ELSE 'recovery' END,
            s.scheduled_start + k * interval '5 minutes', 110 + (s.id + k) % 40, 70 + (s.id * k) % 25,
            60 + (s.id + 3 * k) % 50, 94 + (s.id + k) % 6, 12 + k % 8, 'none', 'manual', 1 + s.id % 40, '',
            s.scheduled_start + k * interval '5 minutes' + interval '20 seconds'
            FROM sessions s, generate_series(0, {PER_SESSION - 1}) k ORDER BY s.id, k""",
    )
    step(
        "plain: indexes",
        "ALTER TABLE vitals_plain ADD PRIMARY KEY (id)",
        "CREATE UNIQUE INDEX ON vitals_plain (external_id)",
        "CREATE UNIQUE INDEX ON vitals_plain (client_id)",
        "CREATE INDEX ON vitals_plain (session_id, taken_at)",
        "CREATE INDEX ON vitals_plain (session_id)",
        "CREATE INDEX ON vitals_plain (recorded_by_id)",
        "VACUUM ANALYZE vitals_plain",
    )
    parts = [
        f"CREATE TABLE vitals_part_{i:02d} PARTITION OF vitals_part "
        f"FOR VALUES FROM ('{month(i).isoformat()}') TO ('{month(i + 1).isoformat()}')"
        for i in range(MONTHS + 1)  # one month ahead, as a job would keep it
    ]
    step(
        "partitioned: rows",
        f"CREATE TABLE vitals_part ({COLUMNS}) PARTITION BY RANGE (taken_at)",
        *parts,
        "INSERT INTO vitals_part SELECT * FROM vitals_plain ORDER BY id",
    )
    step(
        "partitioned: indexes",
        "ALTER TABLE vitals_part ADD PRIMARY KEY (id, taken_at)",
        "CREATE UNIQUE INDEX ON vitals_part (external_id, taken_at)",
        "CREATE UNIQUE INDEX ON vitals_part (client_id, taken_at)",
        "CREATE INDEX ON vitals_part (session_id, taken_at)",
        "CREATE INDEX ON vitals_part (session_id)",
        "CREATE INDEX ON vitals_part (recorded_by_id)",
        "VACUUM ANALYZE vitals_part",
    )
    return took


def timed(run: Callable[[], Any], samples: int) -> list[float]:
    run()  # warm
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]


def size(conn: psycopg.Connection[Any], table: str) -> tuple[int, int]:
    """(table bytes, index bytes), partitions included."""
    row = conn.execute(
        """SELECT sum(pg_table_size(c.oid)), sum(pg_indexes_size(c.oid)) FROM pg_class c
           WHERE c.relname = %s OR c.relname LIKE %s""",
        (table, table + "\\_%"),
    ).fetchone()
    assert row is not None
    return int(row[0] or 0), int(row[1] or 0)


def plan_of(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...]) -> tuple[int, float]:
    """(partitions in the plan, planning ms) of one run under EXPLAIN ANALYZE."""
    row = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()  # type: ignore[operator]
    assert row is not None
    plan = row[0][0]
    return str(plan).count("'Relation Name': 'vitals_part_"), float(plan["Planning Time"])


def measure(conn: psycopg.Connection[Any], sessions: int, samples: int) -> None:
    rng = random.Random(7)  # noqa: S311 - sampling keys, not security
    sid = [rng.randint(1, sessions) for _ in range(samples + 1)]
    starts = dict(
        conn.execute("SELECT id, scheduled_start FROM sessions WHERE id = ANY(%s)", (sid,)).fetchall()
    )
    days = [START + timedelta(days=rng.randint(0, 729)) for _ in range(samples + 1)]
    months = [month(rng.randint(0, MONTHS - 1)) for _ in range(samples + 1)]

    def cycle(values: list[Any]) -> Callable[[], Any]:
        it = itertools.cycle(values)
        return lambda: next(it)

    one_session = "SELECT * FROM {t} WHERE session_id = %s ORDER BY taken_at, id"
    one_session_ranged = (
        "SELECT * FROM {t} WHERE session_id = %s AND taken_at >= %s AND taken_at < %s + interval '1 day' "
        "ORDER BY taken_at, id"
    )
    location = (
        "SELECT v.* FROM {t} v JOIN sessions s ON s.id = v.session_id WHERE s.location_id = 3 "
        "AND s.scheduled_start >= %s AND s.scheduled_start < %s"
    )
    location_ranged = location + " AND v.taken_at >= %s AND v.taken_at < %s + interval '1 day'"
    cases: list[tuple[str, str, Callable[[], tuple[Any, ...]]]] = []
    ns, nd, nm = cycle(sid), cycle(days), cycle(months)
    cases.append(("one session's readings (as the app asks)", one_session, lambda: (ns(),)))
    cases.append(
        (
            "one session's readings + the session's day",
            one_session_ranged,
            lambda: (s := ns(), starts[s], starts[s]),
        )
    )
    cases.append(("a location's day (as the app asks)", location, lambda: (d := nd(), d + timedelta(days=1))))
    cases.append(
        (
            "a location's day + readings' range",
            location_ranged,
            lambda: (d := nd(), d + timedelta(days=1), d, d + timedelta(days=1)),
        )
    )
    cases.append(("a location's month (as the app asks)", location, lambda: (m := nm(), month_after(m))))
    cases.append(
        (
            "a location's month + readings' range",
            location_ranged,
            lambda: (m := nm(), month_after(m), m, month_after(m)),
        )
    )
    print(
        f"\n{'query (ms)':44} {'plain med':>9} {'p95':>7} {'part. med':>9} {'p95':>7} {'ratio':>6} "
        f"{'parts':>5} {'plan':>6} {'plan':>6}\n"
        "(parts: partitions in the partitioned plan; plan: planning ms of one run, plain then partitioned)"
    )
    for name, sql, params in cases:
        result = {}
        for table in ("vitals_plain", "vitals_part"):
            query = sql.format(t=table)
            result[table] = timed(lambda q=query, p=params: conn.execute(q, p()).fetchall(), samples)  # type: ignore[misc]
        key = params()
        _, plan_plain = plan_of(conn, sql.format(t="vitals_plain"), key)
        scanned, plan_part = plan_of(conn, sql.format(t="vitals_part"), key)
        plain, part = result["vitals_plain"], result["vitals_part"]
        print(
            f"{name:44} {statistics.median(plain):9.2f} {p95(plain):7.2f} {statistics.median(part):9.2f} "
            f"{p95(part):7.2f} {statistics.median(part) / statistics.median(plain):6.2f} {scanned:5d} "
            f"{plan_plain:6.2f} {plan_part:6.2f}"
        )
    insert = (
        "INSERT INTO {t} VALUES (%s, gen_random_uuid(), md5(random()::text), 1, 'infusion', %s, "
        "120, 80, 70, 98, "
        "14, 'none', 'manual', 1, '', now())"
    )
    first = conn.execute("SELECT max(id) + 1 FROM vitals_plain").fetchone()
    ids = itertools.count(int(first[0]) if first else 1)
    now = month(MONTHS) - timedelta(days=1)
    ins = {
        t: timed(lambda t=t: conn.execute(insert.format(t=t), (next(ids), now)), samples)  # type: ignore[misc]
        for t in ("vitals_plain", "vitals_part")
    }
    print(
        f"{'one reading inserted (autocommit)':44} {statistics.median(ins['vitals_plain']):9.2f} "
        f"{p95(ins['vitals_plain']):7.2f} {statistics.median(ins['vitals_part']):9.2f} "
        f"{p95(ins['vitals_part']):7.2f} "
        f"{statistics.median(ins['vitals_part']) / statistics.median(ins['vitals_plain']):6.2f}"
    )


def month_after(m: datetime) -> datetime:
    return (m + timedelta(days=32)).replace(day=1)


def retention(conn: psycopg.Connection[Any]) -> None:
    sizes = {t: size(conn, t) for t in ("vitals_plain", "vitals_part")}
    print(f"\n{'size (MB)':44} {'table':>9} {'indexes':>9}")
    for t, (tb, ib) in sizes.items():
        print(f"{t:44} {tb / 1e6:9.0f} {ib / 1e6:9.0f}")
    cut = month(1)
    start = time.perf_counter()
    deleted = conn.execute("DELETE FROM vitals_plain WHERE taken_at < %s", (cut,)).rowcount
    delete_s = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute("VACUUM vitals_plain")
    vacuum_s = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute("ALTER TABLE vitals_part DETACH PARTITION vitals_part_00")
    conn.execute("DROP TABLE vitals_part_00")
    drop_s = time.perf_counter() - start
    print(f"\nthe oldest month ({deleted:,} readings) removed:")
    print(f"  plain: DELETE {delete_s:.1f} s + VACUUM {vacuum_s:.1f} s (space kept by the table for reuse)")
    print(f"  partitioned: DETACH + DROP {drop_s * 1000:.0f} ms (space returned at once)")
    start = time.perf_counter()
    conn.execute("VACUUM vitals_part")
    print(f"  VACUUM of the whole table afterwards: partitioned {time.perf_counter() - start:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and skip the removal of a month (for a rerun)"
    )
    args = parser.parse_args()
    admin = psycopg.connect(args.server + "/postgres", autocommit=True)
    row = admin.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (DATABASE,)
    ).fetchone()
    if row is not None and row[0] != MARK:
        raise SystemExit(f"Refusing: database {DATABASE} exists and was not made by this script.")
    if row is None:
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
        admin.execute(f"COMMENT ON DATABASE \"{DATABASE}\" IS '{MARK}'")
    try:
        # as Django talks to PostgreSQL: parameters bound in the client (so every plan is a custom plan,
        # pruned at planning), no prepared statements, no JIT (settings/base.py)
        with psycopg.connect(
            f"{args.server}/{DATABASE}",
            autocommit=True,
            prepare_threshold=None,
            cursor_factory=psycopg.ClientCursor,
        ) as conn:
            conn.execute("SET jit = off")
            built = conn.execute("SELECT to_regclass('vitals_part') IS NOT NULL").fetchone()
            stale = (
                built and built[0] and not conn.execute("SELECT to_regclass('vitals_part_00')").fetchone()[0]
            )
            if stale:  # a run that removed its first month: build again
                conn.execute("DROP TABLE IF EXISTS vitals_plain, vitals_part, sessions")
            if stale or not (built and built[0]):
                print(f"building {args.rows:,} readings over {MONTHS} months, plain and partitioned:")
                build(conn, args.rows)
            sessions = int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])  # type: ignore[index]
            print(f"{sessions * PER_SESSION:,} readings; {sessions:,} sessions at {LOCATIONS} locations")
            measure(conn, sessions, args.samples)
            if not args.keep:
                retention(conn)
    finally:
        if not args.keep:
            with suppress(psycopg.Error):
                admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
