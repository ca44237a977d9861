"""Treatment plan services: every rule, refusals by message constant, nothing half-saved, audit entries."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.series import TOO_CLOSE, WEEK_FULL
from ketaclinic.plans import services
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.screening.services import screening_sign
from tests.accounts.conftest import refer, screen
from tests.conftest import register
from tests.plans.conftest import draft, next_monday

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def local(day, hour=9, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def test_draft_follows_the_protocol_and_proposes_six_slots(plan, protocols, chairs):
    pv = protocols["depression-standard"]
    assert plan.protocol_version == pv and plan.status == TreatmentPlan.Status.DRAFT
    assert (plan.series_count, plan.max_per_week, plan.min_spacing_hours, plan.evaluation_after) == (
        6,
        2,
        48,
        6,
    )
    assert plan.booster_min_days == 14 and "booster" in plan.booster_policy.lower()
    assert plan.dose_strategy["starting_dose"] == 0.5 and plan.dose_strategy["titration_step"] == 0.1
    assert plan.dose_strategy["unit"] == "mg/kg" and plan.dose_strategy["limits"]
    slots = list(plan.infusions.order_by("sequence"))
    monday = next_monday()
    assert [s.scheduled_start for s in slots] == [
        local(monday + timedelta(days=d)) for d in (0, 3, 7, 10, 14, 17)
    ]
    assert all(s.chair == chairs[0] and s.duration_minutes == 120 and not s.at_home for s in slots)
    entry = AuditEntry.objects.filter(action="create", summary__startswith="Drafted treatment plan").get()
    assert entry.patient_external_id == plan.patient.external_id


def test_draft_refused_without_a_signed_eligible_screening(staff, patient, protocols, chairs):
    unsigned = screen(staff[Role.INTAKE], patient, refer(staff[Role.INTAKE], patient))
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, unsigned, chairs[0])
    assert exc.value.message == services.SCREENING_NOT_ELIGIBLE.format(status="awaiting prescriber signature")
    no = screening_sign(
        user=staff[Role.PRESCRIBER],
        screening=screen(staff[Role.INTAKE], patient),
        outcome="not_eligible",
        note="Prescriber judgement",
    )
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, no, chairs[0])
    assert exc.value.message == services.SCREENING_NOT_ELIGIBLE.format(status="signed not eligible")
    assert not TreatmentPlan.objects.exists() and not PlannedInfusion.objects.exists()


def test_draft_refused_for_another_patients_screening(staff, eligible, chairs, downtown):
    other = register(staff[Role.INTAKE], downtown, given_name="Ann", family_name="Lee")
    with pytest.raises(ValidationError, match=services.SCREENING_OTHER_PATIENT):
        draft(staff, other, eligible, chairs[0])


def test_only_a_prescriber_drafts(staff, patient, eligible, chairs):
    with pytest.raises(PermissionDenied, match="may not write treatment plans"):
        draft(staff, patient, eligible, chairs[0], user=staff[Role.NURSE])


def test_home_infusion_needs_address_and_mobile_location(staff, patient, eligible, chairs, mobile):
    with pytest.raises(ValidationError, match=services.HOME_NEEDS_ADDRESS):
        draft(staff, patient, eligible, chairs[0], location=mobile, chair=None, at_home=True)
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, eligible, chairs[0], at_home=True, chair=None)
    assert exc.value.message == services.HOME_NEEDS_MOBILE.format(location="Downtown Clinic")
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, eligible, chairs[0], location=mobile)
    assert exc.value.message == services.LOCATION_IS_MOBILE.format(location="Mobile infusions")
    patient.address, patient.postal_code = "12 Elm Street", "02139"
    patient.save()
    plan = draft(staff, patient, eligible, chairs[0], location=mobile, chair=None, at_home=True)
    assert plan.home_infusions and all(s.at_home and s.chair is None for s in plan.infusions.all())


def test_clinic_slot_needs_a_chair_of_that_location(staff, patient, eligible, chairs, northside):
    from ketaclinic.accounts.models import Chair

    with pytest.raises(ValidationError, match="Choose a chair at Downtown Clinic"):
        draft(staff, patient, eligible, chairs[0], chair=None)
    elsewhere = Chair.objects.create(location=northside, name="N1")
    with pytest.raises(ValidationError, match="N1 is not at Downtown Clinic"):
        draft(staff, patient, eligible, chairs[0], chair=elsewhere)


def test_a_chair_is_never_double_booked_and_nothing_is_half_saved(
    staff, patient, eligible, chairs, plan, downtown
):
    other = register(staff[Role.INTAKE], downtown, given_name="Ann", family_name="Lee")
    from tests.plans.conftest import eligible_screening

    s2 = eligible_screening(staff, other)
    before = PlannedInfusion.objects.count()
    with pytest.raises(ValidationError) as exc:
        draft(staff, other, s2, chairs[0], at=time(10))
    assert "Chair 1 is already booked" in exc.value.message and "another booking" in exc.value.message
    assert PlannedInfusion.objects.count() == before
    assert TreatmentPlan.objects.filter(patient=other).count() == 0
    # The next two hours are free; so is the other chair.
    draft(staff, other, s2, chairs[0], at=time(11))
    assert TreatmentPlan.objects.filter(patient=other).count() == 1


def test_sign_freezes_the_plan(staff, plan):
    signed = services.plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    assert signed.status == "active" and signed.signed_by == staff[Role.PRESCRIBER]
    with pytest.raises(ValidationError, match="a signed plan cannot change"):
        services.plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    with pytest.raises(DatabaseError, match="a signed treatment plan cannot change"), transaction.atomic():
        TreatmentPlan.objects.filter(pk=plan.pk).update(series_count=8)
    with pytest.raises(DatabaseError, match="a signed treatment plan cannot change"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM plans_treatmentplan WHERE id = %s", [plan.pk])
    assert AuditEntry.objects.filter(action="sign", summary__startswith="Signed treatment plan").count() == 1


def test_nurse_cannot_sign(staff, plan):
    with pytest.raises(PermissionDenied, match="may not sign treatment plans"):
        services.plan_sign(user=staff[Role.NURSE], plan=plan)


def test_revision_supersedes_and_takes_over_planned_slots(staff, plan):
    services.plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    with pytest.raises(
        ValidationError, match=re.escape(services.EVALUATION_AFTER_SERIES.format(evaluation=9, count=8))
    ):
        services.plan_revise(user=staff[Role.PRESCRIBER], plan=plan, series_count=8, evaluation_after=9)
    new = services.plan_revise(
        user=staff[Role.PRESCRIBER],
        plan=plan,
        series_count=8,
        evaluation_after=8,
        notes="Partial response; extend",
    )
    assert new.supersedes == plan and new.status == "draft" and new.series_count == 8
    with pytest.raises(ValidationError, match=services.ALREADY_REVISED):
        services.plan_revise(user=staff[Role.PRESCRIBER], plan=plan, notes="again")
    with pytest.raises(ValidationError, match="This plan is draft; only an active"):
        services.plan_revise(user=staff[Role.PRESCRIBER], plan=new, notes="again")
    services.plan_sign(user=staff[Role.PRESCRIBER], plan=new)
    plan.refresh_from_db()
    assert plan.status == "superseded" and plan.series_count == 6
    assert new.infusions.count() == 6 and plan.infusions.count() == 0


def test_revision_refuses_bad_rules(staff, plan):
    services.plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    with pytest.raises(
        ValidationError, match=re.escape(services.EVALUATION_AFTER_SERIES.format(evaluation=6, count=4))
    ):
        services.plan_revise(user=staff[Role.PRESCRIBER], plan=plan, series_count=4)
    with pytest.raises(ValidationError, match="outside 1-3"):
        services.plan_revise(user=staff[Role.PRESCRIBER], plan=plan, max_per_week=4)
    assert TreatmentPlan.objects.count() == 1


def test_move_keeps_spacing_and_week_limits(staff, plan):
    nurse = staff[Role.NURSE]
    second = plan.infusions.get(sequence=2)
    monday = next_monday()
    with pytest.raises(ValidationError) as exc:
        services.infusion_move(user=nurse, infusion=second, start=local(monday + timedelta(days=1)))
    assert exc.value.message == TOO_CLOSE.format(
        label="Infusion 2",
        when=(monday + timedelta(days=1)).strftime("%a %Y-%m-%d") + " 09:00",
        hours=24,
        other="Infusion 1",
        other_when=monday.strftime("%a %Y-%m-%d") + " 09:00",
        min_hours=48,
    )
    third = plan.infusions.get(sequence=3)
    target = monday + timedelta(days=5)  # Saturday of week 1: 48 h after Thursday, but week 1 is full
    with pytest.raises(ValidationError) as exc:
        services.infusion_move(user=nurse, infusion=third, start=local(target))
    assert exc.value.message.startswith("Infusion 3 on") and "at most 2 a week" in exc.value.message
    assert WEEK_FULL.split("{")[0] == ""
    moved = services.infusion_move(user=nurse, infusion=second, start=local(monday + timedelta(days=2), 14))
    assert moved.scheduled_start == local(monday + timedelta(days=2), 14)
    entry = AuditEntry.objects.filter(summary__startswith="Moved Infusion 2").get()
    assert entry.detail["from"]["start"].startswith(str(monday + timedelta(days=3)))
    assert entry.detail["to"]["start"].startswith(str(monday + timedelta(days=2)))


def test_move_into_a_busy_chair_refused(staff, plan, chairs, downtown):
    from tests.plans.conftest import eligible_screening

    other = register(staff[Role.INTAKE], downtown, given_name="Ann", family_name="Lee")
    other_plan = draft(staff, other, eligible_screening(staff, other), chairs[1])
    slot = other_plan.infusions.get(sequence=1)
    with pytest.raises(ValidationError, match="Chair 1 is already booked"):
        services.infusion_move(
            user=staff[Role.NURSE],
            infusion=slot,
            start=slot.scheduled_start + timedelta(minutes=60),
            chair=chairs[0],
        )
    slot.refresh_from_db()
    assert slot.chair == chairs[1]
    services.infusion_move(
        user=staff[Role.NURSE],
        infusion=slot,
        start=slot.scheduled_start + timedelta(hours=2),
        chair=chairs[0],
    )


def test_move_refused_in_the_past_or_when_cancelled(staff, plan):
    slot = plan.infusions.get(sequence=6)
    with pytest.raises(ValidationError, match="in the past"):
        services.infusion_move(
            user=staff[Role.NURSE], infusion=slot, start=local(next_monday() - timedelta(days=30))
        )
    services.infusion_cancel(user=staff[Role.NURSE], infusion=slot, reason="Patient travelling")
    with pytest.raises(
        ValidationError, match="Infusion 6 is cancelled; only a planned infusion can be moved"
    ):
        services.infusion_move(
            user=staff[Role.NURSE], infusion=slot, start=local(next_monday() + timedelta(days=30))
        )


def test_cancel_needs_a_reason_and_is_audited(staff, plan):
    slot = plan.infusions.get(sequence=1)
    with pytest.raises(ValidationError, match=services.REASON_REQUIRED):
        services.infusion_cancel(user=staff[Role.INTAKE], infusion=slot, reason="  ")
    services.infusion_cancel(user=staff[Role.INTAKE], infusion=slot, reason="Flu")
    slot.refresh_from_db()
    assert (slot.status, slot.cancel_reason) == ("cancelled", "Flu")
    assert AuditEntry.objects.filter(summary__contains="Cancelled Infusion 1").exists()
    with pytest.raises(PermissionDenied):
        services.infusion_cancel(
            user=staff[Role.BILLING], infusion=plan.infusions.get(sequence=2), reason="x"
        )


def test_booster_after_the_series_and_policy_days(staff, plan, chairs):
    nurse = staff[Role.NURSE]
    last = next_monday() + timedelta(days=17)
    with pytest.raises(ValidationError, match="only an active"):
        services.booster_add(
            user=nurse,
            plan=plan,
            start=local(last + timedelta(days=30)),
            location=chairs[0].location,
            chair=chairs[0],
        )
    services.plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    with pytest.raises(ValidationError) as exc:
        services.booster_add(
            user=nurse,
            plan=plan,
            start=local(last - timedelta(days=1)),
            location=chairs[0].location,
            chair=chairs[0],
        )
    assert exc.value.message.startswith("A booster comes after the series; Infusion 6")
    with pytest.raises(ValidationError) as exc:
        services.booster_add(
            user=nurse,
            plan=plan,
            start=local(last + timedelta(days=10)),
            location=chairs[0].location,
            chair=chairs[0],
        )
    assert (
        "would be 10 days after Infusion 6" in exc.value.message and "at least 14 days" in exc.value.message
    )
    booster = services.booster_add(
        user=nurse,
        plan=plan,
        start=local(last + timedelta(days=14)),
        location=chairs[0].location,
        chair=chairs[0],
    )
    assert (booster.kind, booster.sequence, booster.label) == ("booster", 7, "Booster 7")
    assert AuditEntry.objects.filter(summary__startswith="Planned Booster 7").exists()


def test_protocol_without_series_refused(staff, patient, chairs, protocols):
    from ketaclinic.screening.services import screening_record

    s = screening_record(
        user=staff[Role.INTAKE],
        patient=patient,
        indication="crps",
        contraindications={},
        trials=[{"kind": "pain_treatment", "name": "gabapentin", "weeks": 12}],
    )
    if s.computed_outcome == "not_eligible":
        pytest.fail(f"fixture screening not signable: {s.computed_reasons}")
    s = screening_sign(user=staff[Role.PRESCRIBER], screening=s, outcome="eligible", note="Reviewed")
    with pytest.raises(ValidationError) as exc:
        draft(staff, patient, s, chairs[0])
    assert exc.value.message == services.NO_SERIES.format(
        protocol="crps-schwartzman", version=protocols["crps-schwartzman"].version
    )


def test_one_active_plan_per_patient(staff, plan, patient, eligible, chairs):
    plan = services.plan_sign(user=staff[Role.PRESCRIBER], plan=plan)
    second = draft(staff, patient, eligible, chairs[1])
    with pytest.raises(ValidationError) as exc:
        services.plan_sign(user=staff[Role.PRESCRIBER], plan=second)
    assert exc.value.message == services.ANOTHER_ACTIVE.format(when=f"{plan.signed_at:%Y-%m-%d}")
    second.refresh_from_db()
    assert second.status == "draft"
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentPlan.objects.filter(pk=second.pk).update(
            status="active", signed_by=staff[Role.PRESCRIBER], signed_at=plan.signed_at
        )
