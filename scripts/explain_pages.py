"""EXPLAIN (ANALYZE) of the queries behind a clinic's pages, on a quick synthetic PostgreSQL database: one
clinic of ``--clinic`` patients beside ``--others`` patients at eight other locations, each with PHQ-9
answers (baseline, before infusions 1-3, after the series; 1 % corrected), open and assessed safety flags,
and ``--audit`` audit entries. Rows are made by ``INSERT ... SELECT generate_series`` (seconds, not the
realistic histories of the network generator): enough for the planner to choose as it will in production.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pages_explain \\
      .venv/bin/python scripts/explain_pages.py --fill --clinic 10000 --others 200000

The database must be named ``*_explain`` (it is filled with made-up rows and the audit table's rows are
not chained). Without ``--fill`` the queries are explained on the data already there. Prints, for each
page's query, the plan's execution time (median of 3) and the plan itself with ``--plans``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import django

FILL_SQL = [
    "INSERT INTO accounts_location (external_id, code, name, kind, address, city, state, postal_code, phone, "
    "timezone, active) SELECT gen_random_uuid(), 'loc' || i, 'Clinic ' || i, 'clinic', '', '', '', '', '', "
    "'America/New_York', true FROM generate_series(1, 9) i ON CONFLICT DO NOTHING",
    # patients: the clinic (loc1) first, then the others spread over loc2..loc9
    """INSERT INTO patients_patient (external_id, created_at, updated_at, mrn, given_name, family_name,
       preferred_name, birth_date, sex_at_birth, gender_identity, pronouns, phone, email, address, city,
       state, postal_code, location_id, emergency_contact_name, emergency_contact_phone,
       emergency_contact_relation,
       escort_name, escort_phone, part2_protected)
     SELECT gen_random_uuid(), now(), now(), 'KC' || lpad(i::text, 6, '0'), 'Given' || (i %% 997),
       'Family' || (i %% 4999), '', date '1950-01-01' + (i %% 20000), 'female', '', '',
       '555' || lpad((i %% 10000000)::text, 7, '0'), 'p' || i || '@example.org', '', '', '', '',
       (SELECT id FROM accounts_location WHERE code = CASE WHEN i <= %(clinic)s THEN 'loc1'
          ELSE 'loc' || (2 + i %% 8) END),
       '', '', '', '', '', false
     FROM generate_series(1, %(clinic)s + %(others)s) i""",
    # answers: baseline, before infusions 1-3, post series, on a course that started i % 400 days ago
    """INSERT INTO outcomes_questionnaireresponse (external_id, created_at, updated_at, patient_id,
       instrument, instrument_version, answers, total, severity, flags, prorated, suicidal_ideation,
       loinc_panel,
       loinc_result, authored_at, source, timepoint, infusion_number, indication, location_id, replace_reason)
     SELECT gen_random_uuid(), now(), now(), p.id, 'phq9', 1, '{}'::jsonb, 5 + (p.id + k) %% 20, '',
       '[]'::jsonb, false, false, '', '', now() - ((p.id %% 400) || ' days')::interval
       + (k * 3 || ' days')::interval,
       'staff', CASE WHEN k = 0 THEN 'baseline' WHEN k = 4 THEN 'post_series' ELSE 'pre_infusion' END,
       CASE WHEN k BETWEEN 1 AND 3 THEN k END, 'trd', p.location_id, ''
     FROM patients_patient p CROSS JOIN generate_series(0, 4) k""",
    # 1 % of the answers corrected (a new response replaces the old one)
    """INSERT INTO outcomes_questionnaireresponse (external_id, created_at, updated_at, patient_id,
       instrument, instrument_version, answers, total, severity, flags, prorated, suicidal_ideation,
       loinc_panel,
       loinc_result, authored_at, source, timepoint, infusion_number, indication, location_id, replaces_id,
       replace_reason)
     SELECT gen_random_uuid(), now(), now(), r.patient_id, r.instrument, 1, r.answers, r.total + 1, '', '[]',
       false, false, '', '', r.authored_at, 'staff', r.timepoint, r.infusion_number, r.indication,
       r.location_id, r.id, 'typo corrected'
     FROM outcomes_questionnaireresponse r WHERE r.id %% 100 = 0""",
    """INSERT INTO outcomes_safetyflag (external_id, created_at, updated_at, patient_id, response_id, reason,
       summary, raised_at, status, assessment, plan, assessed_by_id, assessed_at)
     SELECT gen_random_uuid(), now(), now(), r.patient_id, r.id, 'suicidal_ideation', 'item 9 above 0',
       r.authored_at, 'open', '', '', NULL, NULL
     FROM outcomes_questionnaireresponse r WHERE r.id %% 50 = 1 AND r.replaces_id IS NULL""",
    """INSERT INTO audit_auditentry (seq, at, actor_label, action, summary, location_code, detail, user_agent,
       path, method, prev_hash, entry_hash)
     SELECT i, now() - (i || ' seconds')::interval, 'desk',
       CASE WHEN i %% 10 = 0 THEN 'create' ELSE 'view' END,
       'made-up entry', 'loc1', '{}'::jsonb, '', '', '', repeat('0', 64), md5(i::text) || md5('x' || i)
     FROM generate_series(1, %(audit)s) i""",
    "SELECT setval('audit_entry_seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_auditentry))",
    "ANALYZE",
]


def fill(clinic: int, others: int, audit: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        for sql in FILL_SQL:
            t0 = time.perf_counter()
            cur.execute(sql, {"clinic": clinic, "others": others, "audit": audit})
            print(
                f"  {time.perf_counter() - t0:6.1f} s  {(sql.split() + [''] * 3)[2]} ({cur.rowcount} rows)",
                flush=True,
            )
    connection.commit() if not connection.get_autocommit() else None


def explained(sql: str) -> tuple[float, str]:
    """The plan of one SQL statement (as executed, parameters inlined) and its execution time in ms."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))
        lines = [row[0] for row in cur.fetchall()]
    ms = next(float(x.split()[2]) for x in lines if x.startswith("Execution Time"))
    return ms, "\n".join(lines)


