"""Every action that changes what is due replaces the patient's stored windows in its own transaction: after
each one the rows are what a rebuild makes, and what the clinic sees changes with them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import Chair
from ketaclinic.core.access import Role
from ketaclinic.core.protocols import parse_protocol
from ketaclinic.outcomes import services
from ketaclinic.outcomes.models import QuestionnaireDue
from ketaclinic.plans import services as plans
from ketaclinic.protocols.files import shipped_protocol
from ketaclinic.protocols.services import protocol_load
from tests.accounts.conftest import refer
from tests.conftest import register
from tests.outcomes.conftest import phq9
from tests.outcomes.test_due_stored import rows
from tests.plans.conftest import draft, eligible_screening, next_monday

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def kept() -> list[tuple]:
    """The stored rows, checked to be what a rebuild from the records makes."""
    now = rows()
    services.due_rebuild()
    assert rows() == now
    return now


def due(patient, timepoint: str) -> list[tuple[int | None, date | None]]:
    return sorted(
        QuestionnaireDue.objects.filter(patient=patient, timepoint=timepoint, instrument="phq9").values_list(
            "infusion_number", "due_on"
        ),
        key=lambda r: (r[0] or 0, r[1] or date.min),
    )


def test_signing_moving_and_cancelling_slots_keep_what_is_due(staff, patient, protocols, downtown):
    chair = Chair.objects.create(location=downtown, name="Chair 1")
    plan = draft(staff, patient, eligible_screening(staff, patient), chair)
    assert not QuestionnaireDue.objects.exists() and kept() == []  # a draft schedules nothing
    plans.plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    monday = next_monday()
    assert due(patient, "baseline") == [(None, monday)] and len(due(patient, "pre_infusion")) == 5
    kept()
    second = plan.infusions.get(sequence=2)
    day = second.scheduled_start.astimezone(NY).date() - timedelta(days=1)
    plans.infusion_move(
        user=staff[Role.NURSE], infusion=second, start=datetime.combine(day, time(14), tzinfo=NY)
    )
    assert (2, day) in due(patient, "pre_infusion")
    kept()
    plans.infusion_cancel(
        user=staff[Role.NURSE], infusion=plan.infusions.get(sequence=6), reason="Travelling"
    )
    assert [n for n, _ in due(patient, "pre_infusion")] == [2, 3, 4, 5]
    kept()


def test_answers_a_correction_and_a_link_keep_what_is_due(staff, patient, protocols):
    nurse = staff[Role.NURSE]
    first = services.response_record(
        user=nurse, patient=patient, instrument="phq9", answers=phq9(14), timepoint="baseline"
    )
    today = timezone.localdate()
    assert due(patient, "baseline") == [(None, today)]  # infusion 1 shown by the answer, today
    assert (
        QuestionnaireDue.objects.get(patient=patient, timepoint="baseline", instrument="phq9").answered_on
        == today
    )
    kept()
    services.response_correct(user=nurse, response=first, answers=phq9(12), reason="Item 2 misread")
    kept()
    link, token = services.link_create(
        user=nurse, patient=patient, instrument="gad7", timepoint="pre_infusion", infusion_number=2
    )
    services.link_submit(token=token, answers=[1] * 7)
    assert due(patient, "pre_infusion") == [(2, today)]
    kept()


def test_a_referral_and_a_new_protocol_version_keep_the_schedule_of_a_patient_without_a_plan(
    staff, patient, protocols
):
    nurse, intake = staff[Role.NURSE], staff[Role.INTAKE]
    services.response_record(
        user=nurse, patient=patient, instrument="phq9", answers=phq9(14), timepoint="baseline",
        authored_at=datetime.combine(timezone.localdate() - timedelta(days=10), time(9), tzinfo=UTC),
    )  # fmt: skip
    refer(intake, patient)  # trd: the depression protocol's settings
    kept()
    data = shipped_protocol("depression-standard").model_dump(mode="json")
    data.update(version=data["version"] + 1, changelog="Follow-up a week after the first infusion")
    data["outcomes"]["follow_up_days"] = 7
    protocol_load(document=parse_protocol(data), user=None)
    (follow_up,) = QuestionnaireDue.objects.filter(patient=patient, timepoint="follow_up", instrument="phq9")
    assert follow_up.label == "Follow-up visit, 7 days after infusion 1"
    kept()


def test_the_rebuild_removes_rows_nothing_supports_and_counts_what_it_wrote(staff, downtown, protocols):
    intake = staff[Role.INTAKE]
    someone = register(intake, downtown, given_name="No", family_name="Plan")
    QuestionnaireDue.objects.create(
        patient=someone, location=downtown, position=0, instrument="phq9", timepoint="baseline", label="x"
    )
    assert services.due_rebuild() == 0 and not QuestionnaireDue.objects.exists()
