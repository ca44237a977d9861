"""Every service rule and refusal of the infusion session, with the message constants the services export."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import NOT_OVERRIDABLE
from ketaclinic.core.infusion.state import START_WITHOUT_SIGNED_ORDER, TransitionRefused
from ketaclinic.core.infusion.vitals import IMPLAUSIBLE
from ketaclinic.core.pharmacology.dosing import HardLimitError
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import (
    ChecklistItemResponse,
    InfusionOrder,
    MedicationAdministration,
    VitalAlert,
    VitalSigns,
)
from ketaclinic.infusions.services import vitals as services_vitals
from ketaclinic.patients.access import OutsideLocations
from tests.clock import advance, advance_to
from tests.conftest import make_staff, register
from tests.infusions.conftest import fresh, recovery_vitals, schedule, vial_check, vitals, walk

pytestmark = pytest.mark.django_db


def at(session, minutes):
    return session.started_at + timedelta(minutes=minutes)


# --- concurrency ---------------------------------------------------------------------------------------


def test_a_stale_version_is_refused_naming_who_changed_it(session, nurse, intake):
    s.session_check_in(user=intake, session=session, expected_version=1)
    with pytest.raises(s.ChangedMeanwhile) as exc:
        s.session_check_in(user=nurse, session=session, expected_version=1)
    assert exc.value.message.startswith("This session was changed meanwhile by Intake Tester at ")
    assert exc.value.message.endswith("; reload it and try again.")
    assert fresh(session).version == 2


def test_every_change_raises_the_version(session, nurse):
    v = session.version
    s.session_check_in(user=nurse, session=session, expected_version=v)
    s.checklist_record(
        user=nurse, session=session, expected_version=v + 1, code="identity_checked", answer="yes"
    )
    assert fresh(session).version == v + 2


# --- check-in and checklist ----------------------------------------------------------------------------


def test_check_in_twice_is_refused(session, nurse):
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    with pytest.raises(TransitionRefused, match="Cannot check in a session that is checked in"):
        s.session_check_in(user=nurse, session=session, expected_version=session.version)


def test_checklist_answer_is_replaced_not_duplicated_and_audited(session, nurse):
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    s.checklist_record(user=nurse, session=session, expected_version=2, code="no_heavy_meal", answer="no")
    s.checklist_record(user=nurse, session=session, expected_version=3, code="no_heavy_meal", answer="yes")
    assert ChecklistItemResponse.objects.get(session=session, code="no_heavy_meal").answer == "yes"
    assert AuditEntry.objects.filter(summary__startswith="Checklist: No heavy meal").count() == 2


def test_weight_needs_a_unit_and_goes_on_the_chart(session, nurse, patient):
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    with pytest.raises(ValidationError, match="unit"):
        s.checklist_record(user=nurse, session=session, expected_version=2, code="weight_today", value="154")
    s.checklist_record(
        user=nurse, session=session, expected_version=2, code="weight_today", value="154", unit="lb"
    )
    assert float(fresh(session).weight_kg) == pytest.approx(69.85, abs=0.01)
    assert float(patient.measurements.filter(kind="weight").first().value_si) == pytest.approx(
        69.85, abs=0.01
    )


def test_phq9_out_of_range_is_refused(session, nurse):
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    with pytest.raises(ValidationError, match="28 is outside 0–27"):
        s.checklist_record(user=nurse, session=session, expected_version=2, code="phq9_today", value=28)


def test_checklist_before_check_in_is_refused(session, nurse):
    with pytest.raises(ValidationError) as exc:
        s.checklist_record(
            user=nurse, session=session, expected_version=1, code="identity_checked", answer="yes"
        )
    assert exc.value.message == s.CHECKLIST_CLOSED.format(state="scheduled")


def test_complete_refuses_naming_what_fails(session, nurse):
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    with pytest.raises(ValidationError) as exc:
        s.checklist_complete(user=nurse, session=session, expected_version=2)
    assert exc.value.message.startswith("The pre-infusion checklist has not passed: identity_checked missing")
    assert "baseline_vitals missing" in exc.value.message


def test_only_a_prescriber_overrides_and_never_identity(session, nurse, prescriber):
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    s.checklist_record(user=nurse, session=session, expected_version=2, code="no_heavy_meal", answer="no")
    with pytest.raises(PermissionDenied):
        s.checklist_override(
            user=nurse,
            session=session,
            expected_version=3,
            code="no_heavy_meal",
            reason="Only toast, three hours ago",
        )
    r = s.checklist_override(
        user=prescriber,
        session=session,
        expected_version=3,
        code="no_heavy_meal",
        reason="Only toast, three hours ago",
    )
    assert r.overridden_by == prescriber and r.override_reason == "Only toast, three hours ago"
    with pytest.raises(ValidationError) as exc:
        s.checklist_override(
            user=prescriber,
            session=session,
            expected_version=4,
            code="identity_checked",
            reason="I know this patient well",
        )
    assert exc.value.message == NOT_OVERRIDABLE.format(
        question="Identity checked (name and date of birth against the wristband/chart)?"
    )


def test_a_failing_answer_after_prechecks_reopens_them(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    session = fresh(session)
    s.checklist_record(
        user=nurse, session=session, expected_version=session.version, code="escort_confirmed", answer="no"
    )
    assert fresh(session).state == "checked_in"


# --- the order -------------------------------------------------------------------------------------------


def _ready(session, nurse):
    session = s.session_check_in(user=nurse, session=session, expected_version=session.version)
    s.checklist_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        code="weight_today",
        value="70",
        unit="kg",
    )
    return fresh(session)


def test_order_needs_todays_weight(session, nurse):
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    with pytest.raises(ValidationError) as exc:
        s.order_create(user=nurse, session=session, expected_version=2)
    assert exc.value.message == s.NO_WEIGHT_TODAY


def test_an_order_under_an_obese_dosing_rule_needs_the_patients_height(
    nurse, intake, downtown, depression, chair
):
    no_height = register(intake, downtown, given_name="Ann", family_name="Okafor", height=None)
    session = _ready(schedule(nurse, no_height, depression, chair), nurse)
    with pytest.raises(ValidationError, match="Height is needed for an infusion order") as exc:
        s.order_create(user=nurse, session=session, expected_version=session.version)
    assert exc.value.field == "height"
    assert not fresh(session).orders.exists()


def test_order_from_the_dose_engine_with_pump_and_prediction(session, nurse, prescriber):
    session = _ready(session, nurse)
    order = s.order_create(user=nurse, session=session, expected_version=session.version)
    assert order.dose_mg == pytest.approx(35.0) and order.dose_mg_per_kg == pytest.approx(0.5)
    assert order.rate_ml_per_h == pytest.approx(
        151.1
    )  # (100 mL + 0.7 mL) / 40 min and order.duration_min == 40
    assert order.prediction["unit"] == "ng/mL" and len(order.prediction["curve"]) > 30
    assert order.warnings == [] and not order.signed
    signed = s.order_sign(user=prescriber, order=order, expected_version=fresh(session).version)
    assert signed.signed_by == prescriber


def test_a_soft_limit_needs_an_override_reason_to_sign(session, nurse, prescriber):
    session = _ready(session, nurse)
    order = s.order_create(user=nurse, session=session, expected_version=session.version, dose="1.2mg/kg")
    assert order.warnings
    with pytest.raises(ValidationError, match="a prescriber must give an override reason"):
        s.order_sign(user=prescriber, order=order, expected_version=fresh(session).version)
    with pytest.raises(ValidationError, match="at least 15 characters"):
        s.order_sign(
            user=prescriber, order=order, expected_version=fresh(session).version, override_reason="ok"
        )
    signed = s.order_sign(
        user=prescriber,
        order=order,
        expected_version=fresh(session).version,
        override_reason="Partial response at 1.0 mg/kg after 4 infusions",
    )
    assert signed.override_reason.startswith("Partial response")


def test_no_override_without_a_warning(session, nurse, prescriber):
    session = _ready(session, nurse)
    order = s.order_create(user=nurse, session=session, expected_version=session.version)
    with pytest.raises(ValidationError, match="nothing to override"):
        s.order_sign(
            user=prescriber,
            order=order,
            expected_version=fresh(session).version,
            override_reason="Because I want to override",
        )


def test_a_hard_limit_is_refused_for_anyone(session, nurse, prescriber):
    session = _ready(session, nurse)
    with pytest.raises(HardLimitError, match="hard limit"):
        s.order_create(user=prescriber, session=session, expected_version=session.version, dose="2.5mg/kg")
    assert not InfusionOrder.objects.exists()


def test_a_nurse_cannot_sign_and_signing_twice_is_refused(session, nurse, prescriber):
    session = _ready(session, nurse)
    order = s.order_create(user=nurse, session=session, expected_version=session.version)
    with pytest.raises(PermissionDenied):
        s.order_sign(user=nurse, order=order, expected_version=fresh(session).version)
    s.order_sign(user=prescriber, order=order, expected_version=fresh(session).version)
    with pytest.raises(ValidationError, match="already has an order signed by Prescriber Tester"):
        s.order_sign(user=prescriber, order=order, expected_version=fresh(session).version)
    with pytest.raises(ValidationError, match="already has an order signed"):
        s.order_create(user=nurse, session=fresh(session), expected_version=fresh(session).version)


def test_a_recalculation_supersedes_the_unsigned_order(session, nurse, prescriber):
    session = _ready(session, nurse)
    first = s.order_create(user=nurse, session=session, expected_version=session.version)
    s.order_create(
        user=nurse, session=fresh(session), expected_version=fresh(session).version, dose="0.6mg/kg"
    )
    with pytest.raises(ValidationError) as exc:
        s.order_sign(
            user=prescriber,
            order=InfusionOrder.objects.get(pk=first.pk),
            expected_version=fresh(session).version,
        )
    assert exc.value.message == s.ORDER_NOT_CURRENT


# --- running --------------------------------------------------------------------------------------------


def test_start_refused_without_order(session, nurse, prescriber):
    session = _ready(session, nurse)
    for code in (
        "identity_checked",
        "consent_on_file",
        "no_heavy_meal",
        "no_alcohol_drugs",
        "medications_reviewed",
        "escort_confirmed",
    ):
        s.checklist_record(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            code=code,
            answer="yes",
        )
    s.checklist_record(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        code="phq9_today",
        value=9,
    )
    s.checklist_record(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        code="pregnancy_status",
        answer="not_pregnant",
    )
    vitals(nurse, session, timezone.now())
    session = s.checklist_complete(
        user=nurse, session=fresh(session), expected_version=fresh(session).version
    )
    with pytest.raises(TransitionRefused) as exc:
        s.infusion_start(user=nurse, session=session, expected_version=session.version)
    assert exc.value.message == START_WITHOUT_SIGNED_ORDER


def test_start_twice_is_refused(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    with pytest.raises(TransitionRefused, match="Cannot start a session that is running"):
        s.infusion_start(user=nurse, session=session, expected_version=session.version)


def test_pause_resume_titrate_stop_and_the_delivered_dose(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    vial_check(prescriber, session)
    t0 = timezone.now()
    s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version, at=t0)
    advance_to(t0 + timedelta(minutes=10))
    s.infusion_pause(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        reason="Restroom",
        at=t0 + timedelta(minutes=10),
    )
    advance_to(t0 + timedelta(minutes=15))
    s.infusion_resume(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        at=t0 + timedelta(minutes=15),
    )
    advance_to(t0 + timedelta(minutes=25))
    e = s.infusion_rate_change(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        rate_mg_per_h=42.0,
        reason="BP rising",
        signer=prescriber,
        read_back=True,
        at=t0 + timedelta(minutes=25),
    )
    assert e.rate_ml_per_h == pytest.approx(
        round(42.0 / fresh(session).orders.get().concentration_mg_per_ml, 1)
    )
    advance_to(t0 + timedelta(minutes=45))
    s.infusion_stop(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        at=t0 + timedelta(minutes=45),
    )
    d = selectors.session_delivery(fresh(session))
    assert d.delivered_mg == pytest.approx(52.5 * 20 / 60 + 42.0 * 20 / 60, rel=1e-3)
    assert d.paused_min == pytest.approx(5) and d.elapsed_min == pytest.approx(45)
    ket = MedicationAdministration.objects.get(session=session, medication="ketamine")
    assert float(ket.dose) == pytest.approx(d.delivered_mg, abs=0.001) and ket.rxnorm == "6130"
    assert fresh(session).state == "recovering"


def test_titration_needs_a_prescriber_signer_and_a_reason(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    with pytest.raises(ValidationError) as exc:
        s.infusion_rate_change(
            user=nurse,
            session=session,
            expected_version=session.version,
            rate_mg_per_h=40,
            reason="BP",
            signer=nurse,
        )
    assert exc.value.message == s.SIGNER_NOT_PRESCRIBER.format(who=nurse)
    with pytest.raises(ValidationError) as exc:
        s.infusion_rate_change(
            user=nurse,
            session=session,
            expected_version=session.version,
            rate_mg_per_h=40,
            reason="  ",
            signer=prescriber,
            read_back=True,
        )
    assert exc.value.message == s.REASON_REQUIRED
    with pytest.raises(ValidationError) as exc:
        s.infusion_rate_change(
            user=nurse,
            session=session,
            expected_version=session.version,
            rate_mg_per_h=0,
            reason="stop it",
            signer=prescriber,
            read_back=True,
        )
    assert exc.value.message == s.RATE_NOT_POSITIVE


def test_a_signer_from_another_location_is_refused(session, nurse, prescriber, northside):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    elsewhere = make_staff("prescriber", northside, username="prescriber.far")
    with pytest.raises(ValidationError, match="does not work at this patient's location"):
        s.infusion_rate_change(
            user=nurse,
            session=session,
            expected_version=session.version,
            rate_mg_per_h=40,
            reason="BP rising",
            signer=elsewhere,
        )


def test_events_cannot_be_backdated_before_the_previous_or_be_in_the_future(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    with pytest.raises(ValidationError, match="is before the last pump event"):
        s.infusion_pause(
            user=nurse,
            session=session,
            expected_version=session.version,
            at=session.started_at - timedelta(minutes=1),
            backdate_reason="entered late",
        )
    with pytest.raises(ValidationError, match="is in the future"):
        s.infusion_pause(
            user=nurse,
            session=session,
            expected_version=session.version,
            at=timezone.now() + timedelta(minutes=10),
        )


# --- vital signs ------------------------------------------------------------------------------------------


def test_a_retried_post_returns_the_same_reading(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    cid = str(uuid.uuid4())
    first = s.vitals_record(user=nurse, session=session, client_id=cid, systolic_mmhg=190, diastolic_mmhg=90)
    again = s.vitals_record(user=nurse, session=session, client_id=cid, systolic_mmhg=190, diastolic_mmhg=90)
    assert first.created and not again.created
    assert again.reading.pk == first.reading.pk
    assert VitalSigns.objects.filter(client_id=cid).count() == 1
    assert VitalAlert.objects.filter(vitals=first.reading).count() == 1
    assert [a.pk for a in again.alerts] == [a.pk for a in first.alerts]


def test_a_client_id_of_another_session_is_refused(
    session, nurse, intake, prescriber, patient, depression, chair
):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    neighbour = register(intake, patient.location, given_name="Next", family_name="Chair")
    other = walk(schedule(nurse, neighbour, depression), "checked_in", nurse=nurse, prescriber=prescriber)
    cid = str(uuid.uuid4())
    s.vitals_record(user=nurse, session=session, client_id=cid, heart_rate_bpm=80)
    with pytest.raises(ValidationError) as exc:
        s.vitals_record(user=nurse, session=other, client_id=cid, heart_rate_bpm=80)
    assert exc.value.message == s.CLIENT_ID_OTHER_SESSION.format(value=cid)


def test_impossible_values_are_refused_with_the_range(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    with pytest.raises(ValidationError) as exc:
        s.vitals_record(user=nurse, session=session, client_id="x1", spo2_percent=120)
    assert exc.value.message == IMPLAUSIBLE.format(label="SpO2", value=120, unit="%", low=0, high=100)
    assert not VitalSigns.objects.filter(client_id="x1").exists()


def test_readings_in_the_future_or_before_check_in_are_refused(session, nurse, prescriber):
    with pytest.raises(ValidationError) as exc:
        s.vitals_record(user=nurse, session=session, client_id="a", heart_rate_bpm=70)
    assert exc.value.message == s.NOT_CHECKED_IN
    session = walk(
        session,
        "checked_in",
        nurse=nurse,
        prescriber=prescriber,
        start=timezone.now() - timedelta(minutes=30),
    )
    with pytest.raises(ValidationError, match="is in the future"):
        s.vitals_record(
            user=nurse,
            session=session,
            client_id="b",
            heart_rate_bpm=70,
            taken_at=timezone.now() + timedelta(minutes=5),
        )
    with pytest.raises(ValidationError, match="is before the patient checked in"):
        s.vitals_record(
            user=nurse,
            session=session,
            client_id="c",
            heart_rate_bpm=70,
            taken_at=session.checked_in_at - timedelta(minutes=1),
            backdate_reason="entered late",
        )


def test_a_client_id_is_required(session, nurse):
    with pytest.raises(ValidationError) as exc:
        s.vitals_record(user=nurse, session=session, client_id=" ", heart_rate_bpm=70)
    assert exc.value.message == s.CLIENT_ID_REQUIRED


def test_phases_and_alerts_only_once_infusing(session, nurse, prescriber):
    session = walk(session, "checked_in", nurse=nurse, prescriber=prescriber)
    base = vitals(nurse, session, timezone.now() - timedelta(minutes=3), systolic_mmhg=185)
    assert base.reading.phase == "baseline" and base.alerts == ()
    s.session_cancel(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        reason="Booked twice by mistake",
    )  # one infusion at a time
    session = walk(
        schedule(nurse, session.patient, session.protocol_version),
        "running",
        nurse=nurse,
        prescriber=prescriber,
    )
    during = vitals(nurse, session, timezone.now(), heart_rate_bpm=135)
    assert during.reading.phase == "infusion"
    assert [a.rule for a in during.alerts] == ["heart_rate_high"] and during.alerts[
        0
    ].suggested_action == "reduce_rate"


def test_alerts_are_acknowledged_once_and_block_discharge_until_then(session, nurse, prescriber, staff):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)
    posted = vitals(nurse, session, timezone.now(), spo2_percent=90)
    (alert,) = posted.alerts
    session = fresh(session)
    s.discharge_assess(
        user=nurse,
        session=session,
        expected_version=session.version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=2,
        escort_present=True,
        instructions_given=True,
    )
    with pytest.raises(ValidationError) as exc:
        s.session_discharge(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert exc.value.message == s.OPEN_ALERTS.format(rules="spo2_low")
    s.alert_acknowledge(user=nurse, alert=alert, note="Repositioned, O2 2 L; SpO2 97 at recheck")
    with pytest.raises(ValidationError, match="already acknowledged by Nurse Tester"):
        s.alert_acknowledge(user=prescriber, alert=alert)
    advance(2)
    recovery_vitals(nurse, session)  # the reading of SpO2 90 is not evidence for discharge: a new set is
    session = fresh(session)
    s.discharge_assess(
        user=nurse,
        session=session,
        expected_version=session.version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=2,
        escort_present=True,
        instructions_given=True,
    )
    assert (
        s.session_discharge(user=nurse, session=fresh(session), expected_version=fresh(session).version).state
        == "discharged"
    )


def test_no_readings_after_discharge(session, nurse, prescriber):
    session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    with pytest.raises(ValidationError) as exc:
        s.vitals_record(user=nurse, session=session, client_id="late", heart_rate_bpm=70)
    assert exc.value.message == s.SESSION_CLOSED.format(state="discharged")


# --- events and administrations ---------------------------------------------------------------------------


def test_adverse_event_and_rescue_medication(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    ev = s.adverse_event_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        kind="nausea",
        severity="moderate",
        notes="Nauseous at 20 min",
    )
    given = s.administration_record(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        medication="ondansetron",
        dose="4",
        unit="mg",
        route="iv",
        reason="Nausea",
        adverse_event=ev,
    )
    assert given.adverse_event == ev and given.rxnorm == ""
    with pytest.raises(ValidationError, match="Adverse event 'hiccups' is unknown"):
        s.adverse_event_record(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            kind="hiccups",
            severity="mild",
        )
    with pytest.raises(ValidationError) as exc:
        s.adverse_event_record(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            kind="other",
            severity="mild",
        )
    assert exc.value.message == s.OTHER_NEEDS_NOTES
    with pytest.raises(ValidationError, match="Route 'rectal' is unknown"):
        s.administration_record(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            medication="midazolam",
            dose="1",
            unit="mg",
            route="rectal",
        )


# --- recovery, discharge and the note ---------------------------------------------------------------------


def test_discharge_before_the_observation_minimum_is_refused(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    vial_check(prescriber, session)
    t0 = timezone.now()
    s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version, at=t0)
    advance_to(t0 + timedelta(minutes=40))
    s.infusion_stop(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        at=t0 + timedelta(minutes=40),
    )
    advance_to(t0 + timedelta(minutes=50))
    vitals(nurse, session, timezone.now())
    a = s.discharge_assess(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=2,
        escort_present=True,
        instructions_given=True,
    )
    assert not a.fit and a.reasons[-1].startswith("observation 10 min is shorter than the protocol's 30 min")
    with pytest.raises(TransitionRefused, match="cannot be discharged yet: 10 of the protocol's 30 min"):
        s.session_discharge(user=nurse, session=fresh(session), expected_version=fresh(session).version)


def test_discharge_needs_an_escort(session, nurse, prescriber):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)
    vitals(nurse, session, timezone.now())
    session = fresh(session)
    a = s.discharge_assess(
        user=nurse,
        session=session,
        expected_version=session.version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=2,
        escort_present=False,
        instructions_given=True,
    )
    assert not a.fit and "no escort present" in a.reasons[0]
    with pytest.raises(TransitionRefused, match="no escort present"):
        s.session_discharge(user=nurse, session=fresh(session), expected_version=fresh(session).version)


def test_discharge_while_running_is_refused(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    with pytest.raises(TransitionRefused, match="Cannot discharge a session that is running"):
        s.session_discharge(user=nurse, session=session, expected_version=session.version)
    with pytest.raises(ValidationError, match="while the patient recovers"):
        s.discharge_assess(
            user=nurse,
            session=session,
            expected_version=session.version,
            activity_mental_status=2,
            pain=2,
            nausea_vomiting=2,
            intake_output=2,
            escort_present=True,
            instructions_given=True,
        )


def test_the_note_is_generated_signed_locked_and_amended(session, nurse, prescriber):
    session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    note = s.note_generate(user=nurse, session=session, expected_version=session.version)
    assert "Order: ketamine 35.0 mg" in note.text and "PADSS 9/10" in note.text and "Discharged" in note.text
    with pytest.raises(ValidationError) as exc:
        s.note_addendum_add(user=nurse, session=session, text="x", reason="y")
    assert exc.value.message == s.NOTE_NOT_SIGNED
    signed = s.note_sign(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert signed.signed_by == nurse
    with pytest.raises(ValidationError, match="add an addendum instead"):
        s.note_generate(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    with pytest.raises(ValidationError, match="add an addendum instead"):
        s.note_sign(user=prescriber, session=fresh(session), expected_version=fresh(session).version)
    add = s.note_addendum_add(
        user=prescriber,
        session=session,
        text="Escort was her sister, not her brother.",
        reason="Correction of escort relation",
    )
    assert add.created_by == prescriber and add.note == signed
    assert AuditEntry.objects.filter(action="sign", summary="Signed the session note").count() == 1


def test_note_before_discharge_is_refused(session, nurse, prescriber):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    with pytest.raises(ValidationError) as exc:
        s.note_generate(user=nurse, session=session, expected_version=session.version)
    assert exc.value.message == s.NOTE_WRONG_STATE.format(state="recovering")


def test_cancel_needs_a_reason_and_only_before_start(session, nurse, prescriber):
    with pytest.raises(ValidationError):
        s.session_cancel(user=nurse, session=session, expected_version=1, reason=" ")
    assert (
        s.session_cancel(user=nurse, session=session, expected_version=1, reason="Patient unwell").state
        == "cancelled"
    )


# --- permissions and audit ------------------------------------------------------------------------------


def test_staff_of_another_location_are_refused(session, northside):
    far = make_staff("nurse", northside, username="nurse.far")
    with pytest.raises(OutsideLocations):
        s.session_check_in(user=far, session=session, expected_version=1)


def test_billing_cannot_run_a_session(session, staff):
    with pytest.raises(PermissionDenied, match="may not run infusion sessions"):
        s.vitals_record(user=staff["billing"], session=session, client_id="z", heart_rate_bpm=70)


def test_every_action_is_audited_against_the_patient(session, nurse, prescriber, patient):
    walk(session, "signed", nurse=nurse, prescriber=prescriber)
    summaries = list(
        AuditEntry.objects.filter(patient_external_id=patient.external_id).values_list("summary", flat=True)
    )
    for expected in (
        "Scheduled infusion session",
        "Checked in",
        "Calculated infusion order",
        "Signed infusion order",
        "Pre-infusion checklist passed",
        "Started the infusion",
        "Recorded vital signs (infusion)",
        "Stopped the infusion",
        "Discharge assessment: PADSS 9/10",
        "Discharged home",
        "Signed the session note",
    ):
        assert any(x.startswith(expected) for x in summaries), expected


def test_an_esketamine_session_records_its_doses_and_observes_two_hours(
    nurse, prescriber, patient, protocols
):
    from tests.infusions.conftest import CONFIRM

    esk = protocols["esketamine-nasal"]
    session = schedule(nurse, patient, esk)
    session = s.session_check_in(
        user=nurse, session=session, expected_version=1, at=timezone.now() - timedelta(minutes=100)
    )
    vitals(nurse, session, timezone.now())
    answers: list[dict[str, Any]] = [{"code": c, "answer": "yes"} for c in CONFIRM] + [
        {"code": "weight_today", "value": "70", "unit": "kg"},
        {"code": "phq9_today", "value": 20},
        {"code": "pregnancy_status", "answer": "not_pregnant"},
    ]
    for answer in answers:
        s.checklist_record(
            user=nurse, session=fresh(session), expected_version=fresh(session).version, **answer
        )
    order = s.order_create(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert (
        order.route == "intranasal"
        and order.dose_mg == 56
        and order.rate_ml_per_h is None
        and order.prediction is None
    )
    s.order_sign(user=prescriber, order=order, expected_version=fresh(session).version)
    session = s.checklist_complete(
        user=nurse, session=fresh(session), expected_version=fresh(session).version
    )
    start = timezone.now()
    s.infusion_start(user=nurse, session=session, expected_version=session.version, at=start)
    advance_to(start + timedelta(minutes=5))
    for n in range(2):
        s.administration_record(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            medication="esketamine",
            dose="28",
            unit="mg",
            route="intranasal",
            at=start + timedelta(minutes=5 * n),
            reason=f"Device {n + 1} of 2",
        )
    with pytest.raises(ValidationError) as exc:
        s.infusion_rate_change(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            rate_mg_per_h=10,
            reason="no pump",
            signer=prescriber,
            read_back=True,
        )
    assert exc.value.message == s.NO_PUMP.format(route="intranasal")
    advance_to(start + timedelta(minutes=10))
    s.infusion_stop(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        at=start + timedelta(minutes=10),
    )
    advance_to(start + timedelta(minutes=90))
    assert not MedicationAdministration.objects.filter(session=session, medication="ketamine").exists()
    vitals(nurse, session, timezone.now())
    a = s.discharge_assess(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=2,
        escort_present=True,
        instructions_given=True,
    )
    assert not a.fit and a.reasons == ["observation 80 min is shorter than the protocol's 120 min"]


def test_while_paused_the_rate_cannot_change_and_resume_restores_the_rate(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    s.infusion_pause(user=nurse, session=session, expected_version=session.version, reason="Nausea")
    with pytest.raises(TransitionRefused, match="Cannot pause a session that is paused"):
        s.infusion_pause(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    with pytest.raises(ValidationError) as exc:
        s.infusion_rate_change(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            rate_mg_per_h=30,
            reason="lower",
            signer=prescriber,
        )
    assert exc.value.message == s.RATE_WHILE_RUNNING.format(state="paused")
    resumed = s.infusion_resume(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert resumed.rate_mg_per_h == pytest.approx(52.5, rel=1e-3)


def test_an_addendum_needs_text_and_reason(session, nurse, prescriber):
    session = walk(session, "signed", nurse=nurse, prescriber=prescriber)
    with pytest.raises(ValidationError) as exc:
        s.note_addendum_add(user=prescriber, session=session, text=" ", reason="why")
    assert exc.value.message == s.ADDENDUM_TEXT_REQUIRED
    with pytest.raises(ValidationError) as exc:
        s.note_addendum_add(user=prescriber, session=session, text="More", reason=" ")
    assert exc.value.message == s.REASON_REQUIRED
    with pytest.raises(PermissionDenied):
        s.note_addendum_add(
            user=nurse.__class__.objects.get(role="intake"), session=session, text="x", reason="y"
        )


def test_a_session_needs_a_protocol(nurse, patient):
    with pytest.raises(ValidationError) as exc:
        s.session_schedule(user=nurse, patient=patient, scheduled_start=timezone.now())
    assert exc.value.message == s.NO_PROTOCOL


def test_a_concurrent_retry_that_loses_the_race_returns_the_winners_reading(
    session, nurse, prescriber, monkeypatch
):
    """Two posts of one reading at once: the loser hits the unique client_id and answers with the stored
    one."""
    from django.db import IntegrityError

    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    winner = s.vitals_record(user=nurse, session=session, client_id="race", heart_rate_bpm=80)

    def lose(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: infusions_vitalsigns.client_id")

    monkeypatch.setattr(services_vitals, "_vitals_record", lose)  # where vitals_record looks it up
    loser = s.vitals_record(user=nurse, session=session, client_id="race", heart_rate_bpm=80)
    assert not loser.created and loser.reading.pk == winner.reading.pk
    with pytest.raises(IntegrityError):
        s.vitals_record(user=nurse, session=session, client_id="never-stored", heart_rate_bpm=80)


def test_a_session_from_a_planned_infusion_marks_it_done_at_discharge(
    nurse, prescriber, intake, patient, depression, chair, downtown
):
    from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
    from ketaclinic.screening.services import screening_sign
    from tests.accounts.conftest import refer, screen

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
    planned = PlannedInfusion.objects.create(
        plan=plan,
        sequence=1,
        scheduled_start=timezone.now() - timedelta(hours=3),
        location=patient.location,
        chair=chair,
    )
    session = s.session_schedule(
        user=nurse, patient=patient, planned_infusion=planned, scheduled_start=planned.scheduled_start
    )
    assert session.protocol_version == depression and session.chair == chair
    with pytest.raises(ValidationError) as exc:
        s.session_schedule(
            user=nurse, patient=patient, planned_infusion=planned, scheduled_start=planned.scheduled_start
        )
    assert exc.value.message == s.PLANNED_HAS_SESSION
    sibling = register(intake, downtown, given_name="Ana", family_name="Garcia", birth_date=date(1990, 1, 2))
    with pytest.raises(ValidationError) as exc:
        s.session_schedule(
            user=nurse, patient=sibling, planned_infusion=planned, scheduled_start=planned.scheduled_start
        )
    assert exc.value.message == s.PLANNED_OTHER_PATIENT
    walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    assert PlannedInfusion.objects.get(pk=planned.pk).status == "done"


def test_interacting_medications_are_shown_for_review_and_noted(session, nurse, prescriber, patient, intake):
    from ketaclinic.patients.services import medication_record

    medication_record(user=intake, patient=patient, name="lorazepam", dose="0.5 mg at night")
    medication_record(user=intake, patient=patient, name="sertraline", dose="100 mg")
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    (advice,) = selectors.session_detail(user=nurse, session=session).interacting_medications
    assert advice.startswith("lorazepam: Benzodiazepine")
    r = s.checklist_record(
        user=nurse, session=session, expected_version=2, code="medications_reviewed", answer="yes"
    )
    assert r.detail == advice


def test_the_note_reads_in_the_locations_time_zone_whatever_the_server_uses(
    session, nurse, prescriber, settings
):
    """A Los Angeles session's note once read in New York time (the server's zone)."""
    from zoneinfo import ZoneInfo

    settings.TIME_ZONE = "America/New_York"
    location = session.location
    location.timezone = "America/Los_Angeles"
    location.save(update_fields=["timezone"])
    session = walk(fresh(session), "discharged", nurse=nurse, prescriber=prescriber)
    note = s.note_generate(user=nurse, session=session, expected_version=session.version)
    la = ZoneInfo("America/Los_Angeles")
    started = session.started_at.astimezone(la).strftime("%H:%M")
    ended = session.ended_at.astimezone(la).strftime("%H:%M")
    assert f"Infusion {started}–{ended}" in note.text
    assert f"Discharged {session.discharged_at.astimezone(la):%H:%M}." in note.text
    assert "(times in Los Angeles time, P" in note.text  # the zone in words (PST or PDT), never its key
    assert "America/" not in note.text
    signed = s.note_sign(user=prescriber, session=fresh(session), expected_version=fresh(session).version)
    with pytest.raises(ValidationError) as exc:  # the refusal, too, is on the chair's clock
        s.note_generate(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert f"at {signed.signed_at.astimezone(la):%Y-%m-%d %H:%M}" in exc.value.message
