"""A megabyte addendum (issue 10, item 5): an addendum is permanent and append-only, so its length is
bounded."""

from __future__ import annotations

import pytest

from ketaclinic.core.input_rules import ADDENDUM_MAX
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import NoteAddendum
from tests.infusions.conftest import fresh, walk

pytestmark = pytest.mark.django_db


def test_a_megabyte_addendum_is_refused_on_the_page_and_the_api(session, nurse, prescriber, client_for):
    session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    s.note_generate(user=nurse, session=session, expected_version=session.version)
    s.note_sign(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    client = client_for(prescriber)
    huge = "x" * 1_000_000
    api = client.post(
        f"/api/sessions/{session.external_id}/note/addenda",
        {"text": huge, "reason": "Correction"},
        content_type="application/json",
    )
    assert api.status_code == 422 and api.json()["error"]["field"] == "text"
    assert f"at most {ADDENDUM_MAX} characters" in api.json()["error"]["message"]
    page = client.post(
        f"/sessions/{session.external_id}/note/addendum/", {"text": huge, "reason": "Correction"}
    )
    assert page.status_code == 400
    assert (
        "Addendum text is 1,000,000 characters long; the maximum is 10,000 characters."
        in page.content.decode()
        or "is 1,000,000 characters long; the maximum is 10,000 characters." in page.content.decode()
    )
    assert NoteAddendum.objects.count() == 0
    ok = client.post(
        f"/api/sessions/{session.external_id}/note/addenda",
        {"text": "x" * ADDENDUM_MAX, "reason": "Long"},
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content[:300]