def page(name: str, call: Callable[[], Any], plans: bool, runs: int) -> None:
    """Run ``call`` ``runs`` times; print its median wall time, the time its queries took in the last run,
    their number, and the plan time of the slowest (EXPLAIN ANALYZE)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    walls = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            call()
            walls.append((time.perf_counter() - t0) * 1000)
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
    ms, plan = explained(slowest["sql"])
    sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
    print(
        f"{name:40s} {statistics.median(walls):9.1f} {sql_ms:9.1f} {len(ctx.captured_queries):5d} {ms:12.1f}",
        flush=True,
    )
    if plans:
        print(slowest["sql"][:2000], "\n", plan, sep="")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fill", action="store_true")
    parser.add_argument("--clinic", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=200_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--plans", action="store_true", help="print the plans too")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="only the pages whose name has one of these words")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not url.rsplit("/", 1)[-1].endswith("_explain"):
        print("DATABASE_URL must name a PostgreSQL database ending in _explain", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.web.settings.local")
    django.setup()
    if args.fill:
        fill(args.clinic, args.others, args.audit)
    from ketaclinic.accounts.models import Location, User
    from ketaclinic.accounts.services import staff_create
    from ketaclinic.audit.selectors import audit_entries
    from ketaclinic.outcomes.selectors import (
        DashboardFilters,
        _cohort_rows,
        measure_patients,
        questionnaire_worklist,
    )
    from ketaclinic.patients.access import patients_visible_to
    from ketaclinic.patients.selectors import duplicates_find, patient_search

    clinic = Location.objects.get(code="loc1")
    desk = User.objects.filter(username="explain.intake").first() or staff_create(
        username="explain.intake", password="explain-only-password", role="intake", locations=[clinic]
    )
    period = DashboardFilters(date(2024, 1, 1), date(2027, 1, 1), clinic, "")
    pages: dict[str, Callable[[], Any]] = {
        "questionnaire worklist (loc1)": lambda: questionnaire_worklist(user=None, location=clinic),
        "dashboard cohort (loc1)": lambda: _cohort_rows("phq9", period, with_response_time=True),
        "dashboard measures (loc1)": lambda: measure_patients(period),
        "patient list (loc1 desk)": lambda: patient_search(user=desk),
        "patient search by name": lambda: patient_search(user=desk, query="Family12"),
        "patient search by MRN": lambda: patient_search(user=desk, query="kc0000012"),
        "home dashboard patient count": lambda: patients_visible_to(desk).count(),
        "duplicate check (name, birth, email, phone)": lambda: duplicates_find(
            user=desk,
            given_name="Given5",
            family_name="Family5",
            birth_date=date(1950, 1, 6),
            email="P5@example.org",
            phone="555 000 0005",
        ),
        "audit page 1": lambda: list(audit_entries()[:51]),
        "audit page (action=create)": lambda: list(audit_entries(action="create")[:51]),
    }
    print(f"{'page':40s} {'wall ms':>9s} {'SQL ms':>9s} {'queries':>5s} {'slowest plan ms':>12s}")
    for name, call in pages.items():
        if not args.only or any(word in name for word in args.only):
            page(name, call, args.plans, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
