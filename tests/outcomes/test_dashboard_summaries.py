"""The dashboard's summaries give exactly the figures the answers give (the reference: the dashboard as it was
computed from every answer, ``from_answers=True``), for every period, location and indication, on random
histories recorded and corrected through the services; the rebuild makes the same rows; until a build exists
the dashboard reads the answers."""

from __future__ import annotations

import importlib
import random
from datetime import date, datetime, time, timedelta
from io import StringIO
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.core.access import Role
from ketaclinic.jobs.schedule import periodic_enqueue
from ketaclinic.outcomes import selectors
from ketaclinic.outcomes.models import (
    DashboardEndpoint,
    DashboardMeasurePatient,
    DashboardSummaryBuild,
    QuestionnaireResponse,
)
from ketaclinic.outcomes.services import outcome_summaries_rebuild, response_correct, response_record
from ketaclinic.patients.models import Patient
from ketaclinic.screening.services import referral_record
from ketaclinic.web.jobs import SCHEDULE
from tests.accounts.conftest import refer
from tests.conftest import make_staff, register
from tests.jobs.runner import run_ready_jobs
from tests.outcomes.conftest import gad7

pytestmark = pytest.mark.django_db
FIRST_DAY = date(2024, 3, 1)
DAYS = 990  # to 2026-11-16: every window of the measures closes within the history for the early patients
INDICATIONS = ("trd", "mdd", "ptsd", "bipolar_depression")
TIMEPOINTS = ("baseline", "baseline", "pre_infusion", "follow_up", "post_series", "post_series", "monthly")
PACIFIC = ZoneInfo("America/Los_Angeles")


def _phq9(rng: random.Random, target: float) -> list[int | None]:
    """Nine answers summing to about ``target``, up to two missing (the total is then prorated, so it may be
    fractional); item 9 (ideation) now and then."""
    left = max(0, min(24, round(target + rng.randint(-2, 2))))
    answers: list[int | None] = []
    for _ in range(8):
        answers.append(min(3, left))
        left -= answers[-1]
    answers.append(rng.choice((0, 0, 0, 1, 2)))
    rng.shuffle(answers)
    for i in rng.sample(range(9), rng.choice((0, 0, 0, 1, 2))):
        answers[i] = None
    return answers


def _when(rng: random.Random, day: int) -> datetime:
    """Near midnight in New York now and then, where the site's date and Los Angeles' differ."""
    clock = time(rng.choice((0, 9, 14, 23)), rng.randint(0, 59))
    return timezone.make_aware(datetime.combine(FIRST_DAY + timedelta(days=day), clock))


def _history(rng: random.Random, nurses: dict[str, User], locations: list[Location], patients: int) -> None:
    intake = {loc.code: make_staff(Role.INTAKE, loc, username=f"referrals.{loc.code}") for loc in locations}
    for n in range(patients):
        home = rng.choice(locations)
        patient = register(nurses[home.code], home, given_name=f"P{n}", family_name="Random")
        days = sorted(rng.randint(0, DAYS) for _ in range(rng.randint(1, 14)))
        if rng.random() < 0.3:
            days.insert(rng.randint(0, len(days)), rng.choice(days))  # two answers on one day
            days.sort()
        referrals = {d: rng.choice(INDICATIONS) for d in rng.sample(days, min(len(days), rng.randint(0, 2)))}
        moved_after = rng.choice(days) if rng.random() < 0.2 else None
        recorded: list[QuestionnaireResponse] = []
        base, fall = rng.randint(6, 26), rng.choice((0.1, 0.3, 0.6, 0.8))
        for day in days:
            if day in referrals:
                referral_record(
                    user=intake[patient.location.code], patient=patient, indication=referrals.pop(day),
                    referrer_name="Dr. Ada Referrer", referrer_role="psychiatrist", reason="Depression",
                    received_on=FIRST_DAY + timedelta(days=day),
                )  # fmt: skip
            if moved_after is not None and day > moved_after:
                Patient.objects.filter(pk=patient.pk).update(location=rng.choice(locations))
                patient.refresh_from_db()
                moved_after = None
            nurse = nurses[patient.location.code]
            for instrument in ("phq9", "gad7") if rng.random() < 0.4 else ("phq9",):
                target = base * (1 - fall * min(1.0, (day - days[0]) / 90))
                answers = _phq9(rng, target) if instrument == "phq9" else gad7(round(target * 0.7))
                with timezone.override(PACIFIC if rng.random() < 0.3 else timezone.get_default_timezone()):
                    recorded.append(
                        response_record(
                            user=nurse,
                            patient=patient,
                            instrument=instrument,
                            answers=answers,
                            authored_at=_when(rng, day),
                            timepoint=rng.choice(TIMEPOINTS),
                        )  # fmt: skip
                    )
        for response in rng.sample(recorded, min(len(recorded), rng.choice((0, 0, 1, 2)))):
            latest = response
            while (newer := QuestionnaireResponse.objects.filter(replaces=latest).first()) is not None:
                latest = newer
            again = (
                _phq9(rng, rng.randint(0, 27)) if latest.instrument == "phq9" else gad7(rng.randint(0, 21))
            )
            response_correct(
                user=nurses[patient.location.code], response=latest, answers=again, reason="Entered wrong"
            )


