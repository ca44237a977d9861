"""The demo clinic's questionnaires: a course of PHQ-9 and GAD-7 answers for each patient whose
eligibility was signed (some responders, some not, one relapse with a booster proposed, one open safety
flag), recorded through the same service staff use. Called by ``web.demo.demo_load`` inside its one
transaction, so it is loaded once, with the rest of the demo (idempotent)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.outcomes.services import response_record, safety_flag_assess
from ketaclinic.patients.models import Patient

# PHQ-9 totals at baseline, before infusions 2..6, 1/2/4/6 weeks after the series; None = not yet answered.
COURSES = [
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

        def rec(total: int, at: datetime, timepoint: str, infusion: int | None = None, si: int = 0,
                patient: Patient = patient) -> None:
            response_record(user=nurse, patient=patient, instrument="phq9", answers=_answers(total, min(si, total)),
                            authored_at=at, timepoint=timepoint, infusion_number=infusion)
            gad = max(0, min(21, round(total * 0.7) + rng.randint(-1, 1)))
            response_record(user=nurse, patient=patient, instrument="gad7", answers=_answers(gad, min(gad, 1), 7)[:7],
                            authored_at=at + timedelta(minutes=4), timepoint=timepoint, infusion_number=infusion)

        rec(baseline, first, "baseline", si=ideation)
        for k, total in enumerate(series, start=2):
            rec(total, first + timedelta(days=round(3.5 * (k - 1))), "pre_infusion", k, si=ideation if k < 4 else 0)
        last_infusion = first + timedelta(days=round(3.5 * 5))
        for weeks, total in zip((1, 2, 4, 6), after, strict=True):
            if total is not None:
                rec(total, last_infusion + timedelta(weeks=weeks), "post_series")
        for flag in SafetyFlag.objects.filter(patient=patient, status="open"):  # assessed at the time
            safety_flag_assess(user=prescriber, flag=flag,
                               assessment="Passive thoughts of being better off dead; no plan, no intent, no past "
                                          "attempts; protective factors: family, work.",
                               plan="Safety plan written with the patient; crisis line and 988 given; PHQ-9 item 9 "
                                    "checked before every infusion.")
    if len(patients) > len(COURSES):  # one patient answered item 9 above 0 this morning: an open urgent flag
        flagged = patients[len(COURSES)]
        rec_at = timezone.make_aware(datetime.combine(today, time(8, 10)))
        response_record(user=nurse, patient=flagged, instrument="phq9", answers=_answers(17, 2), authored_at=min(
            rec_at, timezone.now()), timepoint="baseline")
