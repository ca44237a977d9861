"""Reports on a real PostgreSQL streaming replica: the outcomes dashboard and the audit trail read there.

What it does, in order (everything it makes is removed at the end, also on failure or Ctrl-C):

1. Checks the primary (``--primary``, default ``postgres://postgres@127.0.0.1:5432``) without changing it:
   PostgreSQL 15, ``wal_level`` replica or logical and a free WAL sender (``SHOW``; both are PostgreSQL 15
   defaults), and that its pg_hba.conf lets ``postgres`` open a *replication* connection from 127.0.0.1 (the
   ``all`` database keyword does not cover replication). When it does not, the script prints the exact line
   that is missing and, unless ``--no-fallback``, starts a private primary instead (``initdb`` into the
   temporary directory, a free port): the demonstration is the same, and the shared server is not touched.
2. Starts the replica: ``pg_basebackup -R -X stream`` into a temporary directory under /tmp, then
   ``pg_ctl start`` of /usr/lib/postgresql/15/bin/postgres on a free port (as the ``postgres`` OS user when
   run as root), hot standby, every statement logged (``log_statement=all``, the replica's own log).
3. Creates its own database ``replica_bench`` on the primary (refuses a database of that name it did not make:
   it marks its own with a comment), migrates it and loads the demo clinic, all *after* the base backup, so
   every row reaches the replica by streaming; waits until the replica has replayed the primary's WAL.
4. Opens the outcomes dashboard (and the audit trail) through the real sign-in with ``DATABASE_REPLICA_URL``
   pointing at the replica, and proves where the reads went: the replica's statement log and its
   ``pg_stat_database`` counters against the primary's for the benchmark database.
5. Prints the replication lag (``pg_stat_replication``, and a row written on the primary timed until it is
   visible on the replica) and the pages' timing reading the primary vs reading the replica (same process,
   same data, alternated, median and p95 of ``--rounds``), then stops the replica, drops the database and
   removes the directories.

Run: ``.venv/bin/python benchmarks/replica.py`` (``--rounds 30``, ``--primary URL``, ``--no-fallback``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "replica_bench"
MARK = "ketaclinic benchmarks/replica.py: safe to drop"
PROBES = 20
HBA_LINE = "host    replication     postgres        127.0.0.1/32            trust"


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL's server programs refuse to run as root: run them as the ``postgres`` OS user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def run(cmd: list[str]) -> None:
    done = subprocess.run(as_postgres(cmd), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd[:2])} failed:\n{done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one(url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(sql, params)  # type: ignore[arg-type]
        row = cur.fetchone() if cur.description else None
        return row[0] if row else None


def replication_refused(server: str) -> str:
    """Why ``postgres`` cannot open a replication connection to ``server`` from 127.0.0.1 ('' when it can)."""
    try:
        with psycopg.connect(server + "/postgres?replication=true", autocommit=True, connect_timeout=5) as c:
            c.execute("IDENTIFY_SYSTEM")
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[-1]
    return ""


def check_primary(server: str) -> list[str]:
    """What stops ``server`` from feeding a streaming replica now, without a restart (empty: nothing)."""
    missing = []
    version = int(one(server + "/postgres", "SHOW server_version_num"))
    if version // 10000 != 15:
        missing.append(f"the primary is PostgreSQL {version}; this script starts a PostgreSQL 15 replica")
    wal_level = one(server + "/postgres", "SHOW wal_level")
    senders = int(one(server + "/postgres", "SHOW max_wal_senders"))
    busy = int(one(server + "/postgres", "SELECT count(*) FROM pg_stat_replication"))
    print(
        f"primary {server}: PostgreSQL {version}, wal_level={wal_level}, "
        f"max_wal_senders={senders} ({busy} used)"
    )
    if wal_level not in ("replica", "logical"):
        missing.append(f"wal_level is {wal_level} (needs replica, which needs a restart: not done here)")
    if busy >= senders:
        missing.append(f"all {senders} WAL senders are in use")
    refused = replication_refused(server)
    if refused:
        hba = one(server + "/postgres", "SHOW hba_file")
        missing.append(
            f"a replication connection is refused ({refused}).\n    Missing in {hba}, before the other "
            f"host lines:\n        {HBA_LINE}\n    then `SELECT pg_reload_conf();` (a reload, not a restart)."
        )
    return missing


class Clusters:
    """The temporary clusters: a private primary (only when the shared one cannot be used) and the replica."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ketaclinic-replica-", dir="/tmp"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.running: list[Path] = []

    def start(self, data: Path, port: int, *extra: str) -> str:
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 " + " ".join(extra)
        run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data) + ".log", "-o", options, "-w", "start"])
        self.running.append(data)
        return f"postgres://postgres@127.0.0.1:{port}"

    def private_primary(self) -> str:
        data = self.root / "primary"
        run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"])
        return self.start(data, free_port(), "-c log_statement=all")

    def replica(self, primary: str) -> str:
        host_port = primary.rsplit("@", 1)[1]
        host, port = host_port.split(":")
        data = self.root / "standby"
        base = [str(PG_BIN / "pg_basebackup"), "-h", host, "-p", port, "-U", "postgres", "-D", str(data)]
        run([*base, "-R", "-X", "stream", "-c", "fast"])
        return self.start(data, free_port(), "-c hot_standby=on -c log_statement=all")

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def statements(self, name: str, since: int) -> list[str]:
        """The statements a cluster logged after offset ``since`` of its log (none if it logs none)."""
        # a statement's SQL runs over several lines; each entry starts with the time
        entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:)", self.log(name)[since:])
        return [e.split("statement: ", 1)[1] for e in entries if "statement: " in e]

    def remove(self) -> None:
        for data in reversed(self.running):
            subprocess.run(  # noqa: S603
                as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def bench_database(server: str) -> Iterator[None]:
    """``replica_bench`` on the primary, made here and dropped after; refuses one it did not make."""
    admin = server + "/postgres"
    exists = one(admin, "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
    if exists:
        comment = one(
            admin,
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname=%s",
            (DATABASE,),
        )
        if comment != MARK:
            raise SystemExit(
                f"Refusing: database {DATABASE} exists on the primary and was not made by this script."
            )
        one(admin, f'DROP DATABASE "{DATABASE}" WITH (FORCE)')  # a previous run's, interrupted
    one(admin, f'CREATE DATABASE "{DATABASE}"')
    one(admin, f"COMMENT ON DATABASE \"{DATABASE}\" IS '{MARK}'")
    try:
        yield
    finally:
        with suppress(psycopg.Error):
            one(admin, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def wait_replayed(primary: str, replica: str, timeout: float = 300) -> float:
    """Seconds until the replica has replayed everything the primary had written when called."""
    target = one(primary + "/postgres", "SELECT pg_current_wal_lsn()::text")
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        behind = one(
            replica + "/postgres", "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())", (target,)
        )
        if behind is not None and float(behind) <= 0:
            return time.perf_counter() - start
        time.sleep(0.01)
    raise SystemExit(f"The replica did not catch up within {timeout:.0f} s.")


def visibility_lag(primary_db: str, replica_db: str, n: int = 20) -> list[float]:
    """Milliseconds from a committed write on the primary until the replica shows it, ``n`` times."""
    with psycopg.connect(primary_db, autocommit=True) as p, psycopg.connect(replica_db, autocommit=True) as r:
        p.execute("CREATE TABLE IF NOT EXISTS replica_probe (id int PRIMARY KEY)")
        wait_replayed(primary_db.rsplit("/", 1)[0], replica_db.rsplit("/", 1)[0])
        lags = []
        for i in range(n):
            p.execute("INSERT INTO replica_probe VALUES (%s)", (i,))
            start = time.perf_counter()
            while not r.execute("SELECT 1 FROM replica_probe WHERE id = %s", (i,)).fetchone():
                time.sleep(0.0005)
            lags.append((time.perf_counter() - start) * 1000)
        p.execute("DROP TABLE replica_probe")
    return lags


def stats(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit, tup_returned, tup_fetched FROM pg_stat_database WHERE datname = %s",
            (DATABASE,),
        ).fetchone()
    return dict(zip(("transactions", "rows returned", "rows fetched"), row or (0, 0, 0), strict=True))


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]


def signed_in_client(username: str) -> Any:
    from django.test import Client
    from django_otp.oath import totp

    from ketaclinic.web.demo import DEMO_PASSWORD, DEMO_TOTP_KEY_HEX

    client = Client()
    assert (
        client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD}).status_code == 302
    )
    code = f"{totp(bytes.fromhex(DEMO_TOTP_KEY_HEX)):06d}"
    assert client.post("/accounts/2fa/verify/", {"token": code}).status_code == 302, "second factor refused"
    return client


