"""Reads the infusion sessions build on: the day's planned infusions of a location, and the current plan."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.core.access import Role
from ketaclinic.plans.selectors import plan_current, planned_infusions_on, plans_for_patient
from ketaclinic.plans.services import infusion_cancel, plan_sign
from tests.plans.conftest import draft, next_monday

pytestmark = pytest.mark.django_db


def test_planned_infusions_on_a_day_only_active_plans_not_cancelled(staff, plan, downtown):
    nurse = staff[Role.NURSE]
    monday = next_monday()
    assert list(planned_infusions_on(user=nurse, location=downtown, day=monday)) == []  # draft plan
    plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    rows = list(planned_infusions_on(user=nurse, location=downtown, day=monday))
    assert [r.sequence for r in rows] == [1] and rows[0].plan.patient == plan.patient
    infusion_cancel(user=nurse, infusion=rows[0], reason="Unwell")
    assert list(planned_infusions_on(user=nurse, location=downtown, day=monday)) == []
    with pytest.raises(PermissionDenied):
        list(planned_infusions_on(user=staff[Role.INTAKE], location=downtown, day=monday))


def test_plan_current_prefers_the_active_plan(staff, plan, patient):
    assert plan_current(patient) == plan
    plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    assert plan_current(patient).status == "active"


def _queries(staff, patient) -> int:
    with CaptureQueriesContext(connection) as ctx:
        plans = plans_for_patient(user=staff[Role.NURSE], patient=patient)
        for p in plans:
            [(i.location.name, i.chair and i.chair.name) for i in p.infusions.all()]  # noqa: B018
    return len(ctx.captured_queries)


def test_plans_for_patient_query_count_does_not_grow_with_plans_or_slots(
    staff, plan, patient, eligible, chairs
):
    _queries(staff, patient)  # the user's locations are cached after the first call
    one = _queries(staff, patient)
    draft(staff, patient, eligible, chairs[1])
    assert _queries(staff, patient) == one
