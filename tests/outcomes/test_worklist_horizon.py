"""The worklist reads only the windows opened in the last few weeks: a clinic's former patients (years of
them) cost nothing, and no patient with something answerable is left out."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from ketaclinic.core.access import Role
from ketaclinic.outcomes import selectors
from ketaclinic.outcomes.models import QuestionnaireDue
from tests.conftest import register
from tests.outcomes.test_due import answer, give_plan
from tests.outcomes.test_due_stored import key, oracle

pytestmark = pytest.mark.django_db


def _rows(w: selectors.Worklist) -> list[tuple[int, str, int | None, str, str]]:
    return [
        (
            r.patient.pk,
            r.item.questionnaire.timepoint,
            r.item.questionnaire.infusion_number,
            r.item.instrument,
            r.item.status.value,
        )
        for r in w.rows
    ]


@pytest.fixture
def histories(staff, protocols, intake, downtown):
    prescriber, nurse = staff[Role.PRESCRIBER], staff[Role.NURSE]

    def person(name: str, year: int):
        return register(intake, downtown, given_name=name, family_name="Horizon", birth_date=date(year, 1, 2))

    finished = person("Finished", 1960)  # a series more than a year ago: nothing left to ask
    give_plan(finished, protocols, prescriber, intake, days=(-400, -397, -393))
    # last infusion 232 days ago: the sixth monthly questionnaire (due 10 days ago) is still answerable
    edge = person("Edge", 1961)
    give_plan(edge, protocols, prescriber, intake, days=(-239, -235, -232))
    answers_only = person("Answers", 1962)  # answers years ago, no plan
    answer(nurse, answers_only, "phq9", -500, "baseline")
    answer(nurse, answers_only, "phq9", -497, "pre_infusion", 2)
    current = person("Current", 1963)  # in the middle of a series
    give_plan(current, protocols, prescriber, intake, days=(-3, 0, 4))
    return {"finished": finished, "edge": edge, "answers_only": answers_only, "current": current}


def test_former_patients_are_not_read_and_answerable_ones_are(histories, downtown):
    today = timezone.localdate()
    everyone = set(selectors.worklist_patients(downtown).values_list("pk", flat=True))
    assert {p.pk for p in histories.values()} <= everyone
    read = set(
        QuestionnaireDue.objects.filter(selectors.waiting_on(today), location=downtown).values_list(
            "patient_id", flat=True
        )
    )
    assert histories["finished"].pk not in read and histories["answers_only"].pk not in read
    assert histories["edge"].pk in read and histories["current"].pk in read


def test_the_worklist_is_the_same_as_reading_every_patient(histories, staff, downtown):
    user = staff[Role.INTAKE]
    w = selectors.questionnaire_worklist(user=user, location=downtown)
    assert [key(r.patient, r.item) for r in w.rows] == oracle(downtown, timezone.localdate())
    edge = [row for row in _rows(w) if row[0] == histories["edge"].pk]
    assert edge and {row[1] for row in edge} == {"monthly"}  # the edge patient's last questionnaire is listed
