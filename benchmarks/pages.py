"""Page budgets: every page and API list a clinic uses, at growing network sizes, beside a wider registry.

For each size (1,000 and 10,000 patients; 100,000 with ``--large``) the benchmark makes its own PostgreSQL
database anew (``ketaclinic_bench_pages``, see bench_db.py: a DATABASE_URL or BENCH_DATABASE_URL naming any
other is refused before anything connects), migrates it, generates the synthetic network
(``ketaclinic.web.network.network_generate``: 9 clinics) plus a registry of 100,000 patients at other
locations (1,000,000 with ``--large-registry``) that the clinic's staff cannot see, and then requests every
page in process with Django's test ``Client``, signed in through the real sign-in pages as the role that uses
the page (a nurse, a prescriber with an authenticator code, the administrator). Per page: the query count
(one request under ``CaptureQueriesContext``), then the median and p95 of ``--requests`` timed requests
(default 15), and the ratio of the median to the named baseline, ``/healthz``, timed in the same run. The
database is dropped at the end (``--keep`` leaves it).

Goals (issue 12): the same query count at every size; p95 under 150 ms for a page, under 50 ms for a polled
fragment, under 300 ms for charts and PDFs. A miss is flagged in the table, and the slowest query of every
page over budget is shown with its EXPLAIN ANALYZE.

    .venv/bin/python benchmarks/pages.py                 # 1k and 10k, registry 100k
    .venv/bin/python benchmarks/pages.py --sizes 1000 --registry 0 --requests 5   # a quick look
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench_db import _admin as bench_admin
from bench_db import bench_url, database_name

BENCHMARK = "pages"
TOTP_KEY_HEX = "3132333435363738393031323334353637383930"


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # nurse | prescriber | admin
    kind: str  # page | poll | chart
    url: str  # with {patient}, {session}, {location}
    htmx: bool = False  # asked as the page's htmx poll asks (HX-Request: true)

    @property
    def budget_ms(self) -> float:
        return {"page": 150.0, "poll": 50.0, "chart": 300.0}[self.kind]


PAGES = (
    Page("home dashboard", "nurse", "page", "/"),
    Page("patient list", "nurse", "page", "/patients/"),
    Page("patient search", "nurse", "page", "/patients/?q=Garcia"),
    Page("API patient list", "nurse", "page", "/api/patients"),
    Page("API patient search", "nurse", "page", "/api/patients?q=Garcia"),
    Page("day board", "nurse", "page", "/sessions/board/"),
    Page("day board poll", "nurse", "poll", "/sessions/board/?location={location}", htmx=True),
    Page("API day board", "nurse", "page", "/api/sessions/board?location={location}"),
    Page("clinic dashboard", "nurse", "page", "/dashboard/"),
    Page("patient chart", "nurse", "page", "/patients/{patient}/"),
    Page("API patient chart", "nurse", "page", "/api/patients/{patient}"),
    Page("patient's sessions", "nurse", "page", "/sessions/patient/{patient}/"),
    Page("API patient's sessions", "nurse", "page", "/api/sessions/patients/{patient}/sessions"),
    Page("live session page", "nurse", "page", "/sessions/{session}/"),
    Page("live session poll", "nurse", "poll", "/sessions/{session}/status/", htmx=True),
    Page("API session", "nurse", "poll", "/api/sessions/{session}"),
    Page("session chart (SVG)", "nurse", "chart", "/sessions/{session}/chart.svg"),
    Page("session vitals API", "nurse", "chart", "/api/sessions/{session}/vitals"),
    Page("session MAR", "nurse", "page", "/sessions/{session}/mar/"),
    Page("patient MAR", "nurse", "page", "/sessions/patient/{patient}/mar/"),
    Page("patient MAR PDF", "nurse", "chart", "/sessions/patient/{patient}/mar.pdf"),
    Page("patient outcomes", "prescriber", "page", "/outcomes/patient/{patient}/"),
    Page("outcomes chart (SVG)", "prescriber", "chart", "/outcomes/patient/{patient}/chart/phq9.svg"),
    Page("API patient responses", "prescriber", "page", "/api/outcomes/patients/{patient}/responses"),
    Page("questionnaire worklist", "prescriber", "page", "/outcomes/worklist/?location={location}"),
    Page("API safety flags", "prescriber", "page", "/api/outcomes/flags"),
    Page("outcomes dashboard", "prescriber", "page", "/outcomes/dashboard/"),
    Page("audit page", "admin", "page", "/audit/"),
)
BASELINE = Page("healthz (baseline)", "nurse", "poll", "/healthz")


@dataclass
class Result:
    queries: int
    median_ms: float
    p95_ms: float
    status: int
    slowest_sql: str = ""
    slowest_params: Any = None
    slowest_ms: float = 0.0
    plan: str = ""


@dataclass
class Run:
    size: int
    registry: int
    generate_s: float
    baseline_ms: float = 0.0
    results: dict[str, Result] = field(default_factory=dict)


def database_fresh() -> None:
    """The benchmark's own database, made anew (``bench_db`` checked the name before anything connected)."""
    from django.db import connections

    connections.close_all()
    name = database_name(BENCHMARK)
    with bench_admin(bench_url(BENCHMARK)) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.web.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # the PDF's CSS warnings, once per request
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def build(size: int, registry: int) -> float:
    from django.core.management import call_command

    database_fresh()
    call_command("migrate", verbosity=0)
    from ketaclinic.web.network import network_generate

    t0, c0 = time.perf_counter(), time.process_time()
    report = network_generate(locations=9, patients=size, registry=registry, seed=1)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        "  parts: "
        + ", ".join(f"{name} {s:.0f} s" for name, s in report.seconds)
        + f"; CPU of this process {cpu:.0f} s; peak memory "
        + f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print(
        f"  generated {size:,} patients (+{registry:,} registry) in {took:.0f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in report.counts.items()),
        flush=True,
    )
    return took


