"""A clinic's day against the production server on PostgreSQL: 200 staff at once (about 20 clinics).

The script makes its own PostgreSQL database (``ketaclinic_load``; it refuses any other name and drops only a
database it made), migrates it, loads the demo clinic, adds staff accounts and infusions running now through
the project's services (``staff_create``, the demo's walk through the infusion services), starts the
production server (``ketaclinic serve``: gunicorn, production settings, workers from the cores) on a free
loopback port, and replays the day with locust (headless, from Python), each simulated person signed in
through the real pages (password, then the authenticator code):

* nurses (7 in 10): the day board and one live session page open, polling as the pages do (both every 15 s:
  ``hx-trigger="every 15s"`` in infusions/_board.html and _status.html), and every 5 minutes a set of vitals
  posted through the session page's form (with its CSRF token), then the page and its chart reloaded;
* prescribers (2 in 10): open a patient's chart every 20-40 s and co-sign the verbal orders waiting on the
  running infusions (each once);
* intake (1 in 10): the patient list, a search, and a new patient registered every 30-90 s.

The sign-ins while the staff arrive (``--spawn-rate`` a second) are shown apart; the figures of the day are
measured after everyone is in, for ``--minutes``. It prints the requests a second, p50/p95/p99 per kind of
request and overall, the errors, and the machine's load average during the run. Goal: p95 under 300 ms and
no errors with 200 staff; the exit status is 1 when it is missed.

    make bench-load          # or: .venv/bin/python benchmarks/load.py [--minutes 3] [--users 200]

Needs PostgreSQL (BENCH_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/14, for the production settings' shared rate-limit counts).
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # locust runs on gevent: patch before anything opens a socket

import argparse  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import gevent  # noqa: E402
import psycopg  # noqa: E402
from django_otp.oath import totp  # noqa: E402
from locust import FastHttpUser, between, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KETACLINIC = str(ROOT / ".venv" / "bin" / "ketaclinic")
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]*_load$")  # ketaclinic_load, or another name ending in _load
MARKER = "made by benchmarks/load.py; dropped by it"
DEMO_PASSWORD = "ketaclinic-demo"  # ketaclinic.web.demo.DEMO_PASSWORD (the staff added here use it too)
DEMO_TOTP_KEY_HEX = "48656c6c6f21deadbeef"  # ketaclinic.web.demo.DEMO_TOTP_KEY_HEX
POLL_SECONDS = 15  # hx-trigger="every 15s" in infusions/_board.html and infusions/_status.html
VITALS_SECONDS = 300
GOAL_P95_MS = 300

# Run by `ketaclinic manage shell` in the new database, after demo_load: every write through the services.
PREPARE = """
import json
from django_otp.plugins.otp_totp.models import TOTPDevice
from ketaclinic.accounts.models import Location
from ketaclinic.accounts.services import staff_create
from ketaclinic.patients.models import Patient
from ketaclinic.web.demo import DEMO_PASSWORD, DEMO_TOTP_KEY_HEX, demo_running_sessions_add

counts = {counts}
locations = list(Location.objects.filter(code__in=["downtown", "northside", "mobile"]))
staff = {{}}
for role, n in counts.items():
    staff[role] = []
    for i in range(n):
        extra = {{"prescriber_kind": "psychiatrist"}} if role == "prescriber" else {{}}
        u = staff_create(username=f"load.{{role}}{{i}}", password=DEMO_PASSWORD, role=role,
                         locations=locations, first_name="Load", last_name=f"{{role.title()}} {{i}}", **extra)
        TOTPDevice.objects.create(user=u, name="Load test", key=DEMO_TOTP_KEY_HEX, confirmed=True)
        staff[role].append(u.username)
