"""What auditing costs a busy clinic: 20 staff at once on PostgreSQL, behind the production server.

The demo clinic is loaded into its own PostgreSQL database; gunicorn serves it (2 workers x 10 threads, so 20
requests can be in the database at once); 20 clients, each signed in through the real sign-in pages as a
nurse or a prescriber (with the authenticator code), open charts of random patients, the patient list and
the chair board, as fast as they can, for a fixed time. The same load runs under four settings:

* ``reads not audited`` (the baseline: KETACLINIC_AUDIT_READS off; sign-ins and writes still audited)
* ``reads audited`` — the clinic's setting: sixteen chains, a read repeated by the same person within five
  minutes one entry
* ``every read an entry`` — no repeat window, so every request appends (the worst case for the chains)
* ``every read an entry, one chain`` — the same with one chain head (KETACLINIC_AUDIT_SHARDS=1), the design
  before: every audited request queued on one row

It prints requests per second and the median and 95th-percentile latency of each, and the ratios of the
audited runs to the baseline. The target: reads audited within 20% of the baseline on both.

    make bench-audit
    # or: .venv/bin/python benchmarks/audit_load.py [--seconds 20] [--clients 20] [--rounds 2]

Needs PostgreSQL; runs in its own database ``ketaclinic_bench_audit_load`` (benchmarks/bench_db.py: made
anew, dropped at the end; ``BENCH_DATABASE_URL`` or ``DATABASE_URL`` may choose the server, but a URL naming
any other database is refused before anything connects). Exits 1 if the audited run is more than 20% off
the baseline, or if any request failed.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench_db import bench_url, dedicated_database

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
BENCHMARK = "audit_load"  # its database: ketaclinic_bench_audit_load, and no other
PG_URL = bench_url(BENCHMARK)  # refuses a BENCH_DATABASE_URL or DATABASE_URL naming another database
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
USERS = ["nurse.patel", "dr.rivera", "np.chen"]

MODES = [
    ("reads not audited", {"KETACLINIC_AUDIT_READS": "0"}),
    ("reads audited (the clinic's setting)", {}),
    ("every read an entry", {"KETACLINIC_AUDIT_READ_REPEAT_MINUTES": "0"}),
    (
        "every read an entry, one chain",
        {"KETACLINIC_AUDIT_READ_REPEAT_MINUTES": "0", "KETACLINIC_AUDIT_SHARDS": "1"},
    ),
]


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    e = dict(os.environ)
    e.update(
        {
            "DATABASE_URL": PG_URL,
            "DJANGO_SETTINGS_MODULE": "ketaclinic.web.settings.local",
            "DJANGO_DEBUG": "0",
            "KETACLINIC_AUDIT_CHECKPOINT_FILE": "/tmp/ketaclinic-bench-checkpoints.jsonl",
        }
    )
    e.update(extra or {})
    return e


def manage(*args: str) -> str:
    return subprocess.run(
        [str(BIN / "ketaclinic"), "manage", *args], env=env(), check=True, capture_output=True, text=True
    ).stdout


def prepare() -> list[str]:
    """The demo clinic in the benchmark's new database; returns the charts the load may open (Downtown's)."""
    manage("migrate", "--noinput")
    manage("demo_load")
    out = manage(
        "shell",
        "-c",
        "from ketaclinic.patients.models import Patient; "
        "print(' '.join(str(p.external_id) for p in Patient.objects.filter(location__code='downtown')))",
    )
    return re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", out)


class Client:
    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(BASE + path, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    def post(self, path: str, data: dict[str, str]) -> int:
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        req = urllib.request.Request(BASE + path, data=body, headers={"Referer": BASE + path})
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def share_session(self, other: Client) -> None:
        """Sign in by the other client's session: a TOTP code is accepted once, so several clients of one
        prescriber signing in within the same 30 seconds would be refused (as they should be)."""
        for cookie in other.jar:
            self.jar.set_cookie(cookie)

    def sign_in(self, username: str) -> None:
        from django_otp.oath import totp

        from ketaclinic.web.demo import DEMO_PASSWORD, DEMO_TOTP_KEY_HEX

        self.get("/accounts/login/")
        self.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        status, page = self.get("/")
        if "/accounts/2fa/" in page or status != 200 or "verify" in page.lower()[:2000]:
            self.get("/accounts/2fa/verify/")
            self.post("/accounts/2fa/verify/", {"token": f"{totp(bytes.fromhex(DEMO_TOTP_KEY_HEX)):06d}"})
        status, page = self.get("/patients/")
        if status != 200 or not re.search(r"<table|patient", page, re.I):
            raise SystemExit(f"could not sign in as {username} (status {status})")


@dataclass
class Result:
    mode: str
    requests: int
    failures: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        return statistics.quantiles(self.latencies, n=100)[int(q) - 1] * 1000


def serve(extra: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "ketaclinic.web.wsgi:application",
            "-w",
            "2",
            "--threads",
            "10",
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        env=env(extra),
        cwd=ROOT,
        start_new_session=True,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def load(mode: str, extra: dict[str, str], charts: list[str], clients: int, seconds: float) -> Result:
    proc = serve(extra)
    try:
        signed = [Client() for _ in range(clients)]
        first: dict[str, Client] = {}
        for i, c in enumerate(signed):
            username = USERS[i % len(USERS)]
            if username in first:  # the same person on another device: one sign-in, one authenticator code
                c.share_session(first[username])
            else:
                c.sign_in(username)
                first[username] = c
        latencies: list[float] = []
        failures = [0]
        lock = threading.Lock()
        start_at = time.perf_counter() + 0.5
        stop_at = start_at + seconds

        def run(i: int, c: Client) -> None:
            rng = random.Random(i)
            while time.perf_counter() < start_at:
                time.sleep(0.01)
            while time.perf_counter() < stop_at:
                roll = rng.random()
                path = (
                    "/sessions/board/"
                    if roll < 0.2
                    else "/patients/"
                    if roll < 0.3
                    else f"/patients/{rng.choice(charts)}/"
                )
                t0 = time.perf_counter()
                status, _ = c.get(path)
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if status != 200:
                        failures[0] += 1

        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(signed)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return Result(mode, len(latencies), failures[0], seconds, latencies)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with dedicated_database(BENCHMARK):
        return run(args)


def run(args: argparse.Namespace) -> int:
    os.environ.update(env())
    import django

    django.setup()
    charts = prepare()
    print(
        f"Demo clinic on PostgreSQL: {len(charts)} Downtown charts; {args.clients} clients for "
        f"{args.seconds:g} s per setting and round, {args.rounds} rounds; "
        f"gunicorn 2 workers x 10 threads; machine: {os.cpu_count()} cores.\n"
    )
    runs: dict[str, list[Result]] = {mode: [] for mode, _ in MODES}
    for _ in range(
        args.rounds
    ):  # the settings take turns, so a busy moment of the machine falls on all of them
        for mode, extra in MODES:
            runs[mode].append(load(mode, extra, charts, args.clients, args.seconds))
    results = [
        Result(
            mode,
            sum(r.requests for r in rs),
            sum(r.failures for r in rs),
            sum(r.seconds for r in rs),
            [x for r in rs for x in r.latencies],
        )
        for mode, rs in runs.items()
    ]
    base = results[0]
    print(
        f"{'setting':<40} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'req/s vs base':>14} {'p95 vs base':>12} {'failed':>7}"
    )
    for r in results:
        print(
            f"{r.mode:<40} {r.throughput:8.1f} {r.pct(50):8.1f} {r.pct(95):8.1f} "
            f"{r.throughput / base.throughput:14.2f} {r.pct(95) / base.pct(95):12.2f} {r.failures:7d}"
        )
    audited = results[1]
    ok = (
        audited.throughput >= 0.8 * base.throughput
        and audited.pct(95) <= 1.2 * base.pct(95)
        and not any(r.failures for r in results)
    )
    print("\nReads audited within 20% of the baseline (throughput and p95):", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
