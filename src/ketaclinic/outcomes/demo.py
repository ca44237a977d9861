"""The demo clinic's questionnaires: a course of PHQ-9 and GAD-7 answers for each patient whose
eligibility was signed (some responders, some not, one relapse with a booster proposed, one open safety
flag), recorded through the same service staff use. Called by ``web.demo.demo_load`` inside its one
transaction, so it is loaded once, with the rest of the demo (idempotent).

For the questionnaires worklist (:func:`demo_worklist_load`): two patients who came mid-course from
another clinic (their infusions are known only from their answers), one with a questionnaire overdue
since yesterday and one, without an email address, whose follow-up questionnaires are overdue; and one
link emailed this morning with "Send link now" (through a backend that discards the message)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.outcomes.selectors import questionnaire_worklist
from ketaclinic.outcomes.services import due_link_email, response_record, safety_flag_assess
from ketaclinic.patients.models import Patient
from ketaclinic.patients.services import patient_register

# PHQ-9 totals at baseline, before infusions 2..6, 1/2/4/6 weeks after the series; None = not yet answered.
COURSES: list[tuple[int, list[int], list[int | None]]] = [
    (21, [18, 15, 12, 9, 8], [7, 6, 5, 4]),  # responder since infusion 4, remission
    (18, [16, 12, 8, 7, 6], [5, 4, 4, 3]),  # responder since infusion 3, remission later
    (16, [15, 15, 14, 13, 13], [12, 13, 13, 12]),  # not responding
    (23, [20, 17, 13, 11, 10], [9, 10, 16, 18]),  # responder, then relapse: booster proposed
    (14, [12, 11, 10, 9, 8], [6, 6, None, None]),  # responder, follow-up ongoing
    (19, [18, 18, 17, 16, 15], [14, None, None, None]),  # not responding yet
]


def _answers(total: int, item9: int, items: int = 9) -> list[int | None]:
    rest, out = total - item9, []
    for _ in range(items - 1):
        a = min(3, rest)
        out.append(a)
        rest -= a
    return [*out, item9]


def demo_outcomes_load(*, nurse: User, prescriber: User, patients: list[Patient], today: date) -> None:
    rng = random.Random(5)  # noqa: S311 - demo data, not security
    start = timezone.make_aware(datetime.combine(today - timedelta(days=80), time(9, 30)))
    for n, patient in enumerate(patients[: len(COURSES)]):
        baseline, series, after = COURSES[n]
        first = start + timedelta(days=n)
        ideation = 1 if n in (1, 3) else 0

        def rec(
            total: int,
            at: datetime,
            timepoint: str,
            infusion: int | None = None,
            si: int = 0,
            patient: Patient = patient,
        ) -> None:
            response_record(
                user=nurse,
                patient=patient,
                instrument="phq9",
                answers=_answers(total, min(si, total)),
                authored_at=at,
                timepoint=timepoint,
                infusion_number=infusion,
            )
            gad = max(0, min(21, round(total * 0.7) + rng.randint(-1, 1)))
            response_record(
                user=nurse,
                patient=patient,
                instrument="gad7",
                answers=_answers(gad, min(gad, 1), 7)[:7],
                authored_at=at + timedelta(minutes=4),
                timepoint=timepoint,
                infusion_number=infusion,
            )

        rec(baseline, first, "baseline", si=ideation)
        for k, total in enumerate(series, start=2):
            rec(
                total,
                first + timedelta(days=round(3.5 * (k - 1))),
                "pre_infusion",
                k,
                si=ideation if k < 4 else 0,
            )
        last_infusion = first + timedelta(days=round(3.5 * 5))
        for weeks, answered in zip((1, 2, 4, 6), after, strict=True):
            if answered is not None:
                rec(answered, last_infusion + timedelta(weeks=weeks), "post_series")
        for flag in SafetyFlag.objects.filter(patient=patient, status="open"):  # assessed at the time
            safety_flag_assess(
                user=prescriber,
                flag=flag,
                assessment="Passive thoughts of being better off dead; no plan, no intent, no past "
                "attempts; protective factors: family, work.",
                plan="Safety plan written with the patient; crisis line and 988 given; PHQ-9 item 9 "
                "checked before every infusion.",
            )
    if len(patients) > len(COURSES):  # one patient answered item 9 above 0 this morning: an open urgent flag
        flagged = patients[len(COURSES)]
        rec_at = timezone.make_aware(datetime.combine(today, time(8, 10)))
        response_record(
            user=nurse,
            patient=flagged,
            instrument="phq9",
            answers=_answers(17, 2),
            authored_at=min(rec_at, timezone.now()),
            timepoint="baseline",
        )


# Transfers: (given, family, email, [(days ago, timepoint, infusion number, PHQ-9 total, GAD-7 total or
# None)]).
TRANSFERS: list[tuple[str, str, str, list[tuple[int, str, int | None, int | None, int | None]]]] = [
    (
        "Elena",
        "Vasquez",
        "elena.vasquez@example.org",  # infusions 28..11 days ago; week 1 after: overdue
        [
            (28, "baseline", None, 19, 13),
            (25, "pre_infusion", 2, 17, 12),
            (25, "follow_up", None, 17, 12),
            (21, "pre_infusion", 3, 15, 11),
            (18, "pre_infusion", 4, 12, 9),
            (14, "pre_infusion", 5, 11, 8),
            (11, "pre_infusion", 6, 9, 7),
            (3, "post_series", None, None, 6),
        ],
    ),
    (
        "Tom",
        "Becker",
        "",  # infusions 6 and 3 days ago; the follow-up visit's questionnaires: overdue
        [(6, "baseline", None, 16, 11), (3, "pre_infusion", 2, 15, 10)],
    ),
]


def demo_worklist_load(*, nurse: User, location: Location, today: date) -> None:
    born = today - timedelta(days=41 * 365)
    for n, (given, family, email, answers) in enumerate(TRANSFERS):
        patient = patient_register(
            user=nurse,
            location=location,
            given_name=given,
            family_name=family,
            birth_date=born - timedelta(days=400 * n),
            sex_at_birth="female" if n == 0 else "male",
            weight=(74, "kg"),
            height=(170, "cm"),
            email=email,
            phone=f"617-555-{6800 + n:04d}",
        )
        for days_ago, timepoint, number, phq, gad in answers:
            at = min(
                timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), time(10, 15))),
                timezone.now(),
            )
            if phq is not None:
                response_record(
                    user=nurse,
                    patient=patient,
                    instrument="phq9",
                    answers=_answers(phq, 0),
                    authored_at=at,
                    timepoint=timepoint,
                    infusion_number=number,
                )
            if gad is not None:
                response_record(
                    user=nurse,
                    patient=patient,
                    instrument="gad7",
                    answers=_answers(gad, min(gad, 1), 7)[:7],
                    authored_at=at + timedelta(minutes=3),
                    timepoint=timepoint,
                    infusion_number=number,
                )

    due = next(
        (
            r
            for r in questionnaire_worklist(user=None, location=location, today=today).due
            if r.sendable and r.patient.email
        ),
        None,
    )
    if due is not None:
        q = due.item.questionnaire
        due_link_email(
            user=nurse,
            patient=due.patient,
            instrument=due.item.instrument,
            timepoint=q.timepoint,
            infusion_number=q.infusion_number,
            due_on=q.due_on,
            base_url=settings.KETACLINIC_BASE_URL or "http://127.0.0.1:8000",
            today=today,
        )