added = demo_running_sessions_add(count={sessions})
from ketaclinic.infusions.models import InfusionSession
running = InfusionSession.objects.filter(state="running").select_related("location")
print("PREPARED " + json.dumps({{
    "staff": staff,
    "sessions": [{{"id": str(s.external_id), "location": s.location.code}} for s in running],
    "added": len(added),
    "charts": [str(p) for p in Patient.objects.filter(location__code__in=["downtown", "northside"])
               .values_list("external_id", flat=True)],
}}))
"""


def refuse_unless_ours(name: str) -> None:
    if not DATABASE_NAME.match(name):
        raise SystemExit(
            f"load.py: database {name!r} refused; give a name ending in _load (ketaclinic_load)."
        )


def admin() -> psycopg.Connection[Any]:
    return psycopg.connect(ADMIN_URL.replace("postgres://", "postgresql://", 1), autocommit=True)


def database_drop(name: str) -> None:
    """Drop ``name`` only if this script made it (its comment says so)."""
    refuse_unless_ours(name)
    with admin() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is None:
            return
        if row[0] != MARKER:
            raise SystemExit(
                f"load.py: database {name!r} exists and was not made by this script; not touched."
            )
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def database_create(name: str) -> None:
    database_drop(name)
    with admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{MARKER}'")


def server_env(name: str, var_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=ADMIN_URL.rsplit("/", 1)[0] + "/" + name,
        DJANGO_SETTINGS_MODULE="ketaclinic.web.settings.production",
        DJANGO_SECRET_KEY="load-test-only-" + uuid.uuid4().hex * 2,
        KETACLINIC_AUDIT_KEY="load-test-only-" + uuid.uuid4().hex,
        KETACLINIC_REDIS_URL=REDIS_URL,
        KETACLINIC_VAR_DIR=var_dir,
        KETACLINIC_AUDIT_CHECKPOINT_FILE=str(Path(var_dir) / "checkpoints.jsonl"),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([KETACLINIC, "manage", *args], env=env, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(
            f"ketaclinic manage {args[0]} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}"
        )
    return result.stdout


def page_said(page: str) -> str:
    """What a refused form says: its alerts (the error summary naming each field with its message, a possible
    duplicate with why it matched), as plain text; else the start of the page's main content."""
    alerts = re.findall(r'<div class="msg [^"]*" role="alert">(.*?)</div>', page, re.S)
    alerts += re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S) if not alerts else []
    text = " | ".join(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", a)).strip() for a in alerts)
    if not text:
        main = page.split("<main", 1)[-1]
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main.split(">", 1)[-1])).strip()
    return html.unescape(text)[:500]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Day:
    """What the simulated staff share: who signs in as whom, the sessions, the charts, verbal orders left."""

    base = ""
    staff: dict[str, list[str]] = {}
    sessions: list[dict[str, str]] = []
    charts: list[str] = []
    cosign: list[str] = []
    signed_in = 0  # staff who have finished arriving (signed in, first pages open)


