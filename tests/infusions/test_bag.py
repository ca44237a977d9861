"""Issue 9, item 3: the order is the bag; an independent check of the bag before the start; event times only
within the protocol's backdating bounds, never before what they depend on."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.event_times import BACKDATE_REASON_REQUIRED, BACKDATE_TOO_FAR
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import MedicationAdministration, RateEvent, VialCheck
from tests.clock import advance, advance_to
from tests.conftest import make_staff
from tests.infusions.conftest import CONFIRM, fresh, start_infusion, vial_check, vitals, walk

pytestmark = pytest.mark.django_db


def page(session, tail: str = "") -> str:
    return f"/sessions/{session.external_id}/{tail}"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- the order is the bag --------------------------------------------------------------------------------


def test_the_order_carries_the_bag_computed_by_the_dose_engine(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    order = selectors.signed_order(session)
    pump = order.calculation["pump"]
    assert order.vial_mg_per_ml == pump["vial_mg_per_ml"] and order.bag_ml == pump["bag_ml"]
    assert order.drug_volume_ml == pytest.approx(order.dose_mg / order.vial_mg_per_ml)
    assert (
        order.vtbi_ml == pytest.approx(pump["vtbi_ml"])
        and order.vtbi_ml <= order.bag_ml + order.drug_volume_ml
    )


def test_the_bag_is_shown_to_the_nurse_on_the_live_page_and_the_mar(session, nurse, prescriber, client_for):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    order = selectors.signed_order(session)
    client = client_for(nurse)
    live = text(client.get(page(session)))
    assert 'data-testid="order-bag"' in live and f"{order.vtbi_ml:.1f} mL" in live
    assert f"{order.drug_volume_ml:.2f} mL" in live
    mar = text(client.get(page(session, "mar/")))
    assert 'data-testid="mar-bag"' in mar and f"volume to be infused {order.vtbi_ml:.1f} mL" in mar


def test_the_mar_never_records_more_than_the_bag_held(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)  # 40 min of a 40 min order
    order = selectors.signed_order(session)
    advance(30)  # nobody stopped the pump: the old integration gave ~26 mg more than the bag held
    assert selectors.session_delivery(fresh(session)).delivered_ml == pytest.approx(order.vtbi_ml)
    s.infusion_stop(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    ket = MedicationAdministration.objects.get(session=session, medication="ketamine")
    assert float(ket.dose) == pytest.approx(order.vtbi_ml * order.concentration_mg_per_ml, abs=0.001)
    assert float(ket.dose) <= order.dose_mg
    assert ket.reason == s.MAR_BAG_EMPTY.format(vtbi=order.vtbi_ml)
    assert "Infusion" in selectors.note_text(
        fresh(session)
    ) and f"{float(ket.dose):.1f} mg" in selectors.note_text(fresh(session))


def test_the_live_status_says_to_stop_the_pump_when_the_bag_is_empty(session, nurse, prescriber, client_for):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    started = start_infusion(session, nurse=nurse, prescriber=prescriber)
    client = client_for(nurse)
    advance_to(started + timedelta(minutes=20))
    assert 'data-testid="stop-pump"' not in text(client.get(page(session, "status/")))
    advance_to(started + timedelta(minutes=41))
    status = text(client.get(page(session, "status/")))  # the polled fragment itself
    assert 'data-testid="stop-pump"' in status and "Stop the pump" in status
    assert "a second bag needs a new signed order" in status


# --- the independent check of the bag --------------------------------------------------------------------


def test_start_without_an_independent_check_is_refused(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    with pytest.raises(ValidationError) as exc:
        s.infusion_start(user=nurse, session=session, expected_version=session.version)
    assert exc.value.message == s.VIAL_CHECK_REQUIRED
    assert fresh(session).state == "prechecks_done" and not RateEvent.objects.filter(session=session).exists()


def test_a_mismatch_is_recorded_and_blocks_the_start_until_a_matching_check(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    order = selectors.signed_order(session)
    wrong = vial_check(prescriber, session, vial_mg_per_ml=order.vial_mg_per_ml * 10)  # the 10x vial
    assert not wrong.match and VialCheck.objects.filter(session=session, match=False).count() == 1
    assert wrong.typed_vial_mg_per_ml == order.vial_mg_per_ml * 10 and wrong.checked_by == prescriber
    with pytest.raises(ValidationError, match="did not match the order"):
        s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert vial_check(prescriber, session).match
    s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert fresh(session).state == "running"


def test_a_volume_drawn_off_by_more_than_the_tolerance_blocks_the_start(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    order = selectors.signed_order(session)
    assert not vial_check(prescriber, session, drawn_ml=order.drug_volume_ml + 0.5).match
    with pytest.raises(ValidationError, match="did not match the order"):
        s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version)


def test_the_checker_is_a_second_clinician(session, nurse, prescriber, downtown):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    with pytest.raises(ValidationError) as exc:  # the nurse who calculated (prepared) the order
        vial_check(nurse, session)
    assert exc.value.message == s.VIAL_CHECK_SAME_PERSON.format(who=nurse)
    vial_check(prescriber, session)
    with pytest.raises(ValidationError) as exc:  # the checker may not record the start either
        s.infusion_start(user=prescriber, session=fresh(session), expected_version=fresh(session).version)
    assert exc.value.message == s.VIAL_CHECK_SAME_PERSON.format(who=prescriber)
    other = make_staff("nurse", downtown, username="nurse.two")
    s.infusion_start(user=other, session=fresh(session), expected_version=fresh(session).version)


def test_the_check_page_does_not_show_the_expected_numbers(session, nurse, prescriber, client_for):
    """The second clinician types on a page of its own, which shows who the bag is for but none of the order's
    numbers (the session page, with the order card, only links to it)."""
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    order = selectors.signed_order(session)
    doctor = client_for(prescriber)
    live = doctor.get(page(session)).content.decode()
    assert 'name="drawn_ml"' not in live and page(session, "bag-check/") in live
    r = doctor.get(page(session, "bag-check/"))
    body = r.content.decode()
    assert r.status_code == 200 and 'name="vial_mg_per_ml"' in body and 'name="drawn_ml"' in body
    assert session.patient.display_name in body
    card = body[
        body.index('aria-labelledby="h-bag"') : body.index(
            "</section>", body.index('aria-labelledby="h-bag"')
        )
    ]
    assert "<form" in card
    # What a person can read: the text, and what a visible field holds or suggests (addresses, the CSRF token
    # and the version are random or unrelated digits).
    visible = re.sub(r'<input type="hidden"[^>]*>', "", card)
    shown = re.sub(r"<[^>]+>", " ", visible) + " ".join(
        re.findall(r'(?:value|placeholder)="([^"]*)"', visible)
    )
    for number in (
        f"{order.vial_mg_per_ml:g}",
        f"{order.drug_volume_ml:.2f}",
        f"{order.drug_volume_ml:.1f}",
        f"{order.vtbi_ml:.1f}",
        f"{order.dose_mg:.1f}",
    ):
        assert not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", shown), number


def test_the_check_page_records_a_match_and_returns_to_the_session(session, nurse, prescriber, client_for):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    order = selectors.signed_order(session)
    r = client_for(prescriber).post(
        page(session, "bag-check/"),
        {
            "expected_version": fresh(session).version,
            "vial_mg_per_ml": f"{order.vial_mg_per_ml:g}",
            "drawn_ml": f"{order.drug_volume_ml:.2f}",
        },
        follow=True,
    )
    assert r.status_code == 200 and "match the order" in text(r)
    assert VialCheck.objects.get(session=session).match is True


def test_the_nurse_who_prepared_the_bag_is_told_to_ask_a_colleague(session, nurse, prescriber, client_for):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    c = client_for(nurse)
    r = c.get(page(session, "bag-check/"))
    assert "a second clinician must check it" in text(r) and 'name="drawn_ml"' not in r.content.decode()
    r = c.post(
        page(session, "bag-check/"),
        {"expected_version": fresh(session).version, "vial_mg_per_ml": "50", "drawn_ml": "1"},
    )
    assert r.status_code == 200 and not VialCheck.objects.filter(session=session).exists()


def test_a_refused_number_on_the_check_page_names_the_field(session, nurse, prescriber, client_for):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    r = client_for(prescriber).post(
        page(session, "bag-check/"),
        {"expected_version": fresh(session).version, "vial_mg_per_ml": "fifty", "drawn_ml": "1"},
    )
    assert r.status_code == 400 and "Vial strength on the label" in text(r)
    assert not VialCheck.objects.filter(session=session).exists()


def test_a_mismatch_through_the_page_is_recorded_and_says_do_not_start(
    session, nurse, prescriber, client_for
):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    r = client_for(prescriber).post(
        page(session, "vial-check/"),
        {"expected_version": fresh(session).version, "vial_mg_per_ml": "100", "drawn_ml": "7"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and "DOES NOT match the order" in text(r)
    assert VialCheck.objects.get(session=session).match is False


# --- backdating bounds ------------------------------------------------------------------------------------


def _checked_and_signed_late(session, nurse, prescriber):
    """Checklist passed first; 10 min later the order is signed and the bag checked."""
    session = walk(
        session,
        "checked_in",
        nurse=nurse,
        prescriber=prescriber,
        start=timezone.now() - timedelta(minutes=20),
    )
    from tests.infusions.conftest import consent_sign

    consent_sign(nurse, session.patient)
    vitals(nurse, session, timezone.now())
    answers: list[dict[str, Any]] = [{"code": c, "answer": "yes"} for c in CONFIRM] + [
        {"code": "weight_today", "value": "70", "unit": "kg"},
        {"code": "phq9_today", "value": 18},
        {"code": "pregnancy_status", "answer": "not_pregnant"},
    ]
    for a in answers:
        s.checklist_record(user=nurse, session=fresh(session), expected_version=fresh(session).version, **a)
    session = s.checklist_complete(
        user=nurse, session=fresh(session), expected_version=fresh(session).version
    )
    advance(10)
    order = s.order_create(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    s.order_sign(user=prescriber, order=order, expected_version=fresh(session).version)
    vial_check(prescriber, session)
    return fresh(session)


def test_a_start_backdated_before_the_checklist_passed_is_refused(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    vial_check(prescriber, session)
    advance(3)
    with pytest.raises(ValidationError, match="is before the checklist passed"):
        s.infusion_start(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            at=session.prechecks_done_at - timedelta(minutes=1),
        )
    assert fresh(session).started_at is None


def test_a_start_backdated_before_the_order_was_signed_is_refused(session, nurse, prescriber):
    session = _checked_and_signed_late(session, nurse, prescriber)
    order = selectors.signed_order(session)
    with pytest.raises(ValidationError, match="is before the order was signed"):
        s.infusion_start(
            user=nurse,
            session=session,
            expected_version=session.version,
            at=order.signed_at - timedelta(minutes=2),
        )
    assert fresh(session).state == "prechecks_done"


def test_a_start_backdated_before_the_check_of_the_bag_is_refused(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    advance(3)
    check = vial_check(prescriber, session)
    with pytest.raises(ValidationError, match="is before the independent check of the bag"):
        s.infusion_start(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            at=check.checked_at - timedelta(minutes=1),
        )


def test_a_stop_backdated_to_two_minutes_into_a_42_minute_run_is_refused(session, nurse, prescriber):
    """Decision: refused. A stop may not precede the last pump event nor the last reading taken during the
    infusion (the record shows the pump running then); so the MAR cannot shrink to 1.75 mg and the
    observation clock (which starts at the stop) cannot be moved back by 40 minutes."""
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    advance(2)  # 42 minutes after the start
    with pytest.raises(ValidationError, match="is before the last reading taken during the infusion"):
        s.infusion_stop(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            at=fresh(session).started_at + timedelta(minutes=2),
            backdate_reason="forgot to record",
        )
    assert (
        fresh(session).ended_at is None
        and not MedicationAdministration.objects.filter(session=session).exists()
    )


def test_a_stop_entered_late_with_a_reason_starts_the_observation_at_the_stop(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    stopped = timezone.now()
    advance(8)
    with pytest.raises(ValidationError, match=re.escape("a time more than 5 min late needs a reason")):
        s.infusion_stop(
            user=nurse, session=fresh(session), expected_version=fresh(session).version, at=stopped
        )
    e = s.infusion_stop(
        user=nurse,
        session=fresh(session),
        expected_version=fresh(session).version,
        at=stopped,
        backdate_reason="Emergency in chair 2",
    )
    assert e.backdate_reason == "Emergency in chair 2" and fresh(session).ended_at == stopped
    d = selectors.session_delivery(fresh(session))
    assert d.stopped_at == stopped


def test_a_time_beyond_the_protocols_maximum_is_refused_even_with_a_reason(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    advance(61)
    at = timezone.now() - timedelta(minutes=61)
    with pytest.raises(ValidationError) as exc:
        s.infusion_pause(
            user=nurse,
            session=fresh(session),
            expected_version=fresh(session).version,
            at=at,
            backdate_reason="late",
        )
    assert exc.value.message.startswith("Pause at ") and "at most 60 min late" in exc.value.message
    assert exc.value.message == BACKDATE_TOO_FAR.format(
        what="Pause", value=at.isoformat(timespec="minutes"), minutes=61, high=60
    )


def test_beyond_five_minutes_without_a_reason_is_refused_for_events_and_readings(session, nurse, prescriber):
    session = walk(session, "running", nurse=nurse, prescriber=prescriber)
    advance(10)
    at = timezone.now() - timedelta(minutes=6)
    with pytest.raises(ValidationError) as exc:
        s.infusion_pause(user=nurse, session=fresh(session), expected_version=fresh(session).version, at=at)
    assert exc.value.message == BACKDATE_REASON_REQUIRED.format(
        what="Pause", value=at.isoformat(timespec="minutes"), minutes=6, low=5
    )
    with pytest.raises(ValidationError, match="needs a reason"):
        vitals(nurse, session, at)
    posted = s.vitals_record(
        user=nurse,
        session=session,
        client_id="late-reading",
        taken_at=at,
        heart_rate_bpm=80,
        backdate_reason="Monitor printout entered after the call",
    )
    assert posted.reading.backdate_reason == "Monitor printout entered after the call"


def test_the_protocols_bounds_are_data(session, nurse, prescriber, protocols):
    for pv in protocols.values():
        b = pv.parsed.monitoring.backdating
        assert (b.max_min, b.reason_after_min) == (60, 5) and b.source
