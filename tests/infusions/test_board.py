"""The day board lists today's planned infusions not checked in yet, "Check in" opens the session from the
slot (once: never two sessions for one slot unless the first was cancelled), refusals are messages with
nothing saved, and open urgent safety flags show on the board (the polled part) until they are assessed."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.infusions.services import scheduling
from ketaclinic.outcomes.models import SafetyFlag
from ketaclinic.outcomes.services import response_record, safety_flag_assess
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.plans.services import infusion_cancel
from tests.conftest import make_staff, register
from tests.infusions.conftest import todays_plan

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
PHQ9_ITEM9 = [2, 2, 2, 2, 2, 2, 2, 2, 1]  # item 9 (thoughts of self-harm) above 0: an urgent flag


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def first(plan: TreatmentPlan) -> PlannedInfusion:
    return plan.infusions.order_by("sequence").first()


def board_url(slot: PlannedInfusion) -> str:
    return f"/sessions/board/?location={slot.location.code}"


def check_in_url(slot: PlannedInfusion) -> str:
    return f"/sessions/board/slots/{slot.external_id}/check-in/"


@pytest.fixture
def slot(staff, patient, chair, protocols) -> PlannedInfusion:
    return first(todays_plan(staff, patient, chair))


def test_the_board_lists_todays_planned_slots_with_the_infusion_number_and_check_in(
    slot, staff, client_for, nurse
):
    board = selectors.day_board(user=nurse, location=slot.location)
    (entry,) = board.slots
    assert entry.planned == slot and entry.number == "1 of 6" and entry.patient == slot.plan.patient
    lane = next(c for c in board.chairs if c.chair == slot.chair)
    assert lane.entries == [entry]
    for role in (Role.NURSE, Role.INTAKE, Role.PRESCRIBER):
        body = text(client_for(staff[role]).get(board_url(slot)))
        assert (
            'data-testid="slot"' in body and "Maria Garcia" in body and "1 of 6" in body and "12:00" in body
        )
        assert check_in_url(slot) in body and "Expected" in body


def test_a_board_poll_with_a_planned_slot_never_reads_the_protocol_document(slot, nurse, client_for):
    """The plan's protocol version comes with each slot; its 20 kB document is not read at every poll."""
    client = client_for(nurse)
    client.get(board_url(slot), HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as ctx:
        assert "1 of 6" in text(client.get(board_url(slot), HTTP_HX_REQUEST="true"))
    assert any("plans_plannedinfusion" in q["sql"] for q in ctx.captured_queries)
    assert not [q for q in ctx.captured_queries if '"protocols_protocolversion"."document"' in q["sql"]]


def test_check_in_from_the_slot_opens_the_session_checks_in_and_shows_the_live_page(slot, nurse, client_for):
    r = client_for(nurse).post(check_in_url(slot), follow=True)
    session = InfusionSession.objects.get(planned_infusion=slot)
    assert r.redirect_chain[-1][0] == f"/sessions/{session.external_id}/"
    assert "Maria Garcia checked in for infusion 1 of 6." in text(r)
    assert session.state == "checked_in" and session.checked_in_at is not None
    assert session.chair == slot.chair and session.scheduled_start == slot.scheduled_start
    assert session.protocol_version == slot.plan.protocol_version
    summaries = list(
        AuditEntry.objects.filter(patient_external_id=slot.plan.patient.external_id, actor=nurse).values_list(
            "summary", flat=True
        )
    )
    assert (
        any("from Infusion 1 of the plan" in x for x in summaries)
        and "Checked in for the infusion" in summaries
    )
    board = selectors.day_board(user=nurse, location=slot.location)
    assert board.slots == [] and [r.number for r in board.rows] == ["1 of 6"]  # now the session's row


def test_the_front_desk_checks_in_and_stays_on_the_board(slot, staff, client_for):
    r = client_for(staff[Role.INTAKE]).post(check_in_url(slot))
    assert r.status_code == 302 and r["Location"] == board_url(slot)
    assert InfusionSession.objects.get(planned_infusion=slot).state == "checked_in"


def test_a_slot_never_gets_two_sessions(slot, nurse, staff, client_for):
    client_for(nurse).post(check_in_url(slot))
    r = client_for(staff[Role.INTAKE]).post(check_in_url(slot), follow=True)
    assert r.redirect_chain[-1][0] == board_url(slot)
    assert "Maria Garcia was already checked in for Infusion 1 at" in text(r)
    assert InfusionSession.objects.filter(planned_infusion=slot).count() == 1


def test_a_race_lost_at_the_database_is_a_clear_refusal_with_nothing_saved(slot, nurse, monkeypatch):
    s.session_check_in_planned(user=nurse, planned_infusion=slot)
    # The second "Check in" read the slot before the first committed: the unique constraint refuses it.
    monkeypatch.setattr(
        scheduling, "_planned_usable", lambda planned, patient: PlannedInfusion.objects.get(pk=planned.pk)
    )
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        s.session_check_in_planned(user=nurse, planned_infusion=slot)
    assert exc.value.message == s.PLANNED_HAS_SESSION
    assert (
        InfusionSession.objects.filter(planned_infusion=slot).count() == 1
        and AuditEntry.objects.count() == before
    )


def test_another_integrity_error_is_not_mistaken_for_a_race(slot, nurse, monkeypatch):
    def broken(*args, **kwargs):
        raise IntegrityError("CHECK constraint failed: something else")

    monkeypatch.setattr(InfusionSession, "save", broken)
    with pytest.raises(IntegrityError):
        s.session_check_in_planned(user=nurse, planned_infusion=slot)


@pytest.mark.parametrize("case", ["draft plan", "cancelled", "not today", "elsewhere"])
def test_refusals_are_messages_on_the_board_and_nothing_is_saved(
    case, staff, patient, chair, protocols, client_for, nurse, northside
):
    user = nurse
    if case == "draft plan":
        slot = first(todays_plan(staff, patient, chair, sign=False))
        expected = (
            "Infusion 1 belongs to a plan that is draft; only a signed, active plan's infusions are given."
        )
    elif case == "cancelled":
        slot = first(todays_plan(staff, patient, chair))
        infusion_cancel(user=nurse, infusion=slot, reason="Has the flu")
        expected = "Infusion 1 is cancelled (Has the flu); it cannot be checked in."
    elif case == "not today":
        slot = todays_plan(staff, patient, chair).infusions.get(sequence=2)
        expected = f"Infusion 2 is planned on {slot.scheduled_start.astimezone(NY).date()}, not today"
    else:  # a nurse of Northside only, and the patient is cared for at Downtown
        slot = first(todays_plan(staff, patient, chair))
        user = make_staff(Role.NURSE, northside, "n.northside")
        expected = "This patient is cared for at Downtown Clinic, which you do not work at"
    before = (InfusionSession.objects.count(), AuditEntry.objects.filter(action="create").count())
    client = client_for(user)
    r = client.post(check_in_url(slot))
    # back to a board the user may see: the slot's, or their own when the slot is at a location they do not
    # work at
    assert r.status_code == 302 and r["Location"] == (
        board_url(slot) if case != "elsewhere" else "/sessions/board/"
    )
    page = client.get(r["Location"])
    assert page.status_code == 200 and expected in text(page).replace("&#x27;", "'")
    if case == "elsewhere":
        assert "Northside" in text(page)
        with pytest.raises(ValidationError, match=re.escape(expected)):
            s.session_check_in_planned(user=user, planned_infusion=slot)
    assert (InfusionSession.objects.count(), AuditEntry.objects.filter(action="create").count()) == before


def test_a_refusal_returns_to_the_referring_board_but_never_to_another_site_or_a_board_not_theirs(
    staff, patient, chair, protocols, client_for, northside
):
    slot = first(todays_plan(staff, patient, chair))
    user = make_staff(Role.NURSE, northside, "n.northside")
    client = client_for(user)
    r = client.post(
        check_in_url(slot),
        HTTP_REFERER="http://testserver/sessions/board/?location=northside&date=2026-01-05",
    )
    assert r["Location"] == "/sessions/board/?location=northside&date=2026-01-05"
    for referer in (
        "https://evil.example/sessions/board/?location=northside",
        "http://testserver/sessions/board/?location=downtown",  # a board this nurse may not see
        "http://testserver/patients/",
    ):
        assert client.post(check_in_url(slot), HTTP_REFERER=referer)["Location"] == "/sessions/board/"
    assert InfusionSession.objects.count() == 0


def test_a_cancelled_check_in_gives_the_slot_back_and_it_can_be_checked_in_again(slot, nurse, client_for):
    client = client_for(nurse)
    client.post(check_in_url(slot))
    mistaken = InfusionSession.objects.get(planned_infusion=slot)
    s.session_cancel(
        user=nurse, session=mistaken, expected_version=mistaken.version, reason="Wrong patient pressed"
    )
    board = selectors.day_board(user=nurse, location=slot.location)
    assert [x.planned for x in board.slots] == [slot]  # expected again, next to the cancelled session's row
    body = text(client.get(board_url(slot)))
    assert 'data-testid="slot"' in body and "Expected" in body and check_in_url(slot) in body
    r = client.post(check_in_url(slot))
    again = InfusionSession.objects.filter(planned_infusion=slot).exclude(state="cancelled").get()
    assert r.status_code == 302 and r["Location"] == f"/sessions/{again.external_id}/"
    assert again.state == "checked_in" and again.pk != mistaken.pk
    assert sorted(InfusionSession.objects.filter(planned_infusion=slot).values_list("state", flat=True)) == [
        "cancelled",
        "checked_in",
    ]
    assert selectors.day_board(user=nurse, location=slot.location).slots == []
    with pytest.raises(
        ValidationError, match="was already checked in for Infusion 1"
    ):  # still only one at a time
        s.session_check_in_planned(user=nurse, planned_infusion=slot)
    assert InfusionSession.objects.filter(planned_infusion=slot).count() == 2


def test_the_database_allows_one_session_per_slot_that_is_not_cancelled(slot, nurse, monkeypatch):
    first_session = s.session_check_in_planned(user=nurse, planned_infusion=slot)
    monkeypatch.setattr(
        scheduling, "_planned_usable", lambda planned, patient: PlannedInfusion.objects.get(pk=planned.pk)
    )
    with pytest.raises(
        ValidationError
    ) as exc:  # a race lost at the database after a cancel and a new check-in
        s.session_check_in_planned(user=nurse, planned_infusion=slot)
    assert exc.value.message == s.PLANNED_HAS_SESSION
    s.session_cancel(
        user=nurse, session=first_session, expected_version=first_session.version, reason="Mistake"
    )
    second = s.session_check_in_planned(user=nurse, planned_infusion=slot)
    with pytest.raises(ValidationError) as exc:
        s.session_check_in_planned(user=nurse, planned_infusion=slot)
    assert exc.value.message == s.PLANNED_HAS_SESSION
    assert list(InfusionSession.objects.filter(planned_infusion=slot).exclude(state="cancelled")) == [second]


def test_check_in_from_a_slot_via_the_api(slot, nurse, client_for):
    r = client_for(nurse).post(
        f"/api/sessions/planned/{slot.external_id}/check-in", content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["state"] == "checked_in"
    again = client_for(nurse).post(
        f"/api/sessions/planned/{slot.external_id}/check-in", content_type="application/json"
    )
    assert again.status_code == 400 and "already checked in" in again.json()["error"]["message"]


def test_a_home_visit_slot_is_in_the_home_visit_lane(staff, patient, protocols, client_for, nurse):
    from ketaclinic.accounts.models import Location

    mobile = Location.objects.create(
        code="mobile",
        name="Mobile infusions",
        kind=Location.Kind.MOBILE,
        service_centre_postal_code="02110",
        service_radius_miles=15,
    )
    nurse.locations.add(mobile)
    patient.address, patient.postal_code = "12 Beacon St", "02108"
    patient.save()
    slot = first(todays_plan(staff, patient, None, location=mobile, at_home=True))
    board = selectors.day_board(user=nurse, location=mobile)
    assert board.chairs[-1].chair is None and [x.planned for x in board.chairs[-1].slots] == [slot]
    assert "Home visit" in text(client_for(nurse).get(board_url(slot)))


def test_an_open_safety_flag_shows_on_the_polled_board_until_assessed(slot, staff, nurse, client_for):
    patient = slot.plan.patient
    client = client_for(nurse)
    assert 'data-testid="board-flags"' not in text(client.get(board_url(slot), HTTP_HX_REQUEST="true"))
    response_record(user=staff[Role.INTAKE], patient=patient, instrument="phq9", answers=PHQ9_ITEM9)
    flag = SafetyFlag.objects.get(patient=patient, status="open")
    body = text(client.get(board_url(slot), HTTP_HX_REQUEST="true"))  # the part polled every 15 s
    assert "<html" not in body and 'data-testid="board-flags"' in body and "URGENT" in body
    assert f"/outcomes/flags/{flag.external_id}/" in body and flag.summary in body and "Maria Garcia" in body
    assert "safety flag</span>" in body  # the badge on her slot
    assert selectors.day_board(user=nurse, location=slot.location).slots[0].flagged
    api = client.get(f"/api/sessions/board?location={slot.location.code}").json()
    assert api["flags"][0]["flag"] == str(flag.external_id) and api["chairs"][0]["slots"][0]["flagged"]
    safety_flag_assess(
        user=staff[Role.PRESCRIBER],
        flag=flag,
        assessment="Passive ideation, no plan or intent.",
        plan="Safety plan reviewed; infusion may proceed; call tomorrow.",
    )
    body = text(client.get(board_url(slot), HTTP_HX_REQUEST="true"))
    assert 'data-testid="board-flags"' not in body and "safety flag</span>" not in body


def test_the_front_desk_sees_that_a_flag_is_open_but_not_whose_it_is(slot, staff, nurse, client_for):
    """The intake coordinator's board (a screen at the public desk) says a patient has an urgent flag and
    to call a clinician, without the patient's name or a badge on their slot; nurses and prescribers, who
    assess flags, see whose it is."""
    patient = slot.plan.patient
    response_record(user=staff[Role.INTAKE], patient=patient, instrument="phq9", answers=PHQ9_ITEM9)
    desk = client_for(staff[Role.INTAKE])
    body = text(desk.get(board_url(slot), HTTP_HX_REQUEST="true"))
    assert 'data-testid="board-flags"' in body and "A patient of this location" in body
    flag_line = body[body.index('data-testid="board-flag"') :].split("</li>")[0]
    assert "Maria Garcia" not in flag_line and "/outcomes/flags/" not in flag_line
    assert "safety flag</span>" not in body  # no badge pointing at her slot either
    api = desk.get(f"/api/sessions/board?location={slot.location.code}").json()
    assert api["flags"][0]["patient_name"] is None and api["flags"][0]["patient"] is None
    assert not api["chairs"][0]["slots"][0]["flagged"]
    nurse_body = text(client_for(nurse).get(board_url(slot), HTTP_HX_REQUEST="true"))
    assert "safety flag</span>" in nurse_body and "Maria Garcia</strong>" in nurse_body


def test_flags_of_other_locations_patients_are_not_on_the_board(slot, staff, nurse, northside):
    other = register(
        make_staff(Role.INTAKE, northside, "i.north"), northside, given_name="Nora", family_name="North"
    )
    response_record(
        user=make_staff(Role.NURSE, northside, "n.north"),
        patient=other,
        instrument="phq9",
        answers=PHQ9_ITEM9,
    )
    assert selectors.day_board(user=nurse, location=slot.location).flags == []
    assert (
        len(selectors.day_board(user=make_staff(Role.NURSE, northside, "n2.north"), location=northside).flags)
        == 1
    )


def test_the_session_row_of_a_flagged_patient_has_the_badge(slot, staff, nurse, client_for):
    s.session_check_in_planned(user=nurse, planned_infusion=slot)
    response_record(user=staff[Role.INTAKE], patient=slot.plan.patient, instrument="phq9", answers=PHQ9_ITEM9)
    (row,) = selectors.day_board(user=nurse, location=slot.location).rows
    assert row.flagged
    assert "safety flag</span>" in text(client_for(nurse).get(board_url(slot)))