def _filters(rng: random.Random, locations: list[Location]) -> list[selectors.DashboardFilters]:
    periods = [(FIRST_DAY, date(2026, 12, 4))]
    for _ in range(5):
        a, b = sorted(rng.randint(0, DAYS) for _ in range(2))
        periods.append((FIRST_DAY + timedelta(days=a), FIRST_DAY + timedelta(days=b)))
    return [
        selectors.DashboardFilters(start, end, location=location, indication=indication)
        for start, end in periods
        for location in (None, *locations)
        for indication in ("", *INDICATIONS)
    ]


def _summary_rows() -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    endpoints = {tuple(r.values()) for r in DashboardEndpoint.objects.values()}
    measures = {tuple(r.values()) for r in DashboardMeasurePatient.objects.values()}
    return endpoints, measures


@pytest.fixture
def network(staff, downtown, northside):
    assert selectors.summaries_built()  # a database migrated without answers
    locations = [downtown, northside]
    nurses = {"downtown": staff[Role.NURSE], "northside": make_staff(Role.NURSE, northside, "nurse.north")}
    return locations, nurses


@pytest.mark.parametrize("seed", [1, 2])
def test_the_summaries_give_the_answers_figures_for_every_filter(network, staff, seed):
    locations, nurses = network
    rng = random.Random(seed)
    _history(rng, nurses, locations, patients=24)
    admin = staff[Role.ADMIN]
    compared = 0
    for filters in _filters(rng, locations):
        assert selectors.outcomes_dashboard(user=admin, filters=filters) == selectors.outcomes_dashboard(
            user=admin, filters=filters, from_answers=True
        ), filters
        phq, gad = selectors.cohort_rows_from_summaries(filters)
        key = lambda r: sorted(r, key=repr)  # noqa: E731 - the order of rows carries no meaning
        assert key(phq) == key(selectors.cohort_rows_from_answers("phq9", filters, with_response_time=True))
        assert key(gad) == key(selectors.cohort_rows_from_answers("gad7", filters, with_response_time=False))
        compared += 1
    whole = selectors.DashboardFilters(FIRST_DAY, date(2026, 12, 4))
    d = selectors.outcomes_dashboard(user=admin, filters=whole)
    # the random histories reach every part of the definitions, so the comparison above is not empty
    assert (
        d.completed > 5 and d.response_rate.n > 0 and d.ideation_resolved.n > 0 and d.time_to_response.n > 0
    )
    assert d.nqf1884 is not None and d.nqf1884.estimate.n > 0 and d.nqf1884.no_follow_up > 0
    assert d.cms159 is not None and d.cms159.estimate.n > 0 and d.cms159.excluded > 0
    assert compared == 6 * 3 * 5


def test_the_dashboard_reads_the_summaries_not_the_answers(network, staff):
    locations, nurses = network
    _history(random.Random(3), nurses, locations, patients=6)
    with CaptureQueriesContext(connection) as queries:
        selectors.outcomes_dashboard(user=staff[Role.ADMIN], filters=_filters(random.Random(3), locations)[0])
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert len(queries) == 3 and QuestionnaireResponse._meta.db_table not in sql
    assert DashboardEndpoint._meta.db_table in sql and DashboardMeasurePatient._meta.db_table in sql


