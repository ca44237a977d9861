"""The stored windows (``outcomes.QuestionnaireDue``) give exactly the worklist the per-patient computation
gives (the patient page's ``due_status_for_patient``, in the patient's location's time zone), on seeded random
histories at two locations in different zones, on several days; and the services keep them as a rebuild
would make them."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.accounts.models import Location
from ketaclinic.core.access import Role
from ketaclinic.core.outcomes import DueItem, DueStatus
from ketaclinic.outcomes import selectors, services
from ketaclinic.outcomes.models import QuestionnaireDue, QuestionnaireResponse
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from tests.accounts.conftest import refer, screen
from tests.conftest import make_staff, register
from tests.outcomes.conftest import gad7, phq9
from tests.outcomes.test_due import give_plan

pytestmark = pytest.mark.django_db

Key = tuple[int, str, int | None, str, date, date, date, date, str, str]
TIMEPOINTS = ("baseline", "pre_infusion", "follow_up", "post_series", "monthly", "ad_hoc")


def key(patient: Patient, item: DueItem) -> Key:
    q, w = item.questionnaire, item.window
    return (
        patient.pk,
        q.timepoint,
        q.infusion_number,
        item.instrument,
        q.due_on,
        w.opens,
        w.closes,
        w.late_until,
        item.status.value,
        q.label,
    )


def oracle(location: Location, today: date) -> list[Key]:
    """The worklist as it was computed before the stored windows: every patient's due statuses in Python."""
    found = []
    with timezone.override(ZoneInfo(location.timezone)):
        for p in selectors.worklist_patients(location).order_by("pk"):
            found += [(p, i) for i in selectors.due_status_for_patient(p, today) if i.can_still_answer]
    found.sort(
        key=lambda r: (
            r[1].status is not DueStatus.OVERDUE,
            r[1].questionnaire.due_on,
            r[0].family_name,
            r[0].given_name,
            r[0].pk,
            r[1].instrument,
        )
    )
    return [key(p, i) for p, i in found]


def stored(location: Location, today: date, **kw) -> selectors.Worklist:
    return selectors.questionnaire_worklist(user=None, location=location, today=today, **kw)


def rows() -> list[tuple]:
    return list(
        QuestionnaireDue.objects.order_by("patient_id", "position", "instrument").values_list(
            "patient_id", "location_id", "position", "instrument", "timepoint", "infusion_number", "label",
            "due_on", "opens_on", "closes_on", "late_until", "answered_on",
        )
    )  # fmt: skip


def moment(rng: random.Random, days: int) -> datetime:
    """A time on a day relative to now, at an hour that falls on another UTC day in the evening."""
    when = datetime.combine(timezone.now().astimezone(UTC).date() + timedelta(days=days), time(0), tzinfo=UTC)
    return when + timedelta(hours=rng.randint(0, 23), minutes=rng.choice((0, 30)))


def history(rng: random.Random, n: int, place: Location, staff, protocols) -> Patient:
    """A random course: maybe a plan (active, completed or stopped; slots given, planned or cancelled, from
    eight months ago to three weeks ahead), answers at random time points (some corrected), a referral."""
    nurse, intake, prescriber = staff
    patient = register(intake, place, given_name=f"G{n:02d}", family_name=f"H{rng.randint(0, 5)}")
    if rng.random() < 0.3:
        refer(intake, patient)
    if rng.random() < 0.75:
        plan = TreatmentPlan.objects.create(
            patient=patient,
            screening=screen(intake, patient),
            indication="trd",
            protocol_version=rng.choice(list(protocols.values())),
            series_count=6,
            max_per_week=2,
            min_spacing_hours=48,
            evaluation_after=3,
            status=rng.choice(["active", "active", "completed", "stopped"]),
            signed_by=prescriber,
            signed_at=timezone.now(),
        )
        first = rng.randint(-250, 10)
        days = sorted({first + rng.randint(0, 24) for _ in range(rng.randint(0, 6))})
        for seq, d in enumerate(days, start=1):
            past = d < 0
            PlannedInfusion.objects.create(
                plan=plan,
                sequence=seq,
                kind=rng.choice(["series"] * 5 + ["booster"]),
                scheduled_start=moment(rng, d),
                location=place,
                status=rng.choice(["done"] * 4 + ["cancelled"] if past else ["planned"] * 4 + ["cancelled"]),
            )
        services.due_refresh(patient_ids=[patient.pk])  # written without the services: refreshed as they do
    for _ in range(rng.randint(0, 7)):
        timepoint = rng.choice(TIMEPOINTS)
        instrument = rng.choice(("phq9", "gad7"))
        response = services.response_record(
            user=nurse,
            patient=patient,
            instrument=instrument,
            answers=phq9(rng.randint(0, 20)) if instrument == "phq9" else gad7(rng.randint(0, 15)),
            authored_at=min(moment(rng, rng.randint(-260, 0)), timezone.now() - timedelta(minutes=1)),
            timepoint=timepoint,
            infusion_number=rng.choice((None, 0, 1, 2, 3, 4)) if timepoint == "pre_infusion" else None,
        )
        if rng.random() < 0.2:
            again = phq9(3) if instrument == "phq9" else gad7(3)
            services.response_correct(user=nurse, response=response, answers=again, reason="Misread")
    return patient


