"""No infusion outside the pathway, and safety flags reach the chair (service, pages, email, the demo)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.outcomes.models import SafetyFlag
from tests.infusions.conftest import consent_sign, ensure_plan, fresh, schedule, vial_check, walk

pytestmark = pytest.mark.django_db


def test_a_never_screened_patient_cannot_be_booked_under_any_protocol(nurse, patient, protocols):
    consent_sign(nurse, patient)
    for protocol in ("crps-schwartzman", "depression-standard"):
        with pytest.raises(ValidationError) as exc:
            s.session_schedule(
                user=nurse,
                patient=patient,
                protocol_version=protocols[protocol],
                scheduled_start=timezone.now(),
                added_reason="Walk-in",
            )
        assert "no active signed treatment plan" in exc.value.message
    assert not InfusionSession.objects.filter(patient=patient).exists()


def test_a_not_eligible_patient_gets_no_plan_and_so_no_infusion(staff, nurse, patient, protocols):
    from ketaclinic.screening.services import screening_sign
    from tests.accounts.conftest import refer, screen

    screening_sign(
        user=staff[Role.PRESCRIBER],
        screening=screen(staff[Role.INTAKE], patient, refer(staff[Role.INTAKE], patient)),
        outcome="not_eligible",
        note="Active substance use disclosed at interview.",
    )
    with pytest.raises(ValidationError, match="no active signed treatment plan"):
        schedule(nurse, patient, protocols["depression-standard"], plan=False)


def test_a_session_under_a_protocol_for_another_indication_is_refused(nurse, patient, protocols):
    ensure_plan(patient)  # a TRD plan
    consent_sign(nurse, patient)
    with pytest.raises(ValidationError) as exc:
        s.session_schedule(
            user=nurse,
            patient=patient,
            protocol_version=protocols["crps-schwartzman"],
            scheduled_start=timezone.now(),
            added_reason="Pain flare",
        )
    assert "not written for the screened indication" in exc.value.message


def test_a_second_infusion_the_same_day_is_refused_while_the_first_is_recovering(
    session, nurse, prescriber, depression
):
    walk(
        session,
        "recovering",
        nurse=nurse,
        prescriber=prescriber,
        start=timezone.now() - timedelta(minutes=100),
    )
    with pytest.raises(ValidationError) as exc:
        schedule(nurse, session.patient, depression, when=timezone.now())
    assert "at least 48 h between infusions" in exc.value.message
    assert InfusionSession.objects.filter(patient=session.patient).count() == 1


def test_an_open_urgent_flag_shows_at_the_chair_and_blocks_the_start_until_assessed(
    session, nurse, prescriber, patient, client_for, staff
):
    from ketaclinic.outcomes.services import response_record, safety_flag_assess
    from tests.jobs.runner import run_ready_jobs
    from tests.outcomes.conftest import phq9

    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    prescriber.email = "dr.tester@clinic.example.org"
    prescriber.save(update_fields=["email"])
    mail.outbox.clear()
    response_record(user=nurse, patient=patient, instrument="phq9", answers=phq9(18, item9=2))
    flag = SafetyFlag.objects.get(patient=patient, status="open")
    assert mail.outbox == [] and run_ready_jobs() >= 1  # the prescriber's email goes through the worker
    assert len(mail.outbox) >= 1 and "needs your review" in mail.outbox[0].subject
    assert "item 9" not in mail.outbox[0].body.lower()  # nothing clinical in the email
    vial_check(prescriber, session)  # the independent check of the bag, by a second clinician
    page = client_for(nurse).get(f"/sessions/{session.external_id}/").content.decode()
    assert 'data-testid="safety-flag"' in page and "no infusion until a prescriber" in page
    with pytest.raises(ValidationError) as exc:
        s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert "urgent safety flag is open" in exc.value.message and fresh(session).state == "prechecks_done"
    safety_flag_assess(
        user=prescriber,
        flag=flag,
        assessment="Passive ideation, no plan or intent; safe to proceed.",
        plan="Safety plan reviewed; follow-up call tomorrow; proceed with infusion.",
    )
    s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert fresh(session).state == "running"


def test_no_demo_patient_is_infused_outside_the_pathway():
    from ketaclinic.web.demo import demo_load

    assert demo_load()
    for session in InfusionSession.objects.exclude(started_at=None).select_related(
        "patient", "treatment_plan__screening"
    ):
        plan = session.treatment_plan
        assert plan is not None and plan.status in ("active", "completed"), session
        assert plan.screening.status == "signed" and plan.screening.signed_outcome == "eligible"
        assert plan.indication in [str(i) for i in session.protocol_version.parsed.indications]
        assert session.planned_infusion_id is not None or session.added_reason
        assert not SafetyFlag.objects.filter(patient=session.patient, status="open").exists(), session
        same_day = InfusionSession.objects.filter(patient=session.patient, started_at__isnull=False).exclude(
            pk=session.pk
        )
        assert not same_day.filter(
            started_at__gt=session.started_at - timedelta(hours=48),
            started_at__lt=session.started_at + timedelta(hours=48),
        ).exists()


def test_the_note_states_the_patients_safety_flags(session, nurse, prescriber, patient):
    """The signed note says whether an urgent flag was open, and what the prescriber assessed and planned
    for one assessed during the visit; a note of a patient without one says none is open."""
    from ketaclinic.infusions import selectors
    from ketaclinic.outcomes.services import response_record, safety_flag_assess
    from tests.outcomes.conftest import phq9

    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    note = selectors.note_text(fresh(session))
    assert "Safety flags: none open." in note
    # the header names the clinic's time zone in words (and its abbreviation that day), not its key
    assert "America/New_York" not in note and "(times in New York time, E" in note.splitlines()[0]
    response_record(user=nurse, patient=patient, instrument="phq9", answers=phq9(18, item9=2))
    flag = SafetyFlag.objects.get(patient=patient, status="open")
    text = selectors.note_text(fresh(session))
    assert "Safety flag OPEN" in text and "Not yet assessed" in text and "none open" not in text
    safety_flag_assess(
        user=prescriber,
        flag=flag,
        assessment="Passive ideation, no plan or intent.",
        plan="Safety plan reviewed; call tomorrow.",
    )
    text = selectors.note_text(fresh(session))
    assert f"Assessed by {prescriber}" in text and "Plan: Safety plan reviewed; call tomorrow." in text
    assert "OPEN" not in text
