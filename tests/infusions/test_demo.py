"""The demo clinic shows today's sessions in every state at both locations."""

from __future__ import annotations

import pytest

from ketaclinic.accounts.models import Location, User
from ketaclinic.infusions import selectors
from ketaclinic.infusions.models import SessionNote, VitalAlert
from ketaclinic.web.demo import demo_load

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_loaded")]

EVERY_STATE = {"scheduled", "checked_in", "prechecks_done", "running", "recovering", "discharged"}


def test_the_demo_board_has_every_state_at_both_locations():
    rivera = User.objects.get(username="dr.rivera")
    for location in Location.objects.filter(kind=Location.Kind.CLINIC):
        board = selectors.day_board(user=rivera, location=location)
        assert {r.state.value for r in board.rows} == EVERY_STATE, location
        assert any(r.session.at_home for r in board.rows)
        running = next(r for r in board.rows if r.state.value == "running")
        alerts = VitalAlert.objects.filter(session=running.session)
        assert alerts.count() == 1 and alerts.get().acknowledged_at is not None
        assert running.session.rate_events.filter(kind="rate").exists()
        discharged = next(r for r in board.rows if r.state.value == "discharged")
        assert SessionNote.objects.get(session=discharged.session).signed
    assert not demo_load()  # idempotent


def test_the_demo_board_has_planned_slots_to_check_in_and_the_open_safety_flag():
    from ketaclinic.consent.selectors import consent_on_file
    from ketaclinic.outcomes.models import SafetyFlag

    rivera = User.objects.get(username="dr.rivera")
    boards = {loc.code: selectors.day_board(user=rivera, location=loc) for loc in Location.objects.all()}
    downtown = boards["downtown"]
    assert any(s.planned.chair is not None for s in downtown.slots)  # a chair slot not checked in yet
    assert any(s.planned.at_home for s in boards["mobile"].slots)  # a home visit not started yet
    assert all(s.number.endswith(" of 6") for b in boards.values() for s in b.slots)
    flag = SafetyFlag.objects.get(status="open")
    assert flag.patient.location.code == "downtown"  # on the board of the README's screenshot
    board = boards[flag.patient.location.code]
    assert flag in board.flags and any(s.flagged for s in board.slots)
    # Every session past the checklist has the patient's signed consent; no patient is on the board twice.
    for b in boards.values():
        for r in b.rows:
            if r.state.value not in ("scheduled", "checked_in"):
                assert consent_on_file(r.session.patient, at=r.session.prechecks_done_at).ok
        names = [r.session.patient_id for r in b.rows] + [s.patient.pk for s in b.slots]
        assert len(names) == len(set(names))


def test_the_demo_prescriber_has_an_overdue_and_a_due_soon_rems_form():
    rivera = User.objects.get(username="dr.rivera")
    forms = selectors.rems_forms_due(user=rivera)
    assert [(f.deadline.days_overdue, f.due_soon, f.confirmed) for f in forms] == [
        (2, False, False),
        (0, True, True),
    ]
    overdue = forms[0].session
    assert not SessionNote.objects.get(session=overdue).signed  # the note waits for the form
    missing = selectors.rems_missing_items(overdue)
    assert (
        missing[0].startswith("Device lot numbers")
        and missing[-1] == "The prescriber has not confirmed the form yet"
    )
    assert selectors.rems_missing_items(forms[1].session) == ()
