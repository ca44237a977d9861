"""Discharge on evidence: a complete, recent set of vital signs after the stop, within the thresholds; a fit
assessment voided by a later reading; severe adverse events notify the prescriber and block discharge until
reviewed. Regression tests for the cases seen in the demo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.discharge import NEEDS_BASELINE, RECOVERY_NONE
from ketaclinic.core.infusion.state import TransitionRefused
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import AdverseEvent
from tests.clock import advance
from tests.infusions.conftest import fresh, recovery_vitals, vitals, walk
from tests.jobs.runner import run_ready_jobs

pytestmark = pytest.mark.django_db


def assess(nurse, session):
    session = fresh(session)
    return s.discharge_assess(
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


def discharge(nurse, session):
    session = fresh(session)
    return s.session_discharge(user=nurse, session=session, expected_version=session.version)


def ack_all(nurse, session) -> None:
    for alert in fresh(session).alerts.filter(acknowledged_at__isnull=True):
        s.alert_acknowledge(user=nurse, alert=alert, note="Seen, rechecking")


def test_fit_then_hypertensive_tachycardic_reading_voids_the_assessment_regression(
    session, nurse, prescriber
):
    """Seen: "fit" assessed, then BP 195/115 and HR 135 recorded — still discharged."""
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    recovery_vitals(nurse, session, minutes_ago=3)
    assert assess(nurse, session).fit
    vitals(
        nurse,
        session,
        timezone.now() - timedelta(minutes=1),
        systolic_mmhg=195,
        diastolic_mmhg=115,
        heart_rate_bpm=135,
    )
    ack_all(nurse, session)  # even with every alert acknowledged
    with pytest.raises(TransitionRefused) as exc:
        discharge(nurse, session)
    assert "the fit assessment is void: the reading BP 195/115 mmHg, HR 135/min" in exc.value.message
    assert fresh(session).state == "recovering"


def test_a_reading_taken_during_the_infusion_is_not_recovery_evidence_regression(session, nurse, prescriber):
    """Seen: a 60-minute-old reading taken during the infusion counted as recovery vitals."""
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    a = assess(nurse, session)
    assert not a.fit and RECOVERY_NONE in a.reasons
    with pytest.raises(
        TransitionRefused, match="no complete set of vital signs taken after the infusion stopped"
    ):
        discharge(nurse, session)


def test_an_hr_only_reading_gives_no_deviation_regression(session, nurse, prescriber):
    """Seen: an HR-only reading gave "0 % deviation"."""
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    vitals(
        nurse,
        session,
        timezone.now() - timedelta(minutes=1),
        systolic_mmhg=None,
        diastolic_mmhg=None,
        spo2_percent=None,
        respiratory_rate_per_min=None,
        sedation=None,
    )
    a = assess(nurse, session)
    assert not a.fit and a.deviation_percent is None
    assert RECOVERY_NONE in a.reasons and NEEDS_BASELINE in a.reasons


def test_recovery_vitals_older_than_the_window_are_refused(session, nurse, prescriber):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    recovery_vitals(nurse, session, minutes_ago=1)
    advance(20)  # that set is now 21 min old
    a = assess(nurse, session)
    assert not a.fit and any("min ago; a set taken within the last 15 min is needed" in r for r in a.reasons)
    recovery_vitals(nurse, session, minutes_ago=1)
    assert assess(nurse, session).fit
    assert discharge(nurse, session).state == "discharged"


def test_a_recent_set_beyond_the_hold_thresholds_is_not_fit(session, nurse, prescriber):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    recovery_vitals(nurse, session, spo2_percent=88)
    a = assess(nurse, session)
    assert not a.fit and any("SpO2 88%" in r and "outside the discharge thresholds" in r for r in a.reasons)


# --- severe adverse events -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "desaturation_apnoea",
        "chest_pain",
        "allergic_reaction",
        "fall",
        "seizure",
        "emergence_reaction_severe",
    ],
)
def test_a_severe_adverse_event_notifies_and_blocks_discharge_until_reviewed(
    session, nurse, prescriber, kind
):
    prescriber.email = "prescriber@clinic.example"
    prescriber.save()
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    mail.outbox.clear()
    event = s.adverse_event_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        kind=kind,
        severity="moderate",
        notes="Seen by the nurse at the chair",
    )
    assert event.needs_review and event.reviewed_at is None
    assert mail.outbox == [] and run_ready_jobs() == 1  # the email goes through the worker
    assert [m.to for m in mail.outbox] == [["prescriber@clinic.example"]]
    assert "review" in mail.outbox[0].subject and event.get_kind_display() in mail.outbox[0].body
    assert mail.outbox[0].body.count(session.patient.family_name) == 0  # nothing identifying in an email
    assert AuditEntry.objects.filter(summary__endswith="notified by email (sent)").exists()
    recovery_vitals(nurse, session)
    assert assess(nurse, session).fit
    with pytest.raises(TransitionRefused, match="not yet reviewed by a prescriber"):
        discharge(nurse, session)
    with pytest.raises(PermissionDenied):
        s.adverse_event_review(user=nurse, event=event, note="Resolved, patient comfortable")
    with pytest.raises(ValidationError) as exc:
        s.adverse_event_review(user=prescriber, event=event, note="ok")
    assert exc.value.message == s.REVIEW_NOTE_SHORT.format(low=10)
    reviewed = s.adverse_event_review(user=prescriber, event=event, note="Assessed at the chair; resolved")
    assert reviewed.reviewed_by == prescriber and reviewed.review_note == "Assessed at the chair; resolved"
    with pytest.raises(ValidationError) as exc:
        s.adverse_event_review(user=prescriber, event=event, note="Second review, should not happen")
    assert exc.value.message == s.ADVERSE_NO_REVIEW
    assert discharge(nurse, session).state == "discharged"


def test_a_mild_common_event_needs_no_review(session, nurse, prescriber):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    mail.outbox.clear()
    event = s.adverse_event_record(
        user=nurse, session=session, expected_version=session.version, kind="nausea", severity="mild"
    )
    assert not event.needs_review and run_ready_jobs() == 0 and mail.outbox == []
    recovery_vitals(nurse, session)
    assess(nurse, session)
    assert discharge(nurse, session).state == "discharged"


def test_the_database_lets_a_review_be_set_once_and_nothing_else(session, nurse, prescriber):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    event = s.adverse_event_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        kind="fall",
        severity="mild",
        notes="Slipped getting up",
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AdverseEvent.objects.filter(pk=event.pk).update(kind="nausea")
    with pytest.raises(DatabaseError), transaction.atomic():
        AdverseEvent.objects.filter(pk=event.pk).delete()
    s.adverse_event_review(user=prescriber, event=event, note="No injury; observed 30 min")
    with pytest.raises(DatabaseError), transaction.atomic():
        AdverseEvent.objects.filter(pk=event.pk).update(review_note="edited later")
