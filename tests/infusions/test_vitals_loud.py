"""Dangerous readings are recorded, loudly: the worst real readings are saved with the critical alert, only
impossible ones are refused, fractions and times without a zone are refused with a message (never a server
error, never a silent truncation), and the pump does not resume while an alert is open."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import VitalAlert, VitalSigns
from tests.infusions.conftest import fresh, vitals, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client_for, nurse):
    c = client_for(nurse)

    def call(url: str, body: dict):
        return c.post(f"/api/sessions{url}", body, content_type="application/json")

    return call


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ({"spo2_percent": 48}, "spo2_critical"),
        ({"spo2_percent": 40}, "spo2_critical"),
        ({"respiratory_rate_per_min": 0}, "respiratory_rate_critical"),
        ({"respiratory_rate_per_min": 3}, "respiratory_rate_critical"),
        ({"systolic_mmhg": 45, "diastolic_mmhg": 25}, "systolic_critical_low"),
        ({"heart_rate_bpm": 18}, "heart_rate_critical_low"),
        ({"heart_rate_bpm": 25}, "heart_rate_critical_low"),
    ],
)
def test_the_worst_readings_are_saved_with_the_critical_alert(values, rule, api, session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    r = api(f"/{session.external_id}/vitals", {"client_id": str(uuid.uuid4()), **values})
    assert r.status_code == 201, r.content
    alert = VitalAlert.objects.get(session=session, rule=rule)
    assert (
        alert.level == "critical"
        and alert.suggested_action == "stop"
        and alert.message.startswith("CRITICAL")
    )
    assert [a["level"] for a in r.json()["alerts"] if a["rule"] == rule] == ["critical"]


def test_a_fraction_is_refused_with_a_message_and_nothing_is_saved(api, session, nurse, prescriber):
    """HR 91.6 once answered 500 yet was saved truncated to 91."""
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    before = VitalSigns.objects.count()
    r = api(
        f"/{session.external_id}/vitals", {"client_id": "frac", "heart_rate_bpm": 91.6, "spo2_percent": 97}
    )
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "heart_rate_bpm" and "91.6" in r.json()["error"]["message"]
    assert VitalSigns.objects.count() == before


def test_a_time_without_a_zone_is_refused_with_a_message_not_lost(api, session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    naive = (timezone.now() - timedelta(minutes=2)).replace(tzinfo=None).isoformat()
    r = api(f"/{session.external_id}/vitals", {"client_id": "naive", "taken_at": naive, "heart_rate_bpm": 80})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "taken_at" and "time zone" in r.json()["error"]["message"]
    assert not VitalSigns.objects.filter(client_id="naive").exists()


def test_the_infusion_does_not_resume_while_an_alert_is_open(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    now = timezone.now()
    posted = vitals(nurse, fresh(session), now - timedelta(minutes=1), spo2_percent=86)
    (alert,) = posted.alerts
    s.infusion_pause(
        user=nurse, session=fresh(session), expected_version=fresh(session).version, reason="SpO2 86"
    )
    with pytest.raises(ValidationError) as exc:
        s.infusion_resume(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert exc.value.field == "alerts" and "SpO2 86" in exc.value.message
    assert fresh(session).state == "paused"
    s.alert_acknowledge(user=nurse, alert=alert, note="Oxygen given, SpO2 back to 97")
    s.infusion_resume(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert fresh(session).state == "running"


def test_overdue_vitals_become_an_alert_that_a_partial_reading_does_not_clear(
    session, nurse, prescriber, client_for
):
    """Overdue vital signs were only a badge; a heart rate alone reset the clock."""
    from tests.clock import advance

    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    interval = session.protocol_version.parsed.monitoring.vitals_interval_min
    advance(20)  # 20 min without a reading
    grace = session.protocol_version.parsed.monitoring.overdue_grace_min
    last = max(v.taken_at for v in fresh(session).vitals.all())
    assert timezone.now() - last > timedelta(minutes=interval + grace)  # the walk left the set overdue
    c = client_for(nurse)
    page = f"/sessions/{session.external_id}/"
    assert c.get(page + "status/").status_code == 200
    overdue = VitalAlert.objects.filter(session=session, rule=s.OVERDUE_RULE, acknowledged_at__isnull=True)
    assert overdue.count() == 1 and "overdue" in overdue.get().message
    c.get(page + "status/")
    c.get(page)
    assert overdue.count() == 1  # one open at a time, however often the page polls
    vitals(
        nurse,
        fresh(session),
        timezone.now(),
        systolic_mmhg=None,
        diastolic_mmhg=None,
        spo2_percent=None,
        respiratory_rate_per_min=None,
        sedation="",
    )  # a heart rate alone
    html = c.get(page + "status/").content.decode()
    assert "Vital signs overdue" in html and overdue.count() == 1
    s.alert_acknowledge(user=nurse, alert=overdue.get(), note="Complete set taken")
    vitals(nurse, fresh(session), timezone.now())  # a complete set
    c.get(page + "status/")
    assert not overdue.exists()
