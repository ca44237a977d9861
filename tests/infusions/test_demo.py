"""The demo clinic shows today's sessions in every state at both locations."""

from __future__ import annotations

import pytest

from ketaclinic.accounts.models import Location, User
from ketaclinic.infusions import selectors
from ketaclinic.infusions.models import SessionNote, VitalAlert
from ketaclinic.web.demo import demo_load

pytestmark = pytest.mark.django_db

EVERY_STATE = {"scheduled", "checked_in", "prechecks_done", "running", "recovering", "discharged"}


def test_the_demo_board_has_every_state_at_both_locations():
    assert demo_load()
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
