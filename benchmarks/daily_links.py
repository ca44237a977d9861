"""The daily questionnaire-link job's memory at two sizes of a clinic: walked in chunks (the job) against
the named baseline "one pass" (every patient of the location read and emailed at once, as before the jobs
moved onto the worker: ``chunk_size`` larger than the clinic).

Runs in an in-memory SQLite database this process creates and drops (it touches no other database). One
location holds ``--sizes`` patients in treatment (6-infusion plans, today between infusions 3 and 4, an email
address each: every patient has questionnaires to email today). Each measured run sends everything (emails to
Django's dummy backend, links, dispatches and audit entries written) inside a transaction rolled back after,
so every run does the same work; the peak of Python's allocations is taken by ``tracemalloc``, after a
warm-up run on a small clinic (what loads once per process is not counted).

    .venv/bin/python benchmarks/daily_links.py [--sizes 250 1000] [--chunk 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from datetime import datetime, timedelta
from datetime import time as clock


def setup() -> None:
    os.environ["DATABASE_URL"] = "sqlite:///:memory:"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.web.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"  # no outbox kept in memory
    call_command("migrate", verbosity=0)


def clinic(size: int):  # noqa: ANN201 - returns a Location (Django is set up at run time)
    from django.utils import timezone

    from ketaclinic.accounts.models import Location
    from ketaclinic.accounts.services import staff_create
    from ketaclinic.patients.models import Patient
    from ketaclinic.patients.services import patient_register
    from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
    from ketaclinic.protocols.services import protocols_load_shipped
    from ketaclinic.screening.services import screening_record

    protocol = {pv.protocol_id: pv for pv in protocols_load_shipped()}["depression-standard"]
    where = Location.objects.create(code=f"bench{size}", name="Bench Clinic")
    intake = staff_create(username=f"intake{size}", password="x" * 16, role="intake", locations=[where])
    prescriber = staff_create(
        username=f"rx{size}",
        password="x" * 16,
        role="prescriber",
        locations=[where],
        prescriber_kind="psychiatrist",
    )
    first = Patient.objects.filter(mrn__startswith="KC").first() or patient_register(
        user=intake,
        location=where,
        given_name="A",
        family_name="B",
        birth_date=datetime(1980, 1, 1).date(),
        sex_at_birth="female",
        weight=("70", "kg"),
        height=("165", "cm"),
    )
    trials = [
        {"kind": "antidepressant", "name": n, "dose": "200 mg", "weeks": 8}
        for n in ("sertraline", "venlafaxine")
    ]
    screening = first.screenings.first() or screening_record(
        user=intake, patient=first, indication="trd", referral=None, contraindications={}, trials=trials
    )
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"B{size}-{n:07d}",
            given_name=f"P{n}",
            family_name="Bench",
            birth_date=first.birth_date,
            sex_at_birth="female",
            location=where,
            email=f"p{n}@example.org",
        )
        for n in range(size)
    )
    plans = TreatmentPlan.objects.bulk_create(
        TreatmentPlan(
            patient=p,
            screening=screening,
            indication="trd",
            protocol_version=protocol,
            series_count=6,
            max_per_week=2,
            min_spacing_hours=48,
            evaluation_after=3,
            status="active",
            signed_by=prescriber,
            signed_at=timezone.now(),
        )
        for p in patients
    )
    today = timezone.localdate()
    PlannedInfusion.objects.bulk_create(
        PlannedInfusion(
            plan=plan,
            sequence=n,
            location=where,
            status="done" if d < 0 else "planned",
            scheduled_start=timezone.make_aware(datetime.combine(today + timedelta(days=d), clock(10))),
        )
        for plan in plans
        for n, d in enumerate((-10, -7, -3, 1, 4, 7), start=1)
    )
    return where


def measure(where, chunk: int) -> tuple[int, float, str]:  # noqa: ANN001
    from django.db import transaction

    from ketaclinic.outcomes.services import due_links_send

    tracemalloc.start()
    start = time.perf_counter()
    with transaction.atomic():
        summary = due_links_send(
            user=None, base_url="https://clinic.example.org", location=where, chunk_size=chunk
        )
        transaction.set_rollback(True)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, seconds, str(summary).split(",")[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[250, 1000])
    parser.add_argument("--chunk", type=int, default=200)
    args = parser.parse_args()
    setup()
    measure(clinic(20), args.chunk)  # warm-up: the instrument library, templates and the like load once
    rows = []
    for size in args.sizes:
        where = clinic(size)
        chunked = measure(where, args.chunk)
        one_pass = measure(where, 10**9)
        if chunked[2] != one_pass[2]:
            print(f"the two ways sent different things: {chunked[2]} / {one_pass[2]}", file=sys.stderr)
            return 1
        rows.append((size, chunked, one_pass))
    print(f"Daily questionnaire links, one location; peak Python memory (tracemalloc); chunk {args.chunk}")
    print(
        f"{'patients':>9} {'sent':>14} {'chunked MB':>11} {'one pass MB':>12} {'one pass/chunked':>17}"
        f" {'chunked s':>10} {'one pass s':>11}"
    )
    for size, (c_peak, c_s, sent), (o_peak, o_s, _) in rows:
        print(
            f"{size:>9} {sent:>14} {c_peak / 1e6:>11.1f} {o_peak / 1e6:>12.1f} {o_peak / c_peak:>17.1f}"
            f" {c_s:>10.1f} {o_s:>11.1f}"
        )
    (small, (cs, *_), (os_, *_)), (big, (cb, *_), (ob, *_)) = rows
    growth = f"chunked {cb / cs:.2f}x, one pass {ob / os_:.2f}x"
    print(f"memory growth from {small} to {big} patients ({big / small:.0f}x as many): {growth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
