"""A whole session, scheduled to signed note, through the services."""

from __future__ import annotations

import pytest

from ketaclinic.infusions.models import MedicationAdministration, SessionNote
from tests.infusions.conftest import walk

pytestmark = pytest.mark.django_db


def test_a_whole_session_ends_with_a_signed_note(session, nurse, prescriber):
    done = walk(session, "signed", nurse=nurse, prescriber=prescriber)
    assert done.state == "discharged"
    note = SessionNote.objects.get(session=done)
    assert note.signed
    ketamine = MedicationAdministration.objects.get(session=done, medication="ketamine")
    assert float(ketamine.dose) == pytest.approx(35.0, rel=0.01)
    assert "35.0 mg" in note.text
