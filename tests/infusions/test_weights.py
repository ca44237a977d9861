"""Today's weight at the checklist: no unit is assumed; a weight far from the last one or an implausible BMI
needs explicit confirmation showing both weights; a weight changed after the order was signed voids the order.
Regression tests for the cases seen in the demo."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from ketaclinic.core.body import NO_UNIT
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.state import TransitionRefused
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionOrder
from ketaclinic.patients.models import BodyMeasurement
from tests.clock import advance
from tests.conftest import register
from tests.infusions.conftest import fresh, schedule, vial_check, walk

pytestmark = pytest.mark.django_db


def weigh(nurse, session, value, unit, **kw):
    session = fresh(session)
    return s.checklist_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        code="weight_today",
        value=value,
        unit=unit,
        **kw,
    )


def weights(patient) -> list[Decimal]:
    return [m.value_si for m in patient.measurements.filter(kind=BodyMeasurement.Kind.WEIGHT)]


@pytest.fixture
def heavier(intake, downtown):
    return register(
        intake,
        downtown,
        given_name="Tom",
        family_name="Reyes",
        sex_at_birth="male",
        weight=("79.8", "kg"),
        height=("178", "cm"),
    )


def test_a_weight_without_a_unit_is_refused_regression(heavier, nurse, depression, chair):
    """Seen: 176 typed in a checklist whose unit defaulted to kg was accepted for a 79.8 kg patient."""
    session = s.session_check_in(
        user=nurse, session=schedule(nurse, heavier, depression, chair), expected_version=1
    )
    for unit in (None, ""):
        with pytest.raises(ValidationError) as exc:
            weigh(nurse, session, "176", unit)
        assert exc.value.message == NO_UNIT.format(field="Weight", value="176", units="kg or lb")
        assert exc.value.message == "Weight 176 needs a unit: kg or lb."
    assert fresh(session).weight_kg is None and weights(heavier) == [Decimal("79.80")]


def test_176_kg_for_a_79_8_kg_patient_needs_confirmation_showing_both_weights_regression(
    heavier, nurse, depression, chair
):
    session = s.session_check_in(
        user=nurse, session=schedule(nurse, heavier, depression, chair), expected_version=1
    )
    with pytest.raises(ValidationError) as exc:
        weigh(nurse, session, "176", "kg")
    assert (
        "176.00 kg" in exc.value.message
        and "79.80 kg" in exc.value.message
        and exc.value.field == "confirm_weight"
    )
    assert fresh(session).weight_kg is None and weights(heavier) == [Decimal("79.80")]  # nothing half-saved
    weigh(nurse, session, "176", "lb")  # what was meant: 79.83 kg, no confirmation needed
    assert fresh(session).weight_kg == Decimal("79.83")
    weigh(nurse, session, "176", "kg", confirm_weight=True)  # a real change, confirmed, is accepted
    assert fresh(session).weight_kg == Decimal("176.00")


def test_an_implausible_bmi_needs_confirmation(intake, downtown, nurse, depression, chair):
    big = register(
        intake, downtown, given_name="Lee", family_name="Park", weight=("205", "kg"), height=("165", "cm")
    )
    session = s.session_check_in(
        user=nurse, session=schedule(nurse, big, depression, chair), expected_version=1
    )
    with pytest.raises(ValidationError, match=r"BMI of 7\d\.\d, outside 12–70"):
        weigh(nurse, session, "206", "kg")
    weigh(nurse, session, "206", "kg", confirm_weight=True)
    assert fresh(session).weight_kg == Decimal("206.00")


def test_a_weight_changed_after_signing_voids_the_order_and_start_is_refused_regression(
    session, nurse, prescriber
):
    """Seen: a weight corrected after signing left the order valid (0.62 mg/kg infused on a 0.5 mg/kg
    order)."""
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    signed = selectors.signed_order(fresh(session))
    assert signed is not None and signed.weight_kg == Decimal("70.00")
    weigh(nurse, session, "57", "kg", confirm_weight=True)
    signed = InfusionOrder.objects.get(pk=signed.pk)
    assert (
        signed.voided_at is not None and "70.00 kg" in signed.void_reason and "57.00 kg" in signed.void_reason
    )
    assert selectors.signed_order(fresh(session)) is None
    session = fresh(session)
    if session.state == "checked_in":
        session = s.checklist_complete(user=nurse, session=session, expected_version=session.version)
    with pytest.raises(TransitionRefused):
        s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    order = s.order_create(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert order.weight_kg == Decimal("57.00")
    s.order_sign(user=prescriber, order=order, expected_version=fresh(session).version)
    vial_check(prescriber, session)  # the new bag is checked by a second clinician
    advance(1)
    s.infusion_start(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    assert fresh(session).state == "running"


def test_the_same_weight_again_keeps_the_order(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    weigh(nurse, session, "154.32", "lb")  # 70.00 kg
    assert selectors.signed_order(fresh(session)) is not None


def test_a_signed_order_can_be_voided_once_and_nothing_else_changes(session, nurse, prescriber):
    session = walk(session, "prechecks_done", nurse=nurse, prescriber=prescriber)
    order = selectors.signed_order(fresh(session))
    with pytest.raises(DatabaseError), transaction.atomic():
        InfusionOrder.objects.filter(pk=order.pk).update(dose_mg=99)
    weigh(nurse, session, "60", "kg", confirm_weight=True)
    with pytest.raises(DatabaseError), transaction.atomic():
        InfusionOrder.objects.filter(pk=order.pk).update(void_reason="something else")


def test_the_checklist_page_assumes_no_unit_and_the_padss_form_starts_blank(
    session, nurse, prescriber, client_for
):
    client = client_for(nurse)
    checked_in = s.session_check_in(user=nurse, session=session, expected_version=1)
    html = client.get(f"/sessions/{checked_in.external_id}/").content.decode()
    select = html[html.index('name="unit"') :]
    select = select[: select.index("</select>")]
    assert "selected" not in select and '<option value="">' in select and "required" in select
    s.session_cancel(
        user=nurse,
        session=fresh(checked_in),
        expected_version=fresh(checked_in).version,
        reason="Opened to look at the form only",
    )
    session = walk(
        schedule(nurse, session.patient, session.protocol_version),
        "recovering",
        nurse=nurse,
        prescriber=prescriber,
    )
    html = client.get(f"/sessions/{session.external_id}/").content.decode()
    form = html[html.index("discharge-assess/") :]
    form = form[: form.index("</form>")]
    for name in ("activity_mental_status", "pain", "nausea_vomiting", "intake_output"):
        assert f'name="{name}"' in form
    assert "checked" not in form and "selected" not in form


def test_the_padss_form_requires_every_score(session, nurse, prescriber, client_for):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    advance(35)  # the observation minimum passes
    client = client_for(nurse)
    r = client.post(
        f"/sessions/{session.external_id}/discharge-assess/",
        {
            "expected_version": fresh(session).version,
            "pain": "2",
            "nausea_vomiting": "2",
            "intake_output": "2",
            "escort_present": "on",
            "instructions_given": "on",
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 400 and not fresh(session).discharge_assessments.exists()


def test_the_api_refuses_a_weight_without_unit_and_a_padss_without_every_score(
    session, nurse, prescriber, client_for
):
    client = client_for(nurse)
    checked_in = s.session_check_in(user=nurse, session=session, expected_version=1)
    r = client.post(
        f"/api/sessions/{checked_in.external_id}/checklist",
        {"expected_version": checked_in.version, "code": "weight_today", "value": "176"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "Weight 176 needs a unit: kg or lb." in r.content.decode()
    s.session_cancel(
        user=nurse,
        session=fresh(checked_in),
        expected_version=fresh(checked_in).version,
        reason="Opened to look at the form only",
    )
    session = walk(
        schedule(nurse, session.patient, session.protocol_version),
        "recovering",
        nurse=nurse,
        prescriber=prescriber,
    )
    r = client.post(
        f"/api/sessions/{session.external_id}/discharge-assessments",
        {
            "expected_version": fresh(session).version,
            "pain": 2,
            "nausea_vomiting": 2,
            "intake_output": 2,
            "escort_present": True,
            "instructions_given": True,
        },
        content_type="application/json",
    )
    assert r.status_code in (400, 422) and not fresh(session).discharge_assessments.exists()
