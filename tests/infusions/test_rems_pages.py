"""The REMS form page: prefilled, confirmed by the prescriber only, marked submitted, on the note page and
the prescriber's dashboard with its days overdue."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.infusions import selectors
from ketaclinic.infusions.models import InfusionSession, RemsMonitoringForm
from tests.infusions.test_rems import esketamine_discharged

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def local(at) -> str:
    return timezone.localtime(at, NY).strftime("%Y-%m-%dT%H:%M")


def answers(session: InfusionSession, **changes: str) -> dict[str, str]:
    """What the prescriber posts: the prefilled checks as the page shows them, plus the lot and answers."""
    state = selectors.rems_form_state(session)
    assert state is not None
    data = {
        "device_lots": "24KX118, 24KX119",
        "spo2_lowest_percent": str(state.form.spo2_lowest_percent),
        "concomitant_medications": "none",
        "serious_adverse_event": "no",
    }
    for n, c in enumerate(state.section.checks):
        e = state.form.entry(c.code)
        assert e is not None and e.at is not None
        data[f"c{n}_at"] = local(e.at)
        data |= {f"c{n}_sys": str(e.systolic_mmhg or ""), f"c{n}_dia": str(e.diastolic_mmhg or "")}
        data[f"c{n}_level"] = e.level
    return data | changes


def test_the_prescriber_confirms_the_prefilled_form_and_the_clinic_marks_it_submitted(
    nurse, prescriber, patient, protocols, client_for
):
    session = esketamine_discharged(nurse, prescriber, patient, protocols["esketamine-nasal"])
    url = f"/sessions/{session.external_id}/rems/"
    doctor, nurse_client = client_for(prescriber), client_for(nurse)
    page = text(doctor.get(url))
    assert (
        "Device lot numbers: none entered" in page and "The prescriber has not confirmed the form yet" in page
    )
    assert "56 mg" in page and "132 min" in page and "Confirm the form</button>" in page
    first = selectors.rems_form_state(session).form.first_device_at
    assert (
        timezone.localtime(first + timedelta(minutes=35), NY).strftime("%H:%M") in page
    )  # the window, local
    assert "blood_pressure@" not in page and "c0_at" not in page.split("<form")[0]  # no internal key shown
    note = text(nurse_client.get(f"/sessions/{session.external_id}/note/"))
    assert "4 items missing" in note and "Open the REMS monitoring form" in note
    assert nurse_client.post(url + "confirm/", answers(session)).status_code == 403
    assert "Confirm the form</button>" not in text(nurse_client.get(url))
    r = doctor.post(url + "confirm/", answers(session))
    assert r.status_code == 302, text(r)[:2000]
    form = RemsMonitoringForm.objects.get(session=session)
    assert (form.lots, form.serious_adverse_event, form.confirmed_by) == (
        ("24KX118", "24KX119"),
        False,
        prescriber,
    )
    r = nurse_client.post(url + "submit/", {"reference": "PMF-77120"})
    assert r.status_code == 302
    page = text(nurse_client.get(url))
    assert "confirmation number <strong>PMF-77120</strong>" in page and "Mark submitted</button>" not in page
    r = doctor.post(url + "confirm/", answers(session, concomitant_medications="lorazepam"))
    assert r.status_code == 400 and "it cannot change" in text(r)


def test_an_answer_out_of_range_is_shown_and_nothing_saved(nurse, prescriber, patient, protocols, client_for):
    session = esketamine_discharged(nurse, prescriber, patient, protocols["esketamine-nasal"])
    r = client_for(prescriber).post(
        f"/sessions/{session.external_id}/rems/confirm/", answers(session, c0_sys="400")
    )
    assert r.status_code == 400
    assert "Blood pressure before the first device: systolic pressure 400 mmHg is not possible" in text(r)
    assert not RemsMonitoringForm.objects.exists()


def test_the_dashboard_shows_the_overdue_form_with_its_days(
    nurse, prescriber, patient, protocols, client_for
):
    session = esketamine_discharged(nurse, prescriber, patient, protocols["esketamine-nasal"])
    InfusionSession.objects.filter(pk=session.pk).update(started_at=timezone.now() - timedelta(days=10))
    page = text(client_for(prescriber).get("/"))
    assert "REMS monitoring forms to submit" in page and "3 days overdue" in page
    assert "not yet confirmed" in page
    assert "REMS monitoring forms" not in text(client_for(nurse).get("/"))  # the prescriber's worklist