def timed(fetch: Callable[[], Any]) -> float:
    start = time.perf_counter()
    response = fetch()
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--primary", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--no-fallback", action="store_true", help="fail instead of starting a private primary"
    )
    args = parser.parse_args()
    for program in ("pg_basebackup", "pg_ctl", "postgres", "initdb"):
        if not (PG_BIN / program).exists():
            raise SystemExit(f"{PG_BIN / program} is missing: install postgresql-15.")
    missing = check_primary(args.primary)
    clusters = Clusters()
    try:
        primary = args.primary
        if missing:
            print("The shared primary cannot feed a replica:\n  - " + "\n  - ".join(missing))
            if args.no_fallback:
                return 2
            primary = clusters.private_primary()
            print(f"Using a private primary instead (initdb in {clusters.root}): {primary}")
            assert not check_primary(primary)
        started = time.perf_counter()
        replica = clusters.replica(primary)
        print(f"replica {replica}: base backup and start {time.perf_counter() - started:.1f} s")
        assert one(replica + "/postgres", "SELECT pg_is_in_recovery()"), "the replica is not in recovery"
        with bench_database(primary):
            return demonstrate(primary, replica, clusters, args.rounds)
    finally:
        clusters.remove()
        print("replica stopped and removed" + (", private primary too" if missing else ""))


