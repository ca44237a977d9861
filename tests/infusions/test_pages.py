"""The session pages through Django's test client: every page renders, every transition is allowed or refused
with the service's message on the page, and a stale ``expected_version`` shows "changed meanwhile"."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.core.access import Role
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession, MedicationAdministration, VitalAlert, VitalSigns
from tests.clock import advance
from tests.infusions.conftest import CONFIRM, fresh, schedule, start_infusion, vitals, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurse_client(client_for, nurse):
    return client_for(nurse)


@pytest.fixture
def prescriber_client(client_for, prescriber):
    return client_for(prescriber)


def page(session: InfusionSession, tail: str = "") -> str:
    return f"/sessions/{session.external_id}/{tail}"


def post(client, session: InfusionSession, action: str, **data):
    data.setdefault("expected_version", fresh(session).version)
    return client.post(page(session, f"{action}/"), data, HTTP_HX_REQUEST="true")


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def at(minutes_ago: float) -> str:
    return timezone.localtime(
        timezone.now() - timedelta(minutes=minutes_ago),
        timezone=__import__("zoneinfo").ZoneInfo("America/New_York"),
    ).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    "state", ["scheduled", "checked_in", "prechecks_done", "running", "recovering", "discharged", "signed"]
)
def test_every_page_renders_in_every_state(state, session, nurse, prescriber, nurse_client):
    session = walk(session, state, nurse=nurse, prescriber=prescriber)
    for tail in ("", "status/", "note/", "mar/", "instructions/"):
        r = nurse_client.get(page(session, tail))
        assert r.status_code == 200, (tail, r.content[:400])
    chart = nurse_client.get(page(session, "chart.svg"))
    assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml"
    assert b"<svg" in chart.content
    assert nurse_client.get(f"/sessions/board/?location={session.location.code}").status_code == 200
    assert nurse_client.get(f"/sessions/patient/{session.patient.external_id}/").status_code == 200
    assert nurse_client.get(f"/sessions/patient/{session.patient.external_id}/mar/").status_code == 200


def test_check_in_then_checklist_order_sign_and_start_through_the_pages(
    session, nurse, prescriber, nurse_client, prescriber_client, client_for, staff
):
    front = client_for(staff[Role.INTAKE])
    r = front.post(page(session, "check-in/"), {"expected_version": session.version, "at": at(30)})
    assert r.status_code == 302 and "/sessions/board/" in r["Location"]
    assert fresh(session).state == "checked_in"
    r = nurse_client.get(page(session))
    assert "Check in</button>" not in text(r) and "Checklist complete" in text(r)
    r = post(nurse_client, session, "checklist-complete")
    assert r.status_code == 400 and "The pre-infusion checklist has not passed" in text(r)
    vitals(nurse, fresh(session), timezone.now())
    for code in CONFIRM:
        assert post(nurse_client, session, "checklist", code=code, answer="yes").status_code == 200
    r = post(nurse_client, session, "checklist", code="weight_today", value="70", unit="kg")
    assert r.status_code == 200 and "Checklist answer recorded." in text(r)
    r = post(nurse_client, session, "checklist", code="phq9_today", value="99")
    assert r.status_code == 400 and "is outside" in text(r)
    post(nurse_client, session, "checklist", code="phq9_today", value="18")
    post(nurse_client, session, "checklist", code="pregnancy_status", answer="not_pregnant")
    r = post(nurse_client, session, "start")
    assert r.status_code == 400 and "Cannot start a session that is checked in." in text(r)
    r = post(nurse_client, session, "order-create")
    assert r.status_code == 200 and "awaiting a prescriber" in text(r) and "Sign order" not in text(r)
    order = fresh(session).orders.get(superseded=False)
    r = post(nurse_client, session, "order-sign", order=str(order.external_id))
    assert r.status_code == 403
    r = post(prescriber_client, session, "order-sign", order=str(order.external_id))
    assert r.status_code == 200 and "Order signed." in text(r)
    assert post(nurse_client, session, "checklist-complete").status_code == 200
    r = post(nurse_client, session, "start")
    assert r.status_code == 400 and "a second clinician must check the vial strength" in text(r)
    order = fresh(session).orders.get(signed_at__isnull=False)
    r = post(
        prescriber_client,
        session,
        "vial-check",
        vial_mg_per_ml=str(order.vial_mg_per_ml),
        drawn_ml=f"{order.drug_volume_ml:.1f}",
    )
    assert r.status_code == 200 and "match the order" in text(r)
    r = post(nurse_client, session, "start")
    assert r.status_code == 200 and "Infusion started." in text(r) and "Pause</button>" in text(r)
    assert "Start infusion" not in text(r)
    r = post(nurse_client, session, "start")
    assert r.status_code == 400 and "Cannot start a session that is running." in text(r)


def test_a_stale_version_shows_changed_meanwhile_with_a_reload_link(session, nurse, prescriber, nurse_client):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    stale = session.version
    s.infusion_pause(user=prescriber, session=session, expected_version=stale)
    r = nurse_client.post(page(session, "stop/"), {"expected_version": stale}, HTTP_HX_REQUEST="true")
    assert r.status_code == 409
    assert "changed meanwhile" in text(r) and 'data-testid="reload"' in text(r)
    assert fresh(session).state == "paused"
    r = nurse_client.post(
        page(session, "stop/"), {"expected_version": stale}
    )  # without htmx: same page, same message
    assert r.status_code == 409 and "changed meanwhile" in text(r)


def test_running_session_rate_change_pause_resume_stop(session, nurse, prescriber, nurse_client):
    session = walk(
        session, "running", nurse=nurse, prescriber=prescriber, start=timezone.now() - timedelta(minutes=90)
    )
    r = nurse_client.get(page(session))
    assert 'data-testid="delivered"' in text(r) and "mg/h" in text(r)
    r = post(
        nurse_client,
        session,
        "rate",
        rate_mg_per_h="500",
        reason="BP",
        signer=str(prescriber.external_id),
        read_back="on",
    )
    assert r.status_code == 400 and "above" in text(r)
    r = post(
        nurse_client,
        session,
        "rate",
        rate_mg_per_h="20",
        reason="BP rising",
        signer=str(prescriber.external_id),
    )
    assert r.status_code == 400 and "read" in text(r)  # a verbal order is recorded only after read-back
    r = post(
        nurse_client, session, "rate", rate_mg_per_h="20", reason="BP rising", signer=str(nurse.external_id)
    )
    assert r.status_code == 400  # a nurse is not a prescriber: not offered, and refused
    r = post(nurse_client, session, "rate", rate_mg_per_h="20", reason="", signer=str(prescriber.external_id))
    assert r.status_code == 400
    r = post(
        nurse_client,
        session,
        "rate",
        rate_mg_per_h="20",
        reason="BP rising",
        signer=str(prescriber.external_id),
        read_back="on",
    )
    assert r.status_code == 200 and "Rate changed." in text(r) and "awaiting co-signature" in text(r)
    assert post(nurse_client, session, "resume").status_code == 400
    assert post(nurse_client, session, "pause", reason="Nausea").status_code == 200
    advance(20)  # no complete set for 20 min: the page raises the overdue-vitals alert
    nurse_client.get(page(session))
    r = post(nurse_client, session, "resume")  # the pump resumes only once every alert is acknowledged
    assert r.status_code == 400 and "not acknowledged" in text(r) and "Vital signs overdue" in text(r)
    for alert in VitalAlert.objects.filter(session=session, acknowledged_at__isnull=True):
        s.alert_acknowledge(user=nurse, alert=alert, note="Complete set taken")
    assert post(nurse_client, session, "resume").status_code == 200
    r = post(nurse_client, session, "stop")
    assert r.status_code == 200 and "recovery" in text(r) and "Discharge</button>" in text(r)
    assert MedicationAdministration.objects.filter(session=session, medication="ketamine").count() == 1


def test_vitals_alert_acknowledge_and_double_submit_stored_once(session, nurse, prescriber, nurse_client):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    client_id = str(uuid.uuid4())
    reading = {
        "client_id": client_id,
        "systolic_mmhg": "182",
        "diastolic_mmhg": "95",
        "heart_rate_bpm": "90",
        "spo2_percent": "97",
        "respiratory_rate_per_min": "14",
        "sedation": "mild",
    }
    r = nurse_client.post(page(session, "vitals/"), reading, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "alert(s) to acknowledge" in text(r) and 'data-testid="alert"' in text(r)
    r = nurse_client.post(page(session, "vitals/"), reading, HTTP_HX_REQUEST="true")
    assert "already recorded" in text(r)
    assert VitalSigns.objects.filter(client_id=client_id).count() == 1
    r = nurse_client.post(
        page(session, "vitals/"),
        {**reading, "client_id": str(uuid.uuid4()), "heart_rate_bpm": "900"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 400 and "900" in text(r)
    alert = VitalAlert.objects.filter(session=session).first()
    r = nurse_client.post(
        page(session, "alert-ack/"),
        {"alert": str(alert.external_id), "note": "Rate reduced"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "Alert acknowledged." in text(r)
    r = nurse_client.post(
        page(session, "alert-ack/"), {"alert": str(alert.external_id)}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 400 and "already acknowledged" in text(r)


def test_overdue_vitals_show_on_the_polled_status(session, nurse, prescriber, nurse_client):
    session = walk(
        session,
        "prechecks_done",
        nurse=nurse,
        prescriber=prescriber,
        start=timezone.now() - timedelta(minutes=30),
    )
    start_infusion(session, nurse=nurse, prescriber=prescriber)
    advance(20)  # no reading since the start: due after 10 min, overdue 3 min later
    r = nurse_client.get(page(session, "status/"))
    assert 'data-testid="overdue"' in text(r) and 'hx-trigger="every 15s"' in text(r)


def test_adverse_event_and_rescue_medication_reach_the_mar(
    session, nurse, prescriber, nurse_client, client_for, staff
):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    assert post(nurse_client, session, "adverse-event", kind="nausea", severity="mild").status_code == 200
    event = session.adverse_events.get()
    r = post(
        nurse_client,
        session,
        "administration",
        medication="ondansetron",
        dose="4",
        unit="mg",
        route="iv",
        adverse_event=str(event.external_id),
        reason="Nausea",
    )
    assert r.status_code == 200
    r = post(
        nurse_client, session, "administration", medication="clonidine", dose="100", unit="mcg", route="iv"
    )
    assert r.status_code == 400 and "Clonidine is given po" in text(r)
    r = post(
        nurse_client, session, "administration", medication="clonidine", dose="100", unit="mg", route="po"
    )
    assert r.status_code == 400 and "Clonidine is dosed in mcg (usual dose 100 mcg)" in text(r)
    r = post(
        nurse_client, session, "administration", medication="ondansetron", dose="4000", unit="mg", route="iv"
    )
    assert r.status_code == 400 and "most that may be given in one dose" in text(r)
    billing = client_for(staff[Role.BILLING])
    mar = text(billing.get(page(session, "mar/")))
    assert "Ondansetron" in mar and "4 mg" in mar
    session = fresh(session)
    s.infusion_stop(user=nurse, session=session, expected_version=session.version)
    mar = text(billing.get(f"/sessions/patient/{session.patient.external_id}/mar/"))
    assert "Ketamine" in mar and "total infused" in mar and "Rate history" in mar


def test_discharge_refused_with_reasons_then_allowed(session, nurse, prescriber, nurse_client, staff):
    from tests.conftest import register
    from tests.infusions.conftest import schedule

    session = walk(
        session,
        "recovering",
        nurse=nurse,
        prescriber=prescriber,
        start=timezone.now() - timedelta(minutes=70),
    )
    r = post(nurse_client, session, "discharge")
    assert r.status_code == 400 and "cannot be discharged yet" in text(r)
    other = register(staff[Role.INTAKE], session.location, given_name="Lena", family_name="Okafor")
    session = walk(
        schedule(nurse, other, session.protocol_version, when=timezone.now() - timedelta(minutes=200)),
        "recovering",
        nurse=nurse,
        prescriber=prescriber,
    )
    advance(35)
    vitals(nurse, session, timezone.now() - timedelta(minutes=1))
    r = post(
        nurse_client,
        session,
        "discharge-assess",
        activity_mental_status="2",
        pain="2",
        nausea_vomiting="2",
        intake_output="2",
        instructions_given="on",
    )
    assert r.status_code == 200 and "not yet fit" in text(r)
    r = post(nurse_client, session, "discharge")
    assert r.status_code == 400 and "no passing discharge assessment" in text(r)
    post(
        nurse_client,
        session,
        "discharge-assess",
        activity_mental_status="2",
        pain="2",
        nausea_vomiting="2",
        intake_output="2",
        escort_present="on",
        escort_name="Ana",
        instructions_given="on",
    )
    r = post(nurse_client, session, "discharge")
    assert r.status_code == 200 and "Discharged." in text(r)
    inst = text(nurse_client.get(page(session, "instructions/")))
    for words in (
        "Do not drive",
        "24 hours",
        "No alcohol",
        "48 hours",
        "No major decisions",
        session.location.phone,
    ):
        assert words in inst


def test_note_generate_sign_lock_and_addendum(session, nurse, prescriber, nurse_client, prescriber_client):
    session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    r = nurse_client.post(page(session, "note/generate/"), {"expected_version": 1})
    assert r.status_code == 409 and "changed meanwhile" in text(r)
    r = nurse_client.post(
        page(session, "note/generate/"), {"expected_version": fresh(session).version}, follow=True
    )
    assert "Draft note" in text(r) and "Infusion session" in text(r)
    r = nurse_client.post(page(session, "note/addendum/"), {"text": "x", "reason": "y"})
    assert r.status_code == 400 and "not signed yet" in text(r)
    r = prescriber_client.post(
        page(session, "note/sign/"), {"expected_version": fresh(session).version}, follow=True
    )
    assert "Signed note" in text(r) and "Regenerate" not in text(r)
    r = nurse_client.post(page(session, "note/generate/"), {"expected_version": fresh(session).version})
    assert r.status_code == 400 and "add an addendum instead" in text(r)
    r = nurse_client.post(
        page(session, "note/addendum/"),
        {"text": "Escort was her sister.", "reason": "Correction"},
        follow=True,
    )
    assert 'data-testid="addendum"' in text(r) and "why: Correction" in text(r)


def test_day_board_shows_states_alerts_and_polls(
    session, nurse, prescriber, nurse_client, client_for, staff, chair, patient, depression
):
    running = walk(session, "running", nurse=nurse, prescriber=prescriber)
    vitals(nurse, running, timezone.now() - timedelta(minutes=1), systolic_mmhg=185)
    day = running.scheduled_start.astimezone(ZoneInfo(running.location.timezone)).date().isoformat()
    r = nurse_client.get(f"/sessions/board/?location={running.location.code}&date={day}")
    body = text(r)
    assert r.status_code == 200 and "Running" in body and "1 alert" in body and "Chair 1" in body
    assert f"/sessions/{running.external_id}/" in body
    r = nurse_client.get(f"/sessions/board/?location={running.location.code}", HTTP_HX_REQUEST="true")
    assert "<html" not in text(r) and 'hx-trigger="every 15s"' in text(r)
    front = text(client_for(staff[Role.INTAKE]).get(f"/sessions/board/?date={day}"))
    assert (
        "Running" in front and f'/sessions/{running.external_id}/"' not in front
    )  # no session.view: no link
    assert nurse_client.get("/sessions/board/?location=nowhere").status_code == 404
    assert nurse_client.get(f"/sessions/board/?location={running.location.code}&date=nope").status_code == 404


def test_a_patient_still_in_the_chair_after_midnight_stays_on_todays_board(
    nurse, patient, depression, chair, nurse_client
):
    """A session booked late yesterday (location time) that is still open is on today's board; once closed it
    is only on yesterday's."""
    tz = ZoneInfo(chair.location.timezone)
    midnight = datetime.combine(timezone.now().astimezone(tz).date(), time.min, tzinfo=tz)
    late = schedule(nurse, patient, depression, chair, when=midnight - timedelta(minutes=30))
    late = s.session_check_in(user=nurse, session=late, expected_version=late.version)
    board = f"/sessions/board/?location={chair.location.code}"
    assert f"/sessions/{late.external_id}/" in text(nurse_client.get(board))
    s.session_cancel(
        user=nurse, session=fresh(late), expected_version=fresh(late).version, reason="Booked in error"
    )
    assert f"/sessions/{late.external_id}/" not in text(nurse_client.get(board))
    yesterday = (midnight - timedelta(days=1)).date().isoformat()
    assert f"/sessions/{late.external_id}/" in text(nurse_client.get(f"{board}&date={yesterday}"))


