"""Clinic outcomes dashboard on a synthetic network: 10,000 patients, 1,000,000 questionnaire responses.

Loads the data into its own PostgreSQL database, ``ketaclinic_bench_outcomes`` (benchmarks/bench_db.py:
created anew and migrated, dropped at the end unless ``--keep``; ``BENCH_DATABASE_URL`` or ``DATABASE_URL``
may choose the server but a URL naming any other database is refused before anything connects; with
``--keep`` a later run reuses the loaded data, ``--reload`` forces a new load): patients with
``bulk_create`` in batches, responses with PostgreSQL ``COPY``. Then times the dashboard as the page
computes it (``ketaclinic.outcomes.selectors.outcomes_dashboard``: from its summaries, built after the load
by ``outcome_summaries_rebuild``) and, in the same process on the same data, two named baselines: the
dashboard **from the answers** (``from_answers=True``, as it was computed before the summaries) and the
naive **"rows into Python"**: every current PHQ-9 and GAD-7 response of the network fetched and the clinic's
own definitions computed in Python. All must give the same figures, or the benchmark fails. Target: under
500 ms for the whole dashboard.

Synthetic network: 9 locations; per patient a course start between 2024-01-01 and 2026-06-30, then 50
PHQ-9 and 50 GAD-7 answers (baseline, before infusions 2-6, follow-up on day 3, 1/2/4/6 weeks after the
series, 39 monthly); baseline PHQ-9 6-27, ~55 % responders; item 9 above 0 at baseline for ~25 %.
Seeded (random.Random(42)).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bench_db import dedicated_database

BENCHMARK = "outcomes"  # its database: ketaclinic_bench_outcomes, and no other
PATIENTS, PER_PATIENT = 10_000, 100
INDICATIONS = ["trd", "trd", "trd", "mdd", "ptsd", "anxiety", "bipolar_depression"]
COLUMNS = (
    "external_id",
    "created_at",
    "updated_at",
    "patient_id",
    "instrument",
    "instrument_version",
    "answers",
    "total",
    "severity",
    "flags",
    "prorated",
    "suicidal_ideation",
    "loinc_panel",
    "loinc_result",
    "authored_at",
    "source",
    "timepoint",
    "infusion_number",
    "indication",
    "location_id",
    "replace_reason",
)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.web.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def band(total: float, instrument: str) -> str:
    bands = [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")]
    if instrument == "gad7":
        bands = [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")]
    return next(label for lo, label in reversed(bands) if total >= lo)


def spread(total: int, items: int, item9: int | None = None) -> list[int]:
    rest = total - (item9 or 0)
    out = []
    for _ in range(items - (1 if item9 is not None else 0)):
        a = min(3, rest)
        out.append(a)
        rest -= a
    return out + ([item9] if item9 is not None else [])


def load(reload: bool) -> None:
    from django.db import connection, transaction

    from ketaclinic.accounts.models import Location
    from ketaclinic.outcomes.models import QuestionnaireResponse
    from ketaclinic.patients.models import Patient

    if not reload and QuestionnaireResponse.objects.count() >= PATIENTS * PER_PATIENT:
        print(
            f"data already loaded: {QuestionnaireResponse.objects.count():,} "
            "responses (use --reload to rebuild)"
        )
        return
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "DROP TRIGGER IF EXISTS outcomes_questionnaireresponse_append_only "
            "ON outcomes_questionnaireresponse"
        )
        cur.execute(
            "TRUNCATE outcomes_boosterproposal, outcomes_safetyflag, outcomes_questionnaireresponse, "
            "outcomes_patientlink CASCADE"
        )
        cur.execute("DELETE FROM patients_patient WHERE mrn LIKE 'BENCH%%'")
    rng = random.Random(42)  # noqa: S311 - synthetic data
    with transaction.atomic():
        locations = []
        for n in range(9):
            loc, _ = Location.objects.get_or_create(code=f"bench-{n}", defaults={"name": f"Bench Clinic {n}"})
            locations.append(loc)
        batch = [
            Patient(
                mrn=f"BENCH{i:06d}",
                given_name=f"P{i}",
                family_name="Bench",
                birth_date=date(1980, 1, 1),
                sex_at_birth="female" if i % 2 else "male",
                location=locations[i % 9],
            )
            for i in range(PATIENTS)
        ]
        Patient.objects.bulk_create(batch, batch_size=2000)
        patients = list(
            Patient.objects.filter(mrn__startswith="BENCH").order_by("id").values_list("id", "location_id")
        )
    t1 = time.perf_counter()
    day0 = datetime(2024, 1, 1, 9, tzinfo=UTC)
    buf = io.StringIO()
    now = datetime.now(UTC).isoformat()
    for pid, loc in patients:
        start = day0 + timedelta(days=rng.randint(0, 911), minutes=rng.randint(0, 600))
        indication = rng.choice(INDICATIONS)
        base = rng.randint(6, 27)
        responder = rng.random() < 0.55
        floor = rng.randint(1, max(1, base // 2)) if responder else max(0, base - rng.randint(0, base // 2))
        si = 1 if rng.random() < 0.25 else 0
        gad_base = rng.randint(3, 21)
        times = [
            ("baseline", None, 0.0),
            *[("pre_infusion", k, 3.5 * (k - 1)) for k in range(2, 7)],
            ("follow_up", None, 3.0),
            *[("post_series", None, 17.5 + 7 * w) for w in (1, 2, 4, 6)],
            *[("monthly", None, 59.5 + 30 * m) for m in range(1, 40)],
        ]
        for step, (timepoint, infusion, days) in enumerate(times):
            progress = min(1.0, step / 8)
            total = round(base - (base - floor) * progress + rng.uniform(-1.5, 1.5))
            total = max(0, min(27, total))
            item9 = si if step < 3 and total >= si else (1 if rng.random() < 0.05 and total else 0)
            gad = max(
                0,
                min(
                    21,
                    round(gad_base * (1 - 0.4 * progress * (1 if responder else 0.3))) + rng.randint(-1, 1),
                ),
            )
            at = (start + timedelta(days=days)).isoformat()
            for inst, tot, answers, panel, result, flags_si in (
                ("phq9", total, spread(total, 9, item9), "44249-1", "44261-6", item9 > 0),
                ("gad7", gad, spread(gad, 7), "69737-5", "70274-6", None),
            ):
                ans = json.dumps({f"{inst}_{i}": v for i, v in enumerate(answers, start=1)})
                flags = '["suicidal_ideation"]' if flags_si else "[]"
                si_col = ("t" if flags_si else "f") if inst == "phq9" else "\\N"
                buf.write(
                    "\t".join(
                        [
                            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            now,
                            now,
                            str(pid),
                            inst,
                            "1",
                            ans,
                            str(tot),
                            band(tot, inst),
                            flags,
                            "f",
                            si_col,
                            panel,
                            result,
                            at,
                            "staff",
                            timepoint,
                            str(infusion) if infusion else "\\N",
                            indication,
                            str(loc),
                            "",
                        ]
                    )
                    + "\n"
                )
    t2 = time.perf_counter()
    with connection.cursor() as cur:
        raw = cur.connection
        with (
            raw.cursor() as pg,
            pg.copy(f"COPY outcomes_questionnaireresponse ({', '.join(COLUMNS)}) FROM STDIN") as cp,
        ):
            cp.write(buf.getvalue())
    with connection.cursor() as cur:
        from ketaclinic.base.db_guards import append_only_sql

        for sql in append_only_sql("postgresql", "outcomes_questionnaireresponse"):
            cur.execute(sql)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE outcomes_questionnaireresponse")
    t3 = time.perf_counter()
    print(
        f"loaded {len(patients):,} patients in {t1 - t0:.1f} s (bulk_create, batches of 2,000); "
        f"{len(patients) * PER_PATIENT:,} responses generated "
        f"in {t2 - t1:.1f} s, COPY + ANALYZE {t3 - t2:.1f} s"
    )
    # COPY went past the services that keep the dashboard's summaries: build them as a site would
    from ketaclinic.outcomes.services import outcome_summaries_rebuild

    build = outcome_summaries_rebuild()
    with connection.cursor() as cur:
        cur.execute("ANALYZE outcomes_dashboardendpoint")
        cur.execute("ANALYZE outcomes_dashboardmeasurepatient")
    print(f"outcome summaries rebuilt for {build.patients:,} patients in {time.perf_counter() - t3:.1f} s")


def naive_dashboard(filters):  # type: ignore[no-untyped-def]
    """The named baseline: every current PHQ-9/GAD-7 response into Python, then the same definitions."""
    from collections import defaultdict
    from datetime import time as dtime

    from django.utils import timezone

    from ketaclinic.outcomes.selectors import current_responses, dashboard_from_rows

    lo = timezone.make_aware(datetime.combine(filters.start, dtime.min))
    hi = timezone.make_aware(datetime.combine(filters.end + timedelta(days=1), dtime.min))
    rows = defaultdict(list)
    for r in (
        current_responses()
        .filter(instrument__in=["phq9", "gad7"])
        .values_list(
            "patient_id",
            "instrument",
            "timepoint",
            "authored_at",
            "id",
            "total",
            "suicidal_ideation",
            "location_id",
            "indication",
        )
        .iterator(chunk_size=20000)
    ):
        rows[(r[0], r[1])].append(r)
    out = {"phq9": [], "gad7": []}
    for (_pid, inst), rs in rows.items():
        rs.sort(key=lambda r: (r[3], r[4]))
        ends = [
            r
            for r in rs
            if r[2] == "post_series"
            and lo <= r[3] < hi
            and (filters.location is None or r[7] == filters.location.id)
            and (not filters.indication or r[8] == filters.indication)
        ]
        if not ends:
            continue
        base = next((r for r in rs if r[2] == "baseline" and r[5] is not None), None)
        end = ends[-1]
        row = {
            "b_total": base[5] if base else None,
            "b_si": base[6] if base else None,
            "e_total": end[5],
            "e_si": end[6],
        }
        if inst == "phq9":
            r_at = next(
                (r[3] for r in rs if base and r[3] > base[3] and r[5] is not None and r[5] <= base[5] * 0.5),
                None,
            )
            row["r_days"] = (r_at - base[3]).total_seconds() / 86400 if r_at and base else None
        out[inst].append(row)
    return dashboard_from_rows(filters, out["phq9"], out["gad7"])


def timed(fn, repeat: int):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return result, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reload", action="store_true", help="rebuild the synthetic data")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's database for the next run")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with dedicated_database(BENCHMARK, keep=args.keep) as url:
        setup_django(url)
        load(args.reload)
        return measure(args.repeat)


def measure(repeat: int) -> int:

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketaclinic.accounts.models import Location, User
    from ketaclinic.accounts.services import staff_create
    from ketaclinic.outcomes.models import QuestionnaireResponse
    from ketaclinic.outcomes.selectors import DashboardFilters, outcomes_dashboard

    user = User.objects.filter(username="bench.admin").first() or staff_create(
        username="bench.admin",
        password="bench only, never a real account",
        role="admin",
        locations=list(Location.objects.filter(code__startswith="bench-")),
    )
    print(f"responses in the database: {QuestionnaireResponse.objects.count():,}")
    cases = [
        ("whole network, 12 months", DashboardFilters(date(2025, 7, 1), date(2026, 6, 30))),
        (
            "one location, TRD, 12 months",
            DashboardFilters(
                date(2025, 7, 1),
                date(2026, 6, 30),
                location=Location.objects.get(code="bench-3"),
                indication="trd",
            ),
        ),
    ]
    worst = 0.0
    for label, filters in cases:
        with CaptureQueriesContext(connection) as q:
            outcomes_dashboard(user=user, filters=filters)
        fast, fast_ms = timed(lambda f=filters: outcomes_dashboard(user=user, filters=f), repeat)
        answers, answers_ms = timed(
            lambda f=filters: outcomes_dashboard(user=user, filters=f, from_answers=True), repeat
        )
        slow, slow_ms = timed(lambda f=filters: naive_dashboard(f), 1)
        if fast != answers:
            print(f"MISMATCH (summaries, answers) for {label}:\n{fast.as_dict()}\n{answers.as_dict()}")
            return 1
        # the naive baseline computes the clinic's own figures only, not the published measures
        if replace(fast, nqf1884=None, cms159=None).as_dict() != slow.as_dict():
            print(f"MISMATCH for {label}:\n{fast.as_dict()}\n{slow.as_dict()}")
            return 1
        med = statistics.median(fast_ms)
        worst = max(worst, med)
        print(f"\n{label}: {fast.completed:,} completers, {len(q)} queries")
        print(
            f"  dashboard (selectors.outcomes_dashboard): median {med:.0f} ms, min {min(fast_ms):.0f} ms "
            f"over {repeat} runs"
        )
        before = statistics.median(answers_ms)
        print(f"  from the answers (before the summaries):  median {before:.0f} ms  -> {before / med:.1f}x")
        print(
            "  naive baseline 'rows into Python':        "
            f"{slow_ms[0]:.0f} ms  -> {slow_ms[0] / med:.1f}x slower"
        )
        m = fast.as_dict()["measures"]
        print(
            "  figures: "
            + "; ".join(f"{k} {v['value']} [{v['low']}, {v['high']}] n={v['n']}" for k, v in m.items())
        )
    print(
        "\ntarget < 500 ms for the whole dashboard: "
        f"{'MET' if worst < 500 else 'NOT MET'} (worst median {worst:.0f} ms)"
    )
    return 0 if worst < 500 else 1


if __name__ == "__main__":
    sys.exit(main())