@pytest.fixture
def west(db) -> Location:
    return Location.objects.create(code="west", name="West Clinic", timezone="America/Los_Angeles")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_stored_windows_give_the_worklist_the_patients_schedules_give(
    seed, staff, protocols, downtown, west
):
    rng = random.Random(seed)
    roles = (Role.NURSE, Role.INTAKE, Role.PRESCRIBER)
    people = {
        downtown: tuple(staff[r] for r in roles),
        west: tuple(make_staff(r, west, username=f"{r.value}.west") for r in roles),
    }
    for n in range(14):
        place = downtown if n % 3 else west
        history(rng, n, place, people[place], protocols)
    assert QuestionnaireResponse.objects.exists() and QuestionnaireDue.objects.exists()
    kept = rows()
    services.due_rebuild(batch_size=4)
    assert rows() == kept  # the services kept what a rebuild makes
    assert services.due_rebuild() == len(kept) and rows() == kept  # idempotent
    listed = 0
    for place in (downtown, west):
        local = timezone.localtime(timezone=ZoneInfo(place.timezone)).date()
        for today in (
            local - timedelta(days=40),
            local - timedelta(days=3),
            local,
            local + timedelta(days=9),
        ):
            expected = oracle(place, today)
            w = stored(place, today, page_size=None)
            assert [key(r.patient, r.item) for r in w.rows] == expected, (place.code, today)
            assert (w.overdue_count, w.due_count) == (len(w.overdue), len(w.due))
            pages = [stored(place, today, page=p, page_size=4).rows for p in range(1, 40)]
            assert [key(r.patient, r.item) for page in pages for r in page] == expected
            only_due = stored(place, today, page_size=None, only_due=True)
            assert [key(r.patient, r.item) for r in only_due.rows] == [k for k in expected if k[8] == "due"]
            listed += len(expected)
    assert listed > 20  # the histories put questionnaires on the worklists


def test_a_patient_with_no_infusion_yet_has_the_baseline_due_every_day(staff, protocols, downtown):
    nurse, intake, prescriber = staff[Role.NURSE], staff[Role.INTAKE], staff[Role.PRESCRIBER]
    patient = register(intake, downtown, given_name="New", family_name="Start")
    TreatmentPlan.objects.create(
        patient=patient,
        screening=screen(intake, patient),
        indication="trd",
        protocol_version=protocols["depression-standard"],
        series_count=6,
        max_per_week=2,
        min_spacing_hours=48,
        evaluation_after=3,
        status="active",
        signed_by=prescriber,
        signed_at=timezone.now(),
    )
    services.due_refresh(patient_ids=[patient.pk])
    assert {r.due_on for r in QuestionnaireDue.objects.all()} == {None}
    today = timezone.localdate()
    for day in (today, today + timedelta(days=30)):
        listed = [
            (r.item.questionnaire.timepoint, r.item.questionnaire.due_on, r.item.status)
            for r in stored(downtown, day).rows
        ]
        own = [
            (i.questionnaire.timepoint, i.questionnaire.due_on, i.status)
            for i in selectors.due_status_for_patient(patient, day)
        ]
        assert listed == own == [("baseline", day, DueStatus.DUE)] * 2
    services.response_record(
        user=nurse, patient=patient, instrument="phq9", answers=phq9(12), timepoint="baseline"
    )
    assert not QuestionnaireDue.objects.filter(due_on=None).exists()  # the answer marks infusion 1
    assert oracle(downtown, today) == [
        key(r.patient, r.item) for r in stored(downtown, today, page_size=None).rows
    ]


def test_the_worklist_page_costs_the_same_queries_at_two_sizes_and_pages_its_rows(
    staff, protocols, downtown, client_for
):
    intake = staff[Role.INTAKE]

    def more(n: int, start: int) -> None:
        for k in range(start, start + n):
            p = register(intake, downtown, given_name=f"P{k}", family_name="Size", email=f"p{k}@example.org")
            give_plan(p, protocols, staff[Role.PRESCRIBER], intake)

    client = client_for(intake)
    more(2, 0)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/outcomes/worklist/?location=downtown").status_code == 200
    more(30, 2)  # 4 rows each (the follow-up overdue, today's infusion due): more than a page
    with CaptureQueriesContext(connection) as many:
        body = client.get("/outcomes/worklist/?location=downtown").content.decode()
    assert len(many) == len(few)
    assert "64 overdue, 64 due today" in body
    w = selectors.questionnaire_worklist(user=intake, location=downtown)
    assert len(w.rows) == selectors.PAGE_SIZE and w.total == 32 * 4 and w.next_page == 2
    assert f"1–{selectors.PAGE_SIZE} of 128" in body and "page=2" in body
    with CaptureQueriesContext(connection) as second:
        page2 = client.get("/outcomes/worklist/?location=downtown&page=2").content.decode()
    assert len(second) == len(few) and f"{selectors.PAGE_SIZE + 1}–128 of 128" in page2