def test_other_location_sessions_are_refused(session, nurse, prescriber, client_for, northside):
    from tests.conftest import make_staff

    outsider = make_staff(Role.NURSE, northside, "n.outside")
    r = client_for(outsider).get(page(session))
    assert r.status_code == 403
    assert client_for(outsider).get(f"/sessions/board/?location={session.location.code}").status_code == 403


def test_cancel_needs_a_reason_and_only_before_the_start(session, nurse, prescriber, nurse_client):
    r = nurse_client.get(page(session))
    assert "Cancel session" in text(r)
    r = post(nurse_client, session, "cancel", reason="")
    assert r.status_code == 400
    r = post(nurse_client, session, "cancel", reason="Patient unwell today")
    assert r.status_code == 200 and "Session cancelled." in text(r) and "Cancel session" not in text(r)
    assert fresh(session).state == "cancelled"


def test_patient_chart_links_to_sessions_and_mar(session, nurse_client, client_for, staff):
    chart = text(nurse_client.get(f"/patients/{session.patient.external_id}/"))
    assert f"/sessions/patient/{session.patient.external_id}/" in chart
    assert f"/sessions/patient/{session.patient.external_id}/mar/" in chart
    dashboard = text(nurse_client.get("/dashboard/"))
    assert "/sessions/board/?location=downtown" in dashboard
    assert "/sessions/board/" not in text(client_for(staff[Role.BILLING]).get("/dashboard/"))