def sign_in(username: str) -> Any:
    from django.test import Client
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ketaclinic.accounts.models import User
    from ketaclinic.web.network.people import PASSWORD

    user = User.objects.get(username=username)
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, (username, response.status_code)
    if user.needs_second_factor:
        TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"key": TOTP_KEY_HEX, "confirmed": True}
        )
        token = f"{totp(bytes.fromhex(TOTP_KEY_HEX)):06d}"
        response = client.post("/accounts/2fa/verify/", {"token": token})
        assert response.status_code == 302, (username, response.status_code, response.content[:300])
    return client


def targets() -> dict[str, str]:
    """The running session at the first clinic and its patient (who has a history)."""
    from ketaclinic.infusions.models import InfusionSession

    s = (
        InfusionSession.objects.filter(location__code="net-01", state="running")
        .select_related("patient", "location")
        .order_by("id")
        .first()
    )
    assert s is not None, "the network has no running session at net-01"
    return {"session": str(s.external_id), "patient": str(s.patient.external_id), "location": "net-01"}


class Counter:
    """Every query a request runs, with its time (``connection.execute_wrapper``: unlike Django's
    ``CaptureQueriesContext`` it survives the request closing its connection)."""

    def __init__(self) -> None:
        self.queries: list[tuple[float, str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - t0, sql, params))


def measure(client: Any, url: str, n: int, explain: bool, htmx: bool = False) -> Result:
    from django.db import connection

    headers = {"HX-Request": "true"} if htmx else {}
    if htmx:  # a poll follows the page's load or the last poll: what is measured is the one after
        client.get(url, headers=headers)
    counter = Counter()
    with connection.execute_wrapper(counter):
        response = client.get(url, headers=headers)
        _ = response.content if not response.streaming else b"".join(response.streaming_content)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(url, headers=headers)
        _ = r.content if not r.streaming else b"".join(r.streaming_content)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    result = Result(
        queries=len(counter.queries),
        median_ms=statistics.median(times),
        p95_ms=times[max(0, round(0.95 * len(times)) - 1)],
        status=response.status_code,
    )
    if explain and counter.queries:
        took, sql, params = max(counter.queries, key=lambda q: q[0])
        result.slowest_ms = took * 1000
        result.slowest_sql, result.slowest_params = sql, params
    return result


def explain(sql: str, params: Any) -> str:
    from django.db import connection

    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return "(not a SELECT)"
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


def kept(size: int) -> bool:
    """The benchmark's database is there from a ``--keep`` run, with ``size`` patients of the network."""
    from django.db import connections
    from django.db.utils import OperationalError

    from ketaclinic.patients.models import Patient

    try:
        return Patient.objects.exclude(location__code__startswith="other-").count() == size
    except OperationalError:  # no such database yet
        connections.close_all()
        return False
    except Exception:  # noqa: BLE001 - not migrated: made anew
        connections.close_all()
        return False


