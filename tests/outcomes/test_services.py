"""Recording answers, corrections, safety escalation (never dismissed silently), relapse and boosters."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Permission, Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.outcomes import selectors, services
from ketaclinic.outcomes.models import BoosterProposal, QuestionnaireResponse, SafetyFlag
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from tests.outcomes.conftest import at, gad7, phq9

pytestmark = pytest.mark.django_db


def record(user, patient, answers, instrument="phq9", days=0.0, timepoint="ad_hoc", **kw):
    return services.response_record(
        user=user,
        patient=patient,
        instrument=instrument,
        answers=answers,
        authored_at=at(days),
        timepoint=timepoint,
        **kw,
    )


def test_staff_answers_are_scored_by_the_core_and_audited(staff, patient):
    nurse = staff[Role.NURSE]
    r = record(nurse, patient, phq9(14), timepoint="baseline")
    assert (r.total, r.severity, r.flags, r.instrument_version, r.loinc_panel, r.loinc_result) == (
        14.0,
        "moderate",
        [],
        1,
        "44249-1",
        "44261-6",
    )
    assert r.answers["phq9_1"] == 3 and r.source == "staff" and r.suicidal_ideation is False
    assert (
        AuditEntry.objects.filter(action="create", summary__startswith="Recorded Patient Health").count() == 1
    )
    assert not SafetyFlag.objects.exists()


def test_out_of_range_or_too_many_missing_answers_are_refused_and_nothing_saved(staff, patient):
    nurse = staff[Role.NURSE]
    with pytest.raises(ValidationError, match="phq9_2: 4 is not an allowed answer"):
        record(nurse, patient, [1, 4, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValidationError, match="3 items unanswered"):
        record(nurse, patient, [None, None, None, 1, 1, 1, 1, 1, 0])
    with pytest.raises(ValidationError, match="unknown"):
        record(nurse, patient, [1], instrument="bdi")
    assert not QuestionnaireResponse.objects.exists()


def test_billing_may_not_record(staff, patient):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="record questionnaires"):
        record(staff[Role.BILLING], patient, phq9(5))


def test_responses_are_append_only_in_the_database(staff, patient):
    r = record(staff[Role.NURSE], patient, phq9(10))
    with pytest.raises(DatabaseError), transaction.atomic():
        QuestionnaireResponse.objects.filter(pk=r.pk).update(total=3)
    with pytest.raises(DatabaseError), transaction.atomic():
        QuestionnaireResponse.objects.filter(pk=r.pk).delete()


def test_a_correction_is_a_new_response_that_replaces_the_old_with_a_reason(staff, patient):
    nurse = staff[Role.NURSE]
    old = record(nurse, patient, phq9(10))
    with pytest.raises(ValidationError, match="needs a reason"):
        services.response_correct(user=nurse, response=old, answers=phq9(12), reason="")
    new = services.response_correct(user=nurse, response=old, answers=phq9(12), reason="Item 2 misread")
    assert new.replaces == old and new.total == 12 and new.authored_at == old.authored_at
    old.refresh_from_db()
    assert old.total == 10  # unchanged
    assert list(selectors.current_responses()) == [new]
    with pytest.raises(ValidationError, match="already corrected"):
        services.response_correct(user=nurse, response=old, answers=phq9(11), reason="Again")


@pytest.mark.parametrize(
    ("instrument", "answers", "reason"),
    [
        ("phq9", phq9(12, item9=1), "suicidal_ideation"),
        ("phq9", [2, 2, 2, 2, 1, 1, 1, 1, None], "suicide_item_unanswered"),
        ("cssrs_screener", [1, 1, 1, 0, 0, 0, None], "suicide_risk_moderate_or_high"),
        ("cssrs_screener", [1, 1, 0, 1, 0, 0, None], "suicide_risk_moderate_or_high"),
    ],
)
def test_risk_answers_raise_an_urgent_flag_at_once(staff, patient, downtown, instrument, answers, reason):
    r = record(staff[Role.INTAKE], patient, answers, instrument=instrument)
    flag = SafetyFlag.objects.get()
    assert (flag.reason, flag.status, flag.response) == (reason, "open", r)
    assert selectors.open_safety_flags(downtown, timezone.localdate()) == [flag]
    assert selectors.safety_flags_open_for(user=staff[Role.PRESCRIBER]) == [flag]
    assert AuditEntry.objects.filter(summary__startswith="URGENT safety flag raised").count() == 1


def test_low_risk_answers_raise_no_flag(staff, patient):
    record(staff[Role.NURSE], patient, phq9(20, item9=0))
    record(staff[Role.NURSE], patient, [1, 0, None, None, None, 0, None], instrument="cssrs_screener")
    assert not SafetyFlag.objects.exists()


def test_open_safety_flags_for_the_day_board_by_location_and_date(
    staff, patient, other_patient, downtown, northside
):
    record(staff[Role.NURSE], patient, phq9(12, item9=2), days=0)
    flag = SafetyFlag.objects.get()
    assert selectors.open_safety_flags(downtown, date(2026, 3, 2)) == [flag]
    assert selectors.open_safety_flags(downtown, date(2026, 3, 1)) == []  # not raised yet that day
    assert selectors.open_safety_flags(northside, date(2026, 3, 2)) == []


def test_a_flag_cannot_be_dismissed_without_an_assessment_and_a_plan(staff, patient):
    record(staff[Role.NURSE], patient, phq9(12, item9=1))
    flag = SafetyFlag.objects.get()
    prescriber = staff[Role.PRESCRIBER]
    with pytest.raises(ValidationError, match="Record the assessment"):
        services.safety_flag_assess(
            user=prescriber, flag=flag, assessment="", plan="Safety plan, call tomorrow"
        )
    with pytest.raises(ValidationError, match="Record the safety plan"):
        services.safety_flag_assess(
            user=prescriber, flag=flag, assessment="Passive ideation, no intent", plan=" "
        )
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="assess safety flags"):
        services.safety_flag_assess(user=staff[Role.INTAKE], flag=flag, assessment="x" * 20, plan="y" * 20)
    flag.refresh_from_db()
    assert flag.status == "open"
    # Nor can anything else close it silently: the database refuses a closed flag without the record.
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyFlag.objects.filter(pk=flag.pk).update(status="assessed")
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyFlag.objects.filter(pk=flag.pk).update(
            status="assessed", assessed_by=prescriber, assessed_at=timezone.now(), assessment="Seen", plan=""
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyFlag.objects.filter(pk=flag.pk).update(
            status="assessed", assessed_by=prescriber, assessed_at=timezone.now(), assessment="", plan="Plan"
        )
    done = services.safety_flag_assess(
        user=staff[Role.NURSE],
        flag=flag,
        assessment="Passive ideation, no intent",
        plan="Safety plan reviewed; prescriber calls in 24 h",
    )
    assert done.status == "assessed" and done.assessed_by == staff[Role.NURSE]
    assert AuditEntry.objects.filter(action="review", summary__startswith="Safety flag assessed").count() == 1
    with pytest.raises(ValidationError, match="already assessed"):
        services.safety_flag_assess(user=prescriber, flag=flag, assessment="x" * 20, plan="y" * 20)
    with pytest.raises(DatabaseError), transaction.atomic():  # an assessed flag is frozen
        SafetyFlag.objects.filter(pk=flag.pk).update(plan="changed later")


def test_relapse_after_response_proposes_a_booster_once(staff, patient):
    nurse = staff[Role.NURSE]
    record(nurse, patient, phq9(20), days=0, timepoint="baseline")
    record(nurse, patient, phq9(8), days=21, timepoint="post_series")  # response: 60% down
    record(nurse, patient, phq9(12), days=35, timepoint="post_series")  # 4/12 = 33% back: no relapse
    assert not BoosterProposal.objects.exists()
    r = record(nurse, patient, phq9(14), days=63, timepoint="monthly")  # 6/12 = 50% back: relapse
    proposal = BoosterProposal.objects.get()
    assert proposal.response == r and proposal.status == "proposed" and proposal.relapse_fraction == 0.5
    assert "50% of the way back to the baseline 20" in proposal.reason
    record(nurse, patient, phq9(16), days=70, timepoint="monthly")
    assert BoosterProposal.objects.count() == 1  # one open proposal at a time


def test_no_relapse_without_a_response_first(staff, patient):
    nurse = staff[Role.NURSE]
    for d, t in ((0, 20), (21, 14), (35, 19)):
        record(nurse, patient, phq9(t), days=d)
    assert not BoosterProposal.objects.exists()


def _plan(patient, protocols, prescriber, screening):
    pv = protocols["depression-standard"]
    plan = TreatmentPlan.objects.create(
        patient=patient,
        screening=screening,
        indication="trd",
        protocol_version=pv,
        series_count=6,
        max_per_week=2,
        min_spacing_hours=48,
        evaluation_after=3,
        status="active",
        signed_by=prescriber,
        signed_at=timezone.now(),
    )
    for n in range(1, 7):
        PlannedInfusion.objects.create(
            plan=plan,
            sequence=n,
            scheduled_start=at(3.5 * (n - 1) + 0.1),
            location=patient.location,
            status="done",
        )
    return plan


def test_the_prescriber_accepts_a_booster_which_is_planned(staff, patient, protocols):
    from tests.accounts.conftest import screen

    prescriber = staff[Role.PRESCRIBER]
    plan = _plan(patient, protocols, prescriber, screen(staff[Role.INTAKE], patient))
    nurse = staff[Role.NURSE]
    for d, t in ((0, 20), (21, 8), (60, 16)):
        record(nurse, patient, phq9(t), days=d)
    proposal = BoosterProposal.objects.get()
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="decide on boosters"):
        services.booster_decide(user=nurse, proposal=proposal, decision="accept")
    done = services.booster_decide(user=prescriber, proposal=proposal, decision="accept")
    booster = done.planned_infusion
    assert (
        booster is not None and booster.plan == plan and booster.kind == "booster" and booster.sequence == 7
    )
    with pytest.raises(ValidationError, match="already accepted"):
        services.booster_decide(
            user=prescriber, proposal=proposal, decision="decline", reason="Changed my mind"
        )
    traj = selectors.trajectory_get(user=prescriber, patient=patient, instrument="phq9")
    assert [n for _, n in traj.infusions] == [1, 2, 3, 4, 5, 6]
    assert [n for _, _, n in traj.points] == [0, 6, 6]
    assert traj.status.relapsed


def test_declining_a_booster_needs_a_reason(staff, patient):
    nurse, prescriber = staff[Role.NURSE], staff[Role.PRESCRIBER]
    for d, t in ((0, 20), (21, 8), (60, 16)):
        record(nurse, patient, phq9(t), days=d)
    proposal = BoosterProposal.objects.get()
    with pytest.raises(ValidationError, match="needs a reason"):
        services.booster_decide(user=prescriber, proposal=proposal, decision="decline", reason="")
    done = services.booster_decide(
        user=prescriber, proposal=proposal, decision="decline", reason="Life event; recheck in two weeks"
    )
    assert done.status == "declined" and done.planned_infusion is None
    with pytest.raises(IntegrityError), transaction.atomic():
        BoosterProposal.objects.filter(pk=done.pk).update(decision_reason="")


def test_trajectory_marks_infusions_from_own_data_without_a_plan(staff, patient):
    nurse = staff[Role.NURSE]
    record(nurse, patient, phq9(20), days=0, timepoint="baseline")
    for n, d in ((2, 3.5), (3, 7), (4, 10.5)):
        record(nurse, patient, phq9(20 - 3 * n), days=d, timepoint="pre_infusion", infusion_number=n)
    record(nurse, patient, gad7(10), instrument="gad7", days=0, timepoint="baseline")
    t = selectors.trajectory_get(user=nurse, patient=patient, instrument="phq9")
    assert [n for _, n in t.infusions] == [1, 2, 3, 4]
    assert [(v, n) for _, v, n in t.points] == [(20.0, 0), (14.0, 1), (11.0, 2), (8.0, 3)]
    assert t.status.words == "responder since infusion 3"
    from ketaclinic.outcomes.charts import trajectory_svg

    svg = trajectory_svg(t).decode()
    assert svg.startswith("<?xml") and "responder since infusion 3" in svg


def test_due_questionnaires_come_from_the_plan(staff, patient, protocols):
    from tests.accounts.conftest import screen

    _plan(patient, protocols, staff[Role.PRESCRIBER], screen(staff[Role.INTAKE], patient))
    due = selectors.due_for_patient(patient, today=date(2026, 3, 1))
    assert [d.timepoint for d in due][:3] == ["baseline", "follow_up", "pre_infusion"]  # day 3 before day 3.5
    assert sum(d.timepoint == "post_series" for d in due) == 4


def test_permissions_of_outcomes_are_declared():
    from ketaclinic.core.access import ROLE_PERMISSIONS

    P = Permission
    assert {r for r, ps in ROLE_PERMISSIONS.items() if P.QUESTIONNAIRE_RECORD in ps} == {
        Role.PRESCRIBER,
        Role.NURSE,
        Role.INTAKE,
    }
    assert {r for r, ps in ROLE_PERMISSIONS.items() if P.SAFETY_ASSESS in ps} == {Role.PRESCRIBER, Role.NURSE}
    assert {r for r, ps in ROLE_PERMISSIONS.items() if P.BOOSTER_DECIDE in ps} == {Role.PRESCRIBER}
    assert {r for r, ps in ROLE_PERMISSIONS.items() if P.OUTCOMES_VIEW in ps} == {Role.PRESCRIBER, Role.ADMIN}
    from tests.accounts.test_permission_matrix import API_PROBES, PAGE_PROBES

    mine = {P.QUESTIONNAIRE_RECORD, P.SAFETY_ASSESS, P.BOOSTER_DECIDE, P.OUTCOMES_VIEW}
    assert mine <= set(PAGE_PROBES) and mine <= set(API_PROBES)


def test_an_unchanged_trajectory_is_drawn_once_and_a_new_answer_draws_it_again(staff, patient, monkeypatch):
    from ketaclinic.outcomes import charts

    nurse = staff[Role.NURSE]
    record(nurse, patient, phq9(20), days=0, timepoint="baseline")
    drawn: list[int] = []
    draw = charts.trajectory_svg

    def counted(trajectory):
        drawn.append(1)
        return draw(trajectory)

    monkeypatch.setattr(charts, "trajectory_svg", counted)
    first = charts.trajectory_svg_cached(
        selectors.trajectory_get(user=nurse, patient=patient, instrument="phq9")
    )
    again = charts.trajectory_svg_cached(
        selectors.trajectory_get(user=nurse, patient=patient, instrument="phq9")
    )
    assert first == again and first.startswith(b"<?xml") and len(drawn) == 1
    record(nurse, patient, phq9(11), days=3.5, timepoint="pre_infusion", infusion_number=2)
    after = charts.trajectory_svg_cached(
        selectors.trajectory_get(user=nurse, patient=patient, instrument="phq9")
    )
    assert len(drawn) == 2 and after != first
