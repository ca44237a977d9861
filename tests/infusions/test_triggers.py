"""The database refuses edits of clinical facts (vitals, pump events, administrations, signed orders and
notes, acknowledged alerts, addenda), whatever the code path: a shell, a bug, a raw query."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import (
    InfusionOrder,
    MedicationAdministration,
    NoteAddendum,
    RateEvent,
    SessionNote,
    VialCheck,
    VitalAlert,
    VitalSigns,
)
from tests.clock import advance
from tests.infusions.conftest import fresh, vitals, walk

pytestmark = pytest.mark.django_db
REFUSED = DatabaseError  # IntegrityError on SQLite, a raised exception (ProgrammingError) on PostgreSQL


def refused(fn) -> None:
    with pytest.raises(REFUSED), transaction.atomic():
        fn()


@pytest.fixture
def done(session, nurse, prescriber):
    session = walk(session, "recovering", nurse=nurse, prescriber=prescriber)
    (alert,) = vitals(nurse, session, session.ended_at, spo2_percent=90).alerts
    s.alert_acknowledge(user=nurse, alert=alert, note="Recheck 97%")
    advance(35)  # the observation minimum
    vitals(nurse, session, timezone.now())
    session = fresh(session)
    s.discharge_assess(
        user=nurse,
        session=session,
        expected_version=session.version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=2,
        escort_present=True,
        instructions_given=True,
    )
    session = s.session_discharge(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    s.note_generate(user=nurse, session=session, expected_version=session.version)
    s.note_sign(user=prescriber, session=fresh(session), expected_version=fresh(session).version)
    s.note_addendum_add(user=prescriber, session=session, text="Addendum text", reason="Clarification")
    return fresh(session)


@pytest.mark.parametrize(
    ("model", "owner", "field", "value"),
    [
        (VitalSigns, "session", "systolic_mmhg", 120),
        (RateEvent, "session", "rate_mg_per_h", 10.0),
        (MedicationAdministration, "session", "reason", "edited"),
        (NoteAddendum, "note__session", "text", "edited"),
        (VialCheck, "session", "match", False),
    ],
)
def test_append_only_rows_cannot_be_updated_or_deleted(done, model, owner, field, value):
    row = model.objects.filter(**{owner: done}).first()
    assert row is not None
    refused(lambda: model.objects.filter(pk=row.pk).update(**{field: value}))
    refused(lambda: model.objects.filter(pk=row.pk).delete())
    assert getattr(model.objects.get(pk=row.pk), field) == getattr(row, field)


def test_a_reading_cannot_be_changed_by_raw_sql(done):
    v = done.vitals.first()

    def raw() -> None:
        with connection.cursor() as cur:
            cur.execute("UPDATE infusions_vitalsigns SET systolic_mmhg = 120 WHERE id = %s", [v.pk])

    refused(raw)
    assert VitalSigns.objects.get(pk=v.pk).systolic_mmhg == v.systolic_mmhg


def test_a_signed_order_is_frozen(done):
    order = done.orders.get()
    refused(lambda: InfusionOrder.objects.filter(pk=order.pk).update(dose_mg=70))
    refused(
        lambda: InfusionOrder.objects.filter(pk=order.pk).update(vtbi_ml=500)
    )  # the bag is frozen with it
    refused(lambda: InfusionOrder.objects.filter(pk=order.pk).delete())


def test_an_unsigned_order_may_still_be_superseded(session, nurse):
    session = s.session_check_in(user=nurse, session=session, expected_version=1)
    s.checklist_record(
        user=nurse, session=session, expected_version=2, code="weight_today", value="70", unit="kg"
    )
    order = s.order_create(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    InfusionOrder.objects.filter(pk=order.pk).update(superseded=True)
    assert InfusionOrder.objects.get(pk=order.pk).superseded


def test_a_signed_note_is_locked(done):
    note = SessionNote.objects.get(session=done)
    refused(lambda: SessionNote.objects.filter(pk=note.pk).update(text="rewritten"))
    refused(lambda: SessionNote.objects.filter(pk=note.pk).delete())
    assert SessionNote.objects.get(pk=note.pk).text == note.text


def test_an_acknowledged_alert_is_frozen(done):
    alert = VitalAlert.objects.get(session=done)
    refused(lambda: VitalAlert.objects.filter(pk=alert.pk).update(acknowledgement_note="changed"))