def run_size(size: int, registry: int, n: int, reuse: bool = False, only: tuple[str, ...] = ()) -> Run:
    if reuse and kept(size):
        print(f"  reusing the kept database ({size:,} patients)", flush=True)
        took = 0.0
    else:
        took = build(size, registry)
    run = Run(size, registry, took)
    ids = targets()
    clients = {
        "nurse": sign_in("nurse.01.1"),
        "prescriber": sign_in("prescriber.01.1"),
        "admin": sign_in("admin.network"),
    }
    run.baseline_ms = measure(clients["nurse"], BASELINE.url, n, False).median_ms
    for page in PAGES:
        if only and not any(word in page.name for word in only):
            continue
        r = measure(clients[page.role], page.url.format(**ids), n, True, page.htmx)
        if r.p95_ms > page.budget_ms and r.slowest_sql:
            r.plan = explain(r.slowest_sql, r.slowest_params)
        run.results[page.name] = r
        print(
            f"  {page.name:<26} {r.status} {r.queries:>4} q  median {r.median_ms:7.1f} ms  "
            f"p95 {r.p95_ms:7.1f} ms",
            flush=True,
        )
    return run


def table(runs: list[Run]) -> str:
    head = (
        "| page | budget (p95) | "
        + " | ".join(f"{r.size:,} + {r.registry:,}: queries, median, p95, ×healthz" for r in runs)
        + " | goals |"
    )
    lines = [head, "|" + "---|" * (len(runs) + 3)]
    lines.append(
        f"| {BASELINE.name} | — | " + " | ".join(f"median {r.baseline_ms:.1f} ms" for r in runs) + " | |"
    )
    for page in PAGES:
        if any(page.name not in r.results for r in runs):  # left out by --only
            continue
        cells, misses = [], []
        counts = {r.results[page.name].queries for r in runs}
        if len(counts) > 1:
            misses.append("queries grow")
        for r in runs:
            x = r.results[page.name]
            over = x.p95_ms > page.budget_ms
            if over:
                misses.append(f"p95 over at {r.size:,}")
            bold = "**" if over else ""
            cells.append(
                f"{x.queries} q, {x.median_ms:.0f} ms, {bold}{x.p95_ms:.0f} ms{bold}, "
                f"{x.median_ms / max(r.baseline_ms, 1e-6):.0f}×"
                + ("" if x.status == 200 else f" (HTTP {x.status})")
            )
        lines.append(
            f"| {page.name} | {page.budget_ms:.0f} ms | "
            + " | ".join(cells)
            + " | "
            + ("; ".join(misses) or "met")
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="Patient counts, comma-separated.")
    ap.add_argument("--large", action="store_true", help="Add the 100,000-patient size.")
    ap.add_argument("--registry", type=int, default=100_000, help="Other-location patients per size.")
    ap.add_argument("--large-registry", action="store_true", help="A registry of 1,000,000.")
    ap.add_argument("--requests", type=int, default=15, help="Timed requests per page (at least 15).")
    ap.add_argument("--keep", action="store_true", help="Leave the database (the largest size) behind.")
    ap.add_argument(
        "--reuse", action="store_true", help="Measure in the kept database if it holds the size (no build)."
    )
    ap.add_argument("--only", default="", help="Only the pages whose names hold one of these words (a,b).")
    args = ap.parse_args()
    url = bench_url(BENCHMARK)  # refuses a DATABASE_URL naming another database, before connecting
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([100_000] if args.large else [])
    registry = 1_000_000 if args.large_registry else args.registry
    setup_django(url)
    runs = []
    try:
        for size in sizes:
            print(f"\n== {size:,} patients + {registry:,} at other locations", flush=True)
            only = tuple(w for w in args.only.split(",") if w)
            runs.append(run_size(size, registry, args.requests, args.reuse, only))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with bench_admin(url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database_name(BENCHMARK)}" WITH (FORCE)')
            print(f"benchmark database {database_name(BENCHMARK)} dropped")
    print(
        "\nIn process (Django test Client), PostgreSQL, signed in through the sign-in pages; "
        f"{args.requests} timed requests per page after one counted.\n"
    )
    print(table(runs))
    last = runs[-1]
    over = [
        (p, last.results[p.name])
        for p in PAGES
        if p.name in last.results and last.results[p.name].p95_ms > p.budget_ms
    ]
    for page, r in over:
        print(
            f"\n### {page.name} at {last.size:,}: {r.queries} queries, the slowest {r.slowest_ms:.1f} ms\n"
            f"```\n{r.slowest_sql}\n\n{r.plan}\n```"
        )


if __name__ == "__main__":
    main()
