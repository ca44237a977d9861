"""Titration at the chair (issue: a nurse set 250-300 mg/h on a ~60 mg/h order and it was accepted):
every new rate is checked by the core like an order; the prescriber orders as themselves, in person or
by a verbal order the nurse reads back and the prescriber co-signs; the prescriber's worklist lists what
waits for a signature."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.titration import MIN_TITRATION_OVERRIDE_CHARS, TITRATION_OVERRIDE_TOO_SHORT
from ketaclinic.core.pharmacology.ceiling import PeakAboveCeilingError
from ketaclinic.core.pharmacology.dosing import HardLimitError
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionOrder, RateEvent
from ketaclinic.infusions.selectors import prescriber_worklist
from tests.conftest import make_staff
from tests.infusions.conftest import fresh, walk

pytestmark = pytest.mark.django_db
REASON = "No response after six infusions at 0.5 mg/kg"


@pytest.fixture
def running(session, nurse, prescriber):
    """70 kg, 35 mg over 40 min at 52.5 mg/h; the test clock stands 40 min into the run (titrations are
    entered late into the run, with a reason)."""
    start = timezone.now() - timedelta(minutes=150)
    session = walk(session, "running", nurse=nurse, prescriber=prescriber, start=start)
    return session, fresh(session).started_at


def rate(user, session, mg_h: float, at, **kw):
    session = fresh(session)
    kw.setdefault("backdate_reason", "Entered after the bedside check")
    return s.infusion_rate_change(
        user=user,
        session=session,
        expected_version=session.version,
        rate_mg_per_h=mg_h,
        reason=kw.pop("reason", "Clinical titration"),
        at=at,
        **kw,
    )


@pytest.mark.parametrize("mg_h", [250.0, 300.0])
def test_a_nurse_setting_250_to_300_mg_h_on_a_52_mg_h_order_is_refused_and_nothing_is_saved(
    running, nurse, prescriber, mg_h
):
    session, began = running
    before = (RateEvent.objects.count(), fresh(session).version)
    with pytest.raises(HardLimitError) as exc:
        rate(
            nurse,
            session,
            mg_h,
            began + timedelta(minutes=10),
            signer=prescriber,
            read_back=True,
            override_reason=REASON,
        )
    assert "ng/mL" in exc.value.message or "hard limit" in exc.value.message
    assert (RateEvent.objects.count(), fresh(session).version) == before


def test_even_a_prescriber_in_person_cannot_order_an_anaesthetic_rate(running, prescriber):
    session, began = running
    with pytest.raises(PeakAboveCeilingError) as exc:
        rate(prescriber, session, 250.0, began + timedelta(minutes=10), override_reason=REASON)
    assert (
        "Predicted peak plasma ketamine concentration" in exc.value.message
        and "600 ng/mL" in exc.value.message
    )


def test_beyond_a_soft_limit_the_prescriber_must_give_a_reason(running, prescriber):
    session, began = running
    at = began + timedelta(minutes=10)
    with pytest.raises(ValidationError) as exc:
        rate(prescriber, session, 130.0, at)
    assert exc.value.field == "override_reason" and "Dose projected to the ordered end" in exc.value.message
    with pytest.raises(ValidationError) as exc:
        rate(prescriber, session, 130.0, at, override_reason="wants more")
    assert exc.value.message == TITRATION_OVERRIDE_TOO_SHORT.format(
        low=MIN_TITRATION_OVERRIDE_CHARS, value="wants more"
    )
    with pytest.raises(ValidationError):
        rate(prescriber, session, 130.0, at, override_reason=" " * 20)
    e = rate(prescriber, session, 130.0, at, override_reason=REASON)
    assert e.signer == prescriber and not e.verbal_order and e.override_reason == REASON
    assert e.limit_check["projected_mg_per_kg"] == pytest.approx((52.5 / 6 + 65) / 70, rel=1e-3)
    assert 500 < e.limit_check["predicted_peak_ng_per_ml"] < 600 and e.limit_check["warnings"]


def test_no_override_reason_when_nothing_is_beyond_a_limit(running, prescriber):
    session, began = running
    with pytest.raises(ValidationError) as exc:
        rate(prescriber, session, 42.0, began + timedelta(minutes=10), override_reason=REASON)
    assert exc.value.field == "override_reason"


def test_a_soft_override_through_a_verbal_order_needs_the_cosignature(running, nurse, prescriber):
    session, began = running
    e = rate(
        nurse,
        session,
        130.0,
        began + timedelta(minutes=10),
        signer=prescriber,
        read_back=True,
        override_reason=REASON,
    )
    assert e.verbal_order and e.override_reason == REASON and e.awaiting_cosign
    assert [c.event for c in prescriber_worklist(user=prescriber).cosigns] == [e]


def test_a_nurse_records_a_verbal_order_only_naming_the_prescriber_with_read_back(running, nurse, prescriber):
    session, began = running
    at = began + timedelta(minutes=10)
    with pytest.raises(ValidationError) as exc:
        rate(nurse, session, 42.0, at)
    assert exc.value.message == s.SIGNER_REQUIRED
    with pytest.raises(ValidationError) as exc:
        rate(nurse, session, 42.0, at, signer=prescriber)
    assert exc.value.message == s.READ_BACK_REQUIRED.format(rate=42.0, who=prescriber)
    with pytest.raises(ValidationError) as exc:
        rate(nurse, session, 42.0, at, signer=nurse, read_back=True)
    assert exc.value.message == s.SIGNER_NOT_PRESCRIBER.format(who=nurse)
    e = rate(nurse, session, 42.0, at, signer=prescriber, read_back=True)
    assert (
        e.verbal_order
        and e.read_back
        and e.signer == prescriber
        and e.recorded_by == nurse
        and e.awaiting_cosign
    )


def test_a_prescriber_orders_as_themselves_not_for_another(running, prescriber, downtown):
    session, began = running
    other = make_staff(Role.PRESCRIBER, downtown, username="dr.other")
    with pytest.raises(ValidationError) as exc:
        rate(prescriber, session, 42.0, began + timedelta(minutes=10), signer=other)
    assert exc.value.message == s.SIGNER_NOT_SELF.format(user=prescriber, who=other)


def test_a_verbal_order_is_listed_until_cosigned_and_a_nurse_cannot_cosign(running, nurse, prescriber):
    session, began = running
    e = rate(nurse, session, 42.0, began + timedelta(minutes=10), signer=prescriber, read_back=True)
    (item,) = prescriber_worklist(user=prescriber).cosigns
    assert item.event == e and not item.overdue and item.due == e.recorded_at + timedelta(hours=24)
    assert prescriber_worklist(user=prescriber, now=timezone.now() + timedelta(hours=25)).cosigns[0].overdue
    with pytest.raises(PermissionDenied):
        s.titration_cosign(user=nurse, event=e)
    signed = s.titration_cosign(user=prescriber, event=e)
    assert signed.cosigned_by == prescriber and signed.cosigned_at is not None
    assert prescriber_worklist(user=prescriber).cosigns == []
    with pytest.raises(ValidationError, match="already co-signed"):
        s.titration_cosign(user=prescriber, event=e)
    assert (
        AuditEntry.objects.filter(action=AuditEntry.Action.SIGN, summary__startswith="Co-signed").count() == 1
    )


def test_another_prescriber_of_the_location_may_cosign_but_not_one_elsewhere(
    running, nurse, prescriber, downtown, northside
):
    session, began = running
    e = rate(nurse, session, 42.0, began + timedelta(minutes=10), signer=prescriber, read_back=True)
    far = make_staff(Role.PRESCRIBER, northside, username="dr.far")
    with pytest.raises(PermissionDenied):
        s.titration_cosign(user=far, event=e)
    colleague = make_staff(Role.PRESCRIBER, downtown, username="dr.colleague")
    assert s.titration_cosign(user=colleague, event=e).cosigned_by == colleague


def test_an_in_person_order_is_not_cosigned(running, prescriber):
    session, began = running
    e = rate(prescriber, session, 42.0, began + timedelta(minutes=10))
    with pytest.raises(ValidationError) as exc:
        s.titration_cosign(user=prescriber, event=e)
    assert exc.value.message == s.COSIGN_NOT_VERBAL


def test_the_database_lets_only_the_cosignature_be_written_once(running, nurse, prescriber):
    session, began = running
    e = rate(nurse, session, 42.0, began + timedelta(minutes=10), signer=prescriber, read_back=True)
    for change in (
        {"rate_mg_per_h": 400.0},
        {"cosigned_by": prescriber, "cosigned_at": timezone.now(), "reason": "x"},
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            RateEvent.objects.filter(pk=e.pk).update(**change)
    s.titration_cosign(user=prescriber, event=e)
    with pytest.raises(DatabaseError), transaction.atomic():
        RateEvent.objects.filter(pk=e.pk).update(cosigned_at=timezone.now())
    with pytest.raises(DatabaseError), transaction.atomic():
        RateEvent.objects.filter(pk=e.pk).delete()
    assert RateEvent.objects.get(pk=e.pk).rate_mg_per_h == 42.0


def test_an_order_of_2_mg_per_kg_over_20_min_is_refused_with_the_predicted_peak(session, nurse, prescriber):
    session = walk(session, "checked_in", nurse=nurse, prescriber=prescriber)
    s.checklist_record(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        code="weight_today",
        value="70",
        unit="kg",
    )
    with pytest.raises(PeakAboveCeilingError) as exc:
        s.order_create(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            dose="2 mg/kg",
            duration_min=20,
        )
    assert "1,677 ng/mL" in exc.value.message
    assert not InfusionOrder.objects.filter(session=session).exists()
    order = s.order_create(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert order.dose_mg == pytest.approx(35.0)


def test_the_worklist_lists_orders_verbal_orders_and_notes_in_bounded_queries(
    session, nurse, prescriber, patient, depression, chair
):
    from django.db import connection

    from ketaclinic.accounts.models import Chair, User
    from tests.conftest import register
    from tests.infusions.conftest import schedule

    intake = User.objects.get(role="intake", locations=patient.location)
    for i in range(3):  # three patients in three chairs today, each with a verbal order to co-sign
        other = register(intake, patient.location, given_name=f"Pat{i}", family_name="Worklist")
        own = Chair.objects.create(location=patient.location, name=f"Worklist chair {i}")
        sess = schedule(nurse, other, depression, own, when=timezone.now() - timedelta(minutes=160))
        sess = walk(sess, "running", nurse=nurse, prescriber=prescriber)
        rate(
            nurse,
            sess,
            42.0,
            fresh(sess).started_at + timedelta(minutes=25),
            signer=prescriber,
            read_back=True,
        )
    with CaptureQueriesContext(connection) as few:
        w = prescriber_worklist(user=prescriber)
        _ = [
            (c.session.patient.display_name, c.event.signer, c.event.recorded_by, c.overdue)
            for c in w.cosigns
        ]
    assert len(w.cosigns) == 3 and len(few) <= 5
    assert not any(c.overdue for c in w.cosigns)  # recorded just now: none overdue yet
    with pytest.raises(PermissionDenied):
        prescriber_worklist(user=nurse)


def test_the_dashboard_shows_the_prescriber_what_to_cosign(running, nurse, prescriber, client_for):
    session, began = running
    rate(nurse, session, 42.0, began + timedelta(minutes=10), signer=prescriber, read_back=True)
    page = client_for(prescriber).get("/").content.decode()
    assert "Verbal orders to co-sign" in page and session.patient.display_name in page and "42.0 mg/h" in page


def test_the_live_page_cosigns_and_the_nurse_form_asks_for_read_back(running, nurse, prescriber, client_for):
    session, began = running
    nurse_page = client_for(nurse).get(f"/sessions/{session.external_id}/").content.decode()
    assert "Verbal order from (prescriber)" in nurse_page and "read the new rate back" in nurse_page
    doctor = client_for(prescriber)
    doctor_page = doctor.get(f"/sessions/{session.external_id}/").content.decode()
    assert "You order this rate as yourself" in doctor_page and "Verbal order from" not in doctor_page
    rate(nurse, session, 42.0, began + timedelta(minutes=10), signer=prescriber, read_back=True)
    r = doctor.post(f"/sessions/{session.external_id}/titration-cosign/", {"event": 2})
    assert r.status_code in (200, 302)
    assert RateEvent.objects.get(session=session, kind="rate").cosigned_by == prescriber


def test_the_api_records_a_verbal_order_and_the_prescriber_cosigns_it(running, nurse, prescriber, client_for):
    session, began = running
    sid, at = session.external_id, (began + timedelta(minutes=10)).isoformat()
    doctor = client_for(prescriber)
    body = {
        "expected_version": fresh(session).version,
        "rate_mg_per_h": 42,
        "reason": "BP rising",
        "at": at,
        "backdate_reason": "Entered after the bedside check",
    }
    r = client_for(nurse).post(f"/api/sessions/{sid}/rate", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["message"] == s.SIGNER_REQUIRED
    body |= {"signer": str(prescriber.external_id), "read_back": True}
    r = client_for(nurse).post(f"/api/sessions/{sid}/rate", body, content_type="application/json")
    assert r.status_code == 200, r.content
    out = r.json()
    assert (
        out["verbal_order"]
        and out["number"] == 2
        and out["cosigned_at"] is None
        and out["signer"] == str(prescriber)
    )
    r = client_for(nurse).post(f"/api/sessions/{sid}/rate-events/2/cosign", content_type="application/json")
    assert r.status_code == 403
    r = doctor.post(f"/api/sessions/{sid}/rate-events/2/cosign", content_type="application/json")
    assert r.status_code == 200 and r.json()["cosigned_by"] == str(prescriber)
    r = doctor.post(f"/api/sessions/{sid}/rate-events/9/cosign", content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["message"] == s.NO_SUCH_RATE_EVENT.format(value=9)
    body = {
        "expected_version": fresh(session).version,
        "rate_mg_per_h": 300,
        "reason": "More",
        "at": at,
        "override_reason": REASON,
        "backdate_reason": "Entered after the bedside check",
    }
    r = doctor.post(f"/api/sessions/{sid}/rate", body, content_type="application/json")
    assert r.status_code == 400 and "Refused" in r.json()["error"]["message"]


def test_an_order_beyond_a_soft_limit_is_not_signed_with_a_12_character_reason(session, nurse, prescriber):
    session = walk(session, "checked_in", nurse=nurse, prescriber=prescriber)
    s.checklist_record(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        code="weight_today",
        value="70",
        unit="kg",
    )
    order = s.order_create(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        dose="1.2 mg/kg",
        duration_min=60,
    )
    assert order.warnings
    with pytest.raises(ValidationError, match="at least 15 characters"):
        s.order_sign(
            user=prescriber,
            order=order,
            expected_version=fresh(session).version,
            override_reason="Pt requested",
        )
    signed = s.order_sign(
        user=prescriber, order=order, expected_version=fresh(session).version, override_reason=REASON
    )
    assert signed.override_reason == REASON