def test_before_a_build_the_dashboard_reads_the_answers_and_the_rebuild_makes_the_same_rows(network, staff):
    """A database that held answers before the summaries existed (the migration leaves a build to finish): the
    figures are right before the rebuild (read from the answers) and after it (from the summaries), and a
    second rebuild changes nothing."""
    locations, nurses = network
    rng = random.Random(4)
    _history(rng, nurses, locations, patients=12)
    kept = _summary_rows()
    assert kept[0] and kept[1]
    every = _filters(rng, locations)[::7]
    admin = staff[Role.ADMIN]
    expected = [selectors.outcomes_dashboard(user=admin, filters=f, from_answers=True) for f in every]
    DashboardEndpoint.objects.all().delete()
    DashboardMeasurePatient.objects.all().delete()
    migration = importlib.import_module("ketaclinic.outcomes.migrations.0007_dashboard_summaries")
    migration.build_needed_when_answers_exist(apps, SimpleNamespace(connection=connection))
    assert not selectors.summaries_built()
    with CaptureQueriesContext(connection) as queries:
        assert [selectors.outcomes_dashboard(user=admin, filters=f) for f in every] == expected
    assert DashboardEndpoint._meta.db_table not in " ".join(q["sql"] for q in queries.captured_queries)
    build = outcome_summaries_rebuild(batch=5)  # several batches
    assert build.patients == Patient.objects.count() and selectors.summaries_built()
    assert _summary_rows() == kept
    assert [selectors.outcomes_dashboard(user=admin, filters=f) for f in every] == expected
    call_command("outcome_summaries_rebuild", "--batch", "3", stdout=StringIO())
    assert _summary_rows() == kept
    assert list(DashboardSummaryBuild.objects.values_list("note", flat=True)) == [
        "",
        "",
        "answers recorded before the summaries existed",
    ]
    assert not DashboardSummaryBuild.objects.filter(finished_at=None).exists()


def test_a_database_migrated_without_answers_needs_no_build(db):
    migration = importlib.import_module("ketaclinic.outcomes.migrations.0007_dashboard_summaries")
    migration.build_needed_when_answers_exist(apps, SimpleNamespace(connection=connection))
    assert selectors.summaries_built() and not DashboardSummaryBuild.objects.exists()


def test_an_answer_recorded_in_a_clinics_time_zone_counts_on_the_sites_day(network, staff, downtown):
    """Recorded from a page showing Los Angeles time, half past midnight in New York (still the evening
    before in Los Angeles): the site's day counts, as when the dashboard reads the answers."""
    _locations, nurses = network
    nurse = nurses["downtown"]
    patient = register(nurse, downtown, given_name="Late", family_name="Answer")
    refer(staff[Role.INTAKE], patient)  # treatment-resistant depression: in the measures' population
    night = timezone.make_aware(datetime(2025, 7, 1, 0, 30))  # 21:30 on 30 June in Los Angeles
    with timezone.override(PACIFIC):
        for answers, days_before, timepoint in (([2] * 9, 200, "baseline"), ([1] * 9, 0, "post_series")):
            response_record(
                user=nurse,
                patient=patient,
                instrument="phq9",
                answers=answers,
                authored_at=night - timedelta(days=days_before),
                timepoint=timepoint,
            )
    assert DashboardMeasurePatient.objects.get(patient=patient).index_on == date(2024, 12, 13)
    admin = staff[Role.ADMIN]
    for month, completed in (
        ((date(2025, 6, 1), date(2025, 6, 30)), 0),
        ((date(2025, 7, 1), date(2025, 7, 31)), 1),
    ):
        filters = selectors.DashboardFilters(*month)
        d = selectors.outcomes_dashboard(user=admin, filters=filters)
        assert d == selectors.outcomes_dashboard(user=admin, filters=filters, from_answers=True)
        assert d.completed == completed
    december = selectors.DashboardFilters(date(2024, 12, 13), date(2024, 12, 13))
    d = selectors.outcomes_dashboard(user=admin, filters=december)
    assert d.nqf1884 is not None and d.nqf1884.initial_population == 1


def test_the_nightly_job_builds_summaries_left_to_build_once(network, staff):
    """After an upgrade of a database with answers nobody has to remember the rebuild: the worker's nightly
    job does it, and on the nights after finds them complete and leaves them."""
    locations, nurses = network
    _history(random.Random(5), nurses, locations, patients=4)
    kept = _summary_rows()
    DashboardEndpoint.objects.all().delete()
    DashboardMeasurePatient.objects.all().delete()
    migration = importlib.import_module("ketaclinic.outcomes.migrations.0007_dashboard_summaries")
    migration.build_needed_when_answers_exist(apps, SimpleNamespace(connection=connection))
    night = datetime(2026, 11, 25, 4, 35, tzinfo=ZoneInfo("America/New_York"))
    made = periodic_enqueue(SCHEDULE, now=night)  # 04:35: the job is due (the prune of 03:00 too)
    assert ("outcome_summaries", "2026-11-25") in [(r.job, r.period) for r in made]
    assert run_ready_jobs() == len(made)
    assert selectors.summaries_built() and _summary_rows() == kept
    builds = DashboardSummaryBuild.objects.count()
    made = periodic_enqueue(SCHEDULE, now=night + timedelta(days=1))
    assert "outcome_summaries" in [r.job for r in made]
    assert run_ready_jobs() == len(made) and DashboardSummaryBuild.objects.count() == builds