def demonstrate(primary: str, replica: str, clusters: Clusters, rounds: int) -> int:
    os.environ.update(
        DATABASE_URL=f"{primary}/{DATABASE}",
        DATABASE_REPLICA_URL=f"{replica}/{DATABASE}",
        DJANGO_SETTINGS_MODULE="ketaclinic.web.settings.local",
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="testserver",
        KETACLINIC_VAR_DIR=str(clusters.root / "var"),
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from django.test import override_settings

    started = time.perf_counter()
    lsn = one(primary + "/postgres", "SELECT pg_current_wal_lsn()::text")
    call_command("migrate", verbosity=0)
    call_command("demo_load", stdout=open(os.devnull, "w"))  # noqa: SIM115
    loaded = time.perf_counter() - started
    behind = one(
        primary + "/postgres",
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)",
        (one(replica + "/postgres", "SELECT pg_last_wal_replay_lsn()::text"),),
    )
    caught_up = wait_replayed(primary, replica)
    streamed = one(primary + "/postgres", "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (lsn,))
    print(
        f"migrated and loaded the demo clinic on the primary in {loaded:.1f} s: "
        f"{float(streamed) / 1e6:.0f} MB "
        f"of WAL, all streamed to the replica, which was {int(behind or 0) / 1e6:.1f} MB behind at the end "
        f"and caught up in {caught_up * 1000:.0f} ms"
    )
    assert settings.DATABASES["replica"]["PORT"] != settings.DATABASES["default"]["PORT"]

    client = signed_in_client("admin.morgan")
    pages = {
        "outcomes dashboard": "/outcomes/dashboard/",
        "dashboard CSV": "/outcomes/dashboard.csv",
        "audit trail": "/audit/",
    }
    connections.close_all()
    time.sleep(1.2)  # PostgreSQL 15 publishes a backend's counters at most once a second
    before = {"primary": stats(f"{primary}/{DATABASE}"), "replica": stats(f"{replica}/{DATABASE}")}
    log_before = {name: len(clusters.log(name)) for name in ("standby", "primary")}
    for path in pages.values():
        timed(lambda path=path: client.get(path))
    connections.close_all()
    time.sleep(1.2)
    after = {"primary": stats(f"{primary}/{DATABASE}"), "replica": stats(f"{replica}/{DATABASE}")}
    report_sql = clusters.statements("standby", log_before["standby"])
    primary_sql = clusters.statements("primary", log_before["primary"])
    print("\nWhere one pass over the three pages read (the benchmark database only):")
    for name in ("primary", "replica"):
        delta = {k: after[name][k] - before[name][k] for k in after[name]}
        print(f"  {name:8} " + ", ".join(f"{k} +{v}" for k, v in delta.items()))
    verbs = [s.lstrip()[:6].upper() for s in report_sql]
    print(
        f"  the replica's statement log: {len(report_sql)} statements, "
        f"{sum('outcomes_questionnaireresponse' in s for s in report_sql)} on questionnaire answers, "
        f"{sum('audit_auditentry' in s for s in report_sql)} on audit entries, "
        f"{sum(v in ('INSERT', 'UPDATE', 'DELETE') for v in verbs)} writes"
    )
    if clusters.log("primary"):  # the private primary logs its statements too
        print(
            f"  the primary's statement log: {len(primary_sql)} statements, "
            f"{sum('outcomes_questionnaireresponse' in s for s in primary_sql)} on questionnaire answers, "
            f"{sum('audit_auditentry' in s and s.lstrip()[:6].upper() == 'SELECT' for s in primary_sql)} "
            "reading audit entries"
        )
    served = sum("outcomes_questionnaireresponse" in s for s in report_sql)
    if not served:
        print("FAILED: the dashboard's queries did not reach the replica")
        return 1

    lags = visibility_lag(f"{primary}/{DATABASE}", f"{replica}/{DATABASE}", PROBES)
    print(f"\nReplication lag ({PROBES} writes on the primary, each timed until the replica shows it):")
    print(f"  median {statistics.median(lags):.1f} ms, p95 {p95(lags):.1f} ms, max {max(lags):.1f} ms")
    with psycopg.connect(primary + "/postgres", autocommit=True) as conn:
        for row in conn.execute(
            "SELECT application_name, state, write_lag, flush_lag, replay_lag FROM pg_stat_replication"
        ).fetchall():
            print(
                f"  pg_stat_replication: {row[0]} {row[1]}, write {row[2]}, flush {row[3]}, replay {row[4]}"
            )

    print(f"\nPage timing, reading the primary vs the replica ({rounds} rounds, alternated, ms):")
    print(f"  {'page':20} {'primary med':>11} {'p95':>7} {'replica med':>11} {'p95':>7} {'ratio':>6}")
    for name, path in pages.items():
        times: dict[str, list[float]] = {"default": [], "replica": []}
        for _ in range(rounds):
            for alias in times:
                with override_settings(KETACLINIC_REPORTS_DATABASE=alias):
                    times[alias].append(timed(lambda path=path: client.get(path)))
        p, r = times["default"], times["replica"]
        print(
            f"  {name:20} {statistics.median(p):11.1f} {p95(p):7.1f} {statistics.median(r):11.1f} "
            f"{p95(r):7.1f} {statistics.median(r) / statistics.median(p):6.2f}"
        )
    connections.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
