"""The home-safety items of the pre-infusion checklist: asked at a home session only, and the pre-checks do
not pass (so the infusion cannot start) until each is answered "yes"; nobody can override them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import NOT_OVERRIDABLE
from ketaclinic.core.infusion.home_safety import HOME_SAFETY_CODES, HOME_SAFETY_ITEMS
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.services.checklist import CHECKLIST_FAILED
from tests.infusions.conftest import consent_sign, ensure_plan, fresh, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def home_session(nurse, patient, depression):
    patient.address = "12 Beacon St"
    patient.save()
    consent_sign(nurse, patient)
    ensure_plan(patient)
    return s.session_schedule(
        user=nurse,
        patient=patient,
        protocol_version=depression,
        at_home=True,
        scheduled_start=timezone.now() - timedelta(minutes=160),
        added_reason="Home visit today",
    )


def test_a_clinic_session_is_not_asked_the_home_items(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    codes = {i.code for i in selectors.checklist_result(session).items}
    assert session.state == SessionState.PRECHECKS_DONE and not codes & set(HOME_SAFETY_CODES)


def test_a_home_session_does_not_pass_the_prechecks_without_the_home_items(home_session, nurse, prescriber):
    with pytest.raises(ValidationError) as exc:
        walk(home_session, "prechecks_done", nurse=nurse, prescriber=prescriber, home_safety=False)
    assert exc.value.message == CHECKLIST_FAILED.format(
        items=", ".join(f"{code} missing" for code in HOME_SAFETY_CODES)
    )
    session = fresh(home_session)
    assert session.state == SessionState.CHECKED_IN and session.prechecks_done_at is None


def test_a_no_to_the_responsible_adult_keeps_the_session_from_starting(home_session, nurse, prescriber):
    with pytest.raises(ValidationError):
        walk(home_session, "prechecks_done", nurse=nurse, prescriber=prescriber, home_safety=False)
    session = fresh(home_session)
    for code in HOME_SAFETY_CODES:
        answer = "no" if code == "home_responsible_adult" else "yes"
        s.checklist_record(
            user=nurse, session=session, expected_version=session.version, code=code, answer=answer
        )
        session = fresh(session)
    with pytest.raises(ValidationError, match="home_responsible_adult failed"):
        s.checklist_complete(user=nurse, session=session, expected_version=session.version)
    with pytest.raises(ValidationError) as exc:
        s.checklist_override(
            user=prescriber,
            session=session,
            expected_version=session.version,
            code="home_responsible_adult",
            reason="Neighbour will look in every hour",
        )
    assert exc.value.message == NOT_OVERRIDABLE.format(question=HOME_SAFETY_ITEMS[0].question)
    s.checklist_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        code="home_responsible_adult",
        answer="yes",
    )
    session = fresh(session)
    session = s.checklist_complete(user=nurse, session=session, expected_version=session.version)
    assert session.state == SessionState.PRECHECKS_DONE


def test_the_session_page_asks_the_home_items_at_home(home_session, nurse, prescriber, client_for):
    session = walk(home_session, "checked_in", nurse=nurse, prescriber=prescriber)
    body = client_for(nurse).get(f"/sessions/{session.external_id}/").content.decode()
    for item in HOME_SAFETY_ITEMS:
        assert item.question in body
