"""Discharging a session of the plan marks its slot done (an infusion given), in the transaction that also
replaces the patient's stored questionnaire windows (``outcomes.QuestionnaireDue``): afterwards they are what
a rebuild makes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketaclinic.infusions import services as s
from ketaclinic.outcomes.models import QuestionnaireDue
from ketaclinic.outcomes.services import due_rebuild, due_refresh
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.screening.services import screening_sign
from tests.accounts.conftest import refer, screen
from tests.infusions.conftest import walk
from tests.outcomes.test_due_stored import rows

pytestmark = pytest.mark.django_db


def test_a_discharge_leaves_the_stored_windows_as_a_rebuild_makes_them(
    nurse, prescriber, intake, patient, depression, chair
):
    eligible = screening_sign(
        user=prescriber,
        screening=screen(intake, patient, refer(intake, patient)),
        outcome="eligible",
        note="Reviewed in interview: eligible.",
    )
    plan = TreatmentPlan.objects.create(
        patient=patient,
        screening=eligible,
        indication="trd",
        protocol_version=depression,
        series_count=6,
        max_per_week=2,
        min_spacing_hours=48,
        evaluation_after=6,
        status="active",
        signed_by=prescriber,
        signed_at=timezone.now(),
    )
    planned = (
        PlannedInfusion.objects.create(  # a booster: no series, so the infusions given date the schedule
            plan=plan,
            sequence=1,
            kind="booster",
            scheduled_start=timezone.now() - timedelta(hours=3),
            location=patient.location,
        )
    )
    due_refresh(patient_ids=[patient.pk])  # the plan was written without the services
    assert set(QuestionnaireDue.objects.values_list("due_on", flat=True)) == {None}  # nothing given yet
    session = s.session_schedule(
        user=nurse, patient=patient, planned_infusion=planned, scheduled_start=planned.scheduled_start
    )
    walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    assert PlannedInfusion.objects.get(pk=planned.pk).status == "done"
    kept = rows()
    given = timezone.localtime(planned.scheduled_start).date()
    assert set(
        QuestionnaireDue.objects.filter(patient=patient, timepoint="baseline").values_list(
            "due_on", flat=True
        )
    ) == {given}  # the infusion given dates the baseline
    assert due_rebuild() == len(kept) and rows() == kept
