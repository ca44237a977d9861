"""The esketamine REMS Patient Monitoring Form: prefilled from the session, confirmed by the prescriber, the
note waits for it, submitted once and then frozen, and overdue forms on the prescriber's worklist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import timezone

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion import rems as core
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.demo import esketamine_given
from ketaclinic.infusions.models import InfusionSession, RemsMonitoringForm
from tests.clock import advance_to
from tests.infusions.conftest import CONFIRM, fresh, schedule, vitals

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def esketamine_discharged(nurse, prescriber, patient, protocol, *, bp_at_40: bool = True) -> InfusionSession:
    """An esketamine session through the day: two devices 5 min apart, BP before, at 40 min (unless not),
    and 5 min before discharge at 132 min."""
    session = schedule(nurse, patient, protocol)
    session = s.session_check_in(
        user=nurse, session=session, expected_version=1, at=timezone.now() - timedelta(minutes=30)
    )
    vitals(nurse, session, timezone.now())
    answers: list[dict[str, Any]] = [{"code": c, "answer": "yes"} for c in CONFIRM] + [
        {"code": "weight_today", "value": "70", "unit": "kg"},
        {"code": "phq9_today", "value": 20},
        {"code": "pregnancy_status", "answer": "not_pregnant"},
    ]
    start = timezone.now() + timedelta(minutes=1)
    esketamine_given(
        session,
        nurse=nurse,
        prescriber=prescriber,
        answers=answers,
        first=start,
        stop_after_min=10,
        clock_to=advance_to,
    )
    if bp_at_40:
        advance_to(start + timedelta(minutes=40))
        vitals(nurse, session, timezone.now(), systolic_mmhg=148, diastolic_mmhg=92, sedation="moderate")
    advance_to(start + timedelta(minutes=127))
    vitals(nurse, session, timezone.now())
    advance_to(start + timedelta(minutes=132))
    s.discharge_assess(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=2,
        escort_present=True,
        instructions_given=True,
        escort_name="Ana Garcia (sister)",
    )
    s.session_discharge(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    s.note_generate(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    return fresh(session)


@pytest.fixture
def esk(protocols):
    return protocols["esketamine-nasal"]


def confirm(prescriber, session, **changes: Any) -> RemsMonitoringForm:
    state = selectors.rems_form_state(session)
    assert state is not None
    answers: dict[str, Any] = {
        "device_lots": ["24KX118"],
        "checks": state.form.checks,
        "spo2_lowest_percent": state.form.spo2_lowest_percent,
        "concomitant_medications": "none",
        "serious_adverse_event": False,
        **changes,
    }
    return s.rems_form_confirm(user=prescriber, session=fresh(session), **answers)


def sign(user, session):
    return s.note_sign(user=user, session=fresh(session), expected_version=fresh(session).version)


def test_the_note_waits_for_the_form_and_the_refusal_lists_what_is_missing(nurse, prescriber, patient, esk):
    session = esketamine_discharged(nurse, prescriber, patient, esk)
    state = selectors.rems_form_state(session)
    assert state is not None and state.form.dose_total_mg == 56 and state.form.monitoring_min == 132
    assert state.form.entry("blood_pressure@after_first_device").systolic_mmhg == 148
    assert state.form.entry("sedation@after_first_device").level == "moderate"
    with pytest.raises(ValidationError) as exc:
        sign(prescriber, session)
    missing = (core.NO_LOT, core.NO_CONCOMITANT, core.NO_SAE_ANSWER, core.NOT_CONFIRMED)
    assert exc.value.message == s.REMS_INCOMPLETE.format(items="; ".join(missing))
    assert exc.value.field == "rems_form" and exc.value.value == list(missing)
    assert not fresh(session).note.signed
    form = confirm(prescriber, session)
    assert (form.device_lots, form.dose_total_mg, form.confirmed_by) == ("24KX118", 56, prescriber)
    assert sign(prescriber, session).signed


def test_a_missing_forty_minute_reading_is_named_with_its_window_on_the_clinic_clock(
    nurse, prescriber, patient, esk
):
    session = esketamine_discharged(nurse, prescriber, patient, esk, bp_at_40=False)
    confirm(prescriber, session)
    first = selectors.rems_form_state(session).form.first_device_at
    window = "{} and {}".format(
        *((first + timedelta(minutes=m)).astimezone(NY).strftime("%H:%M") for m in (35, 45))
    )
    with pytest.raises(ValidationError) as exc:
        sign(prescriber, session)
    assert f"Blood pressure about 40 minutes after the first device: none recorded between {window}" in (
        exc.value.message
    )
    # the prescriber transcribes a reading taken on paper at 41 min: then the note may be signed
    checks = [
        core.CheckEntry(e.code, first + timedelta(minutes=41), 150, 94)
        if e.code == "blood_pressure@after_first_device"
        else core.CheckEntry(e.code, first + timedelta(minutes=41), level="mild")
        if e.code.endswith("@after_first_device")
        else e
        for e in selectors.rems_form_state(session).form.checks
    ]
    confirm(prescriber, session, checks=checks)
    assert sign(prescriber, session).signed


def test_a_submitted_form_never_changes(nurse, prescriber, patient, esk):
    session = esketamine_discharged(nurse, prescriber, patient, esk)
    with pytest.raises(ValidationError) as exc:
        s.rems_form_submit(user=nurse, session=session, reference="R-1")
    assert exc.value.message.startswith("The form cannot be marked submitted while items are missing:")
    confirm(prescriber, session)
    with pytest.raises(ValidationError) as exc:
        s.rems_form_submit(user=nurse, session=session, reference="  ")
    assert exc.value.message == s.REFERENCE_REQUIRED
    form = s.rems_form_submit(user=nurse, session=session, reference="PMF-889201")
    assert (form.submitted_by, form.reference) == (nurse, "PMF-889201")
    with pytest.raises(ValidationError) as exc:
        confirm(prescriber, session, concomitant_medications="lorazepam")
    assert exc.value.message.startswith(f"The REMS form was submitted by {nurse} on ")
    with pytest.raises(DatabaseError, match="cannot change"), transaction.atomic():
        RemsMonitoringForm.objects.filter(pk=form.pk).update(concomitant_medications="edited")
    assert RemsMonitoringForm.objects.get(pk=form.pk).concomitant_medications == "none"


def test_only_a_prescriber_confirms_and_impossible_values_are_refused(nurse, prescriber, patient, esk):
    session = esketamine_discharged(nurse, prescriber, patient, esk)
    with pytest.raises(PermissionDenied):
        confirm(nurse, session)
    with pytest.raises(ValidationError) as exc:
        confirm(prescriber, session, spo2_lowest_percent=140)
    assert exc.value.message == "Lowest oxygen saturation 140 % is not possible; allowed is 0-100 %."
    checks = [core.CheckEntry("blood_pressure@pre_dose", timezone.now(), 500, 80)]
    with pytest.raises(ValidationError) as exc:
        confirm(prescriber, session, checks=checks)
    assert exc.value.message == (
        "Blood pressure before the first device: systolic pressure 500 mmHg is not possible; "
        "allowed is 0-350 mmHg."
    )
    assert not RemsMonitoringForm.objects.filter(session=session).exists()  # nothing half-saved


def test_other_protocols_ask_for_no_form(nurse, prescriber, patient, protocols):
    session = schedule(nurse, patient, protocols["depression-standard"])
    assert selectors.rems_form_state(session) is None and selectors.rems_missing_items(session) == ()
    with pytest.raises(ValidationError) as exc:
        s.rems_form_confirm(
            user=prescriber,
            session=session,
            device_lots=[],
            checks=[],
            spo2_lowest_percent=None,
            concomitant_medications="",
            serious_adverse_event=None,
        )
    assert exc.value.message == "This session's protocol asks for no REMS monitoring form."


def _started(session: InfusionSession, at: datetime) -> None:
    InfusionSession.objects.filter(pk=session.pk).update(started_at=at)


def test_the_worklist_counts_days_on_the_clinic_calendar(nurse, prescriber, patient, esk):
    session = esketamine_discharged(nurse, prescriber, patient, esk)
    # 23:30 on 25 November in New York (04:30 on the 26th UTC): due by the end of 2 December, local
    _started(session, datetime(2026, 11, 26, 4, 30, tzinfo=UTC))
    evening_of_due_day = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 22:00 on 2 December in New York
    (due,) = selectors.rems_forms_due(user=prescriber, now=evening_of_due_day)
    assert (str(due.deadline.due), due.deadline.overdue, due.due_soon) == ("2026-12-02", False, True)
    (due,) = selectors.rems_forms_due(
        user=prescriber, now=evening_of_due_day + timedelta(hours=2, minutes=30)
    )
    assert (due.deadline.overdue, due.deadline.days_overdue) == (True, 1)
    (due,) = selectors.rems_forms_due(user=prescriber, now=datetime(2026, 11, 28, 15, 0, tzinfo=UTC))
    assert (due.deadline.days_left, due.due_soon, due.confirmed) == (4, False, False)
    worklist = selectors.prescriber_worklist(user=prescriber, now=evening_of_due_day + timedelta(days=3))
    assert [r.deadline.days_overdue for r in worklist.rems] == [3] and worklist.rems_overdue == 1
    confirm(prescriber, session)
    s.rems_form_submit(user=prescriber, session=session, reference="PMF-1")
    assert selectors.rems_forms_due(user=prescriber, now=evening_of_due_day) == []


def test_the_worklist_reads_in_a_bounded_number_of_queries(
    nurse, prescriber, patient, esk, django_assert_max_num_queries
):
    esketamine_discharged(nurse, prescriber, patient, esk)
    with django_assert_max_num_queries(6):
        assert len(selectors.rems_forms_due(user=prescriber)) == 1