class Staff(FastHttpUser):
    """One member of staff. The client is locust's FastHttpUser (geventhttpclient): the load generator shares
    the server's two cores here, and the requests-based HttpUser spent several times more of them per request
    than this one; what is measured is the server, so the client should take as little as it can."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        # The TLS proxy's part: the client speaks plain HTTP and says the request came over HTTPS.
        self.proxy = {"X-Forwarded-Proto": "https", "Referer": f"https://{Day.base[7:]}/"}
        self.username = Day.staff[self.role].pop()
        self.get("/accounts/login/", "sign-in page")
        self.post("/accounts/login/", {"username": self.username, "password": DEMO_PASSWORD}, "sign-in")
        if self.role == "prescriber":  # prescribers pass the second factor before any page
            # a code that went stale while the request waited for a busy server: again with a new one
            for _ in range(3):
                token = f"{totp(bytes.fromhex(DEMO_TOTP_KEY_HEX)):06d}"
                verified = self.post("/accounts/2fa/verify/", {"token": token}, "sign-in second factor")
                if verified.status_code == 302:
                    break
        self.arrive()

    def arrive(self) -> None:
        """The first pages every role opens on arriving (the dashboard, which sign-in lands on)."""
        self.get("/", "dashboard")
        Day.signed_in += 1

    def get(self, path: str, name: str, **headers: str) -> Any:
        with self.client.get(
            path, name=name, headers={**self.proxy, **headers}, allow_redirects=False, catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code} from {path}")
        self._plain_cookies()
        return r

    def _plain_cookies(self) -> None:
        # The proxy's other part: the production cookies are Secure, and this client speaks plain HTTP to it.
        for cookie in self.client.cookiejar:
            cookie.secure = False

    def post(self, path: str, data: dict[str, str], name: str) -> Any:
        token = next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "") or ""
        with self.client.post(
            path,
            data=urlencode({**data, "csrfmiddlewaretoken": token}),
            headers={**self.proxy, "Content-Type": "application/x-www-form-urlencoded"},
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                r.failure(f"{r.status_code} from POST {path}: {page_said(r.text or '')}")
        self._plain_cookies()
        return r


class Nurse(Staff):
    weight = 7
    role = "nurse"
    wait_time = constant(POLL_SECONDS)

    def arrive(self) -> None:
        rng = random.Random(self.username)
        self.session = rng.choice(Day.sessions)
        self.board = f"/sessions/board/?location={self.session['location']}"
        self.get(self.board, "board page")
        self.open_session()
        self.next_vitals = time.monotonic() + rng.uniform(0, VITALS_SECONDS)
        Day.signed_in += 1

    def open_session(self) -> None:
        page = self.get(f"/sessions/{self.session['id']}/", "session page").text
        chart = re.search(r'src="(/sessions/[^"]+/chart\.svg\?k=[^"]*)"', page)
        if chart:
            self.get(chart.group(1).replace("&amp;", "&"), "session chart (svg)")

    @task
    def poll(self) -> None:
        self.get(self.board, "board poll (15 s)", **{"HX-Request": "true"})
        self.get(
            f"/sessions/{self.session['id']}/status/", "session status poll (15 s)", **{"HX-Request": "true"}
        )
        if time.monotonic() >= self.next_vitals:
            self.next_vitals += VITALS_SECONDS
            vitals = {
                "client_id": str(uuid.uuid4()),
                "taken_at": "",
                "backdate_reason": "",
                "systolic_mmhg": str(random.randint(112, 134)),
                "diastolic_mmhg": str(random.randint(68, 84)),
                "heart_rate_bpm": str(random.randint(62, 88)),
                "spo2_percent": str(random.randint(96, 99)),
                "respiratory_rate_per_min": str(random.randint(12, 18)),
                "sedation": "mild",
            }
            self.post(f"/sessions/{self.session['id']}/vitals/", vitals, "post vitals (5 min)")
            self.open_session()


class Prescriber(Staff):
    weight = 2
    role = "prescriber"
    wait_time = between(20, 40)

    @task
    def chart_and_sign(self) -> None:
        self.get(f"/patients/{random.choice(Day.charts)}/", "patient chart")
        if Day.cosign:
            sid = Day.cosign.pop()
            page = self.get(f"/sessions/{sid}/", "session page").text
            event = re.search(r'name="event" value="(\d+)"', page)
            if event:
                self.post(
                    f"/sessions/{sid}/titration-cosign/", {"event": event.group(1)}, "co-sign verbal order"
                )


class Intake(Staff):
    weight = 1
    role = "intake"
    wait_time = between(30, 90)

    @task
    def register(self) -> None:
        self.get("/patients/", "patient list")
        self.get("/patients/?q=Mar", "patient search")
        form = self.get("/patients/new/", "registration form").text
        location = re.search(r'<select name="location"[^>]*>.*?<option value="(\w+)"', form, re.S)
        n = random.randint(1, 10**9)
        self.post(
            "/patients/new/",
            {
                "given_name": f"Load{n % 100000}",  # the duplicate check matches a name with the birth date
                "family_name": f"Patient{n}",
                "birth_date": f"19{random.randint(50, 99)}-0{random.randint(1, 9)}-1{random.randint(0, 9)}",
                "sex_at_birth": random.choice(["female", "male"]),
                "location": location.group(1) if location else "",
                "phone": f"857-{n % 800 + 200}-{n % 10000:04d}",  # unlikely to match anyone (duplicate check)
            },
            "register patient",
        )


def server_times(log: Path, since: str) -> None:
    """The server's own time per kind of request (gunicorn's JSON access lines, from ``since``): what the
    application took once a thread had the request, apart from the wait for a free thread."""
    kinds: dict[str, list[float]] = {}
    for line in log.read_text().splitlines():
        if line.startswith("{") and '"gunicorn.access"' in line:
            entry = json.loads(line)
            if entry["time"] >= since:
                path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", entry["path"])
                kinds.setdefault(f"{entry['method']} {path}", []).append(entry["duration_ms"])
    print(f"\nIn the server (access log): {'request':<34} {'count':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for kind, ms in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        ms.sort()
        print(f"{'':<28}{kind:<34} {len(ms):7d} {ms[len(ms) // 2]:7.0f} {ms[int(len(ms) * 0.95)]:7.0f}")


def percentile_ms(entry: Any, q: float) -> float:
    return float(entry.get_response_time_percentile(q))


def report(env: Environment, seconds: float, title: str) -> tuple[float, int]:
    print(f"\n{title}")
    print(
        f"{'request':<32} {'count':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}"
    )
    rows = sorted(env.stats.entries.values(), key=lambda e: -e.num_requests)
    for e in [*rows, env.stats.total]:
        name = "all requests" if e is env.stats.total else e.name
        print(
            f"{name:<32} {e.num_requests:7d} {e.num_requests / seconds:7.1f} {percentile_ms(e, 0.5):7.0f} "
            f"{percentile_ms(e, 0.95):7.0f} {percentile_ms(e, 0.99):7.0f} {e.num_failures:7d}"
        )
    for err in env.stats.errors.values():
        print(f"  error x{err.occurrences}: {err.method} {err.name}: {str(err.error)[:600]}")
    return percentile_ms(env.stats.total, 0.95), env.stats.total.num_failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2, help="the measured day, after all staff are in")
    parser.add_argument("--users", type=int, default=200, help="simulated staff at once")
    parser.add_argument("--spawn-rate", type=float, default=4, help="staff signing in a second")
    parser.add_argument("--sessions", type=int, default=40, help="infusions running now (nurses share them)")
    parser.add_argument("--database", default="ketaclinic_load")
    parser.add_argument(
        "--workers", type=int, help="server processes (default: ketaclinic serve's, from cores)"
    )
    parser.add_argument("--threads", type=int, help="threads per server process")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not 0 < args.minutes <= 60:
        raise SystemExit(f"--minutes: {args.minutes} is not allowed; from more than 0 to 60.")
    refuse_unless_ours(args.database)

    started = time.monotonic()
    var_dir = tempfile.mkdtemp(prefix="ketaclinic-load-")
    env = server_env(args.database, var_dir)
    database_create(args.database)
    server = None
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "demo_load")
        counts = {"nurse": 0, "prescriber": 0, "intake": 0}
        weights = {"nurse": Nurse.weight, "prescriber": Prescriber.weight, "intake": Intake.weight}
        for role, w in weights.items():  # locust spreads users by weight; a few spare accounts each
            counts[role] = int(args.users * w / sum(weights.values())) + 5
        out = manage(env, "shell", "-c", PREPARE.format(counts=counts, sessions=args.sessions))
        prepared = json.loads(out.split("PREPARED ", 1)[1])
        Day.staff, Day.sessions, Day.charts = prepared["staff"], prepared["sessions"], prepared["charts"]
        Day.cosign = [s["id"] for s in Day.sessions]
        print(
            f"Database {args.database}: the demo clinic plus {sum(counts.values())} staff accounts, "
            f"{len(Day.sessions)} infusions running, {len(Day.charts)} charts; ready in "
            f"{time.monotonic() - started:.0f} s."
        )
        port = free_port()
        Day.base = f"http://127.0.0.1:{port}"
        serve = [KETACLINIC, "serve", f"--port={port}"]
        serve += [f"--workers={args.workers}"] if args.workers else []
        serve += [f"--threads={args.threads}"] if args.threads else []
        server_log = open(Path(var_dir) / "server.log", "w")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen(
            serve, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True
        )
        print(
            "Server:",
            subprocess.run([*serve, "--print"], env=env, capture_output=True, text=True).stdout.strip(),
        )
        wait_ready(server)
        return run_day(args, Path(var_dir) / "server.log")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        if not args.keep:
            database_drop(args.database)


def wait_ready(server: subprocess.Popen[bytes]) -> None:
    import urllib.request

    for _ in range(1200):
        if server.poll() is not None:
            raise SystemExit("ketaclinic serve stopped before it was ready")
        try:
            with urllib.request.urlopen(f"{Day.base}/readyz", timeout=5) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            gevent.sleep(0.25)
    raise SystemExit("ketaclinic serve was not ready within 5 minutes")


def run_day(args: argparse.Namespace, server_log: Path) -> int:
    env = Environment(user_classes=[Nurse, Prescriber, Intake], events=events, host=Day.base)
    runner = env.create_local_runner()
    t0 = time.monotonic()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    deadline = t0 + args.users / args.spawn_rate + 300
    while Day.signed_in < args.users and time.monotonic() < deadline:
        gevent.sleep(0.5)
    ramp = time.monotonic() - t0
    report(env, ramp, f"Staff arriving: {args.users} signed in over {ramp:.0f} s (not part of the goal)")
    env.stats.reset_all()
    loads: list[float] = []

    def sample() -> None:
        while True:
            loads.append(os.getloadavg()[0])
            gevent.sleep(10)

    sampler = gevent.spawn(sample)
    seconds = args.minutes * 60
    day_start = time.monotonic()
    since = datetime.now(UTC).isoformat()
    gevent.sleep(seconds)
    runner.quit()
    sampler.kill()
    server_times(server_log, since)
    elapsed = time.monotonic() - day_start
    p95, errors = report(
        env,
        elapsed,
        f"The day: {args.users} staff for {elapsed:.0f} s on {os.cpu_count()} cores",
    )
    total = env.stats.total
    print(
        f"\nThroughput {total.num_requests / elapsed:.1f} requests/s; "
        f"overall p50 {percentile_ms(total, 0.5):.0f} ms, p95 {p95:.0f} ms, "
        f"p99 {percentile_ms(total, 0.99):.0f} ms; {errors} errors."
    )
    print(
        f"Load average during the run (1 min, sampled every 10 s): min {min(loads):.1f}, "
        f"mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f} (the machine is shared)."
    )
    ok = p95 < GOAL_P95_MS and errors == 0
    print(f"Goal (p95 under {GOAL_P95_MS} ms, no errors, {args.users} staff):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
