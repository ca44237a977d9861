"""The REMS Patient Monitoring Form: prefilled from the session, every gap named with its time window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.infusion import rems as r
from ketaclinic.core.protocols import parse_protocol
from ketaclinic.core.protocols.rems import RemsSection
from ketaclinic.protocols.files import shipped_protocol

NY = ZoneInfo("America/New_York")
FIRST = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 10:00 in New York


def section() -> RemsSection:
    rems = shipped_protocol("esketamine-nasal").rems
    assert rems is not None
    return rems


def at(minutes: float) -> datetime:
    return FIRST + timedelta(minutes=minutes)


def complete_facts(**changes: object) -> r.SessionFacts:
    facts = r.SessionFacts(
        devices=(
            r.DeviceGiven(at(0), Decimal(28), "LOT-A"),
            r.DeviceGiven(at(5), Decimal(28), "LOT-A"),
        ),
        readings=(
            r.Reading(at(-10), 128, 82, 98, "none"),
            r.Reading(at(41), 146, 90, 96, "moderate"),
            r.Reading(at(110), 130, 80, 97, "mild"),
            r.Reading(at(125), 126, 80, 98, "none"),
        ),
        medications=("sertraline 100 mg",),
        discharged_at=at(130),
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


def test_a_complete_session_fills_every_required_item():
    form = r.rems_prefill(section(), complete_facts())
    assert form.dose_total_mg == 56 and form.device_count == 2 and form.device_lots == ("LOT-A",)
    assert form.monitoring_min == 130 and form.spo2_lowest_percent == 96
    bp40 = form.entry("blood_pressure@after_first_device")
    assert bp40 == r.CheckEntry("blood_pressure@after_first_device", at(41), 146, 90)
    assert form.entry("sedation@before_discharge") == r.CheckEntry(
        "sedation@before_discharge", at(125), level="none"
    )
    assert form.serious_adverse_event is None  # nobody answered "no" for the prescriber
    form = replace(form, serious_adverse_event=False)
    assert r.rems_missing(section(), form, NY) == ()


def test_each_gap_is_named_with_its_window_on_the_location_clock():
    facts = complete_facts(
        devices=(r.DeviceGiven(at(0), Decimal(56)),),
        readings=(r.Reading(at(-10), 128, 82), r.Reading(at(50), 150, 95)),
        medications=(),
        discharged_at=at(100),
    )
    form = r.rems_prefill(section(), facts)
    assert r.rems_missing(section(), form, NY) == (
        r.NO_LOT,
        "Monitoring time: 100 min from the first device; the REMS asks at least 120 min",
        "Blood pressure about 40 minutes after the first device: none recorded between 10:35 and 10:45",
        "Blood pressure before discharge: none recorded between 11:10 and 11:40",
        "Sedation about 40 minutes after the first device: none recorded between 10:30 and 10:50",
        "Sedation before discharge: none recorded between 11:10 and 11:40",
        "Dissociation about 40 minutes after the first device: none recorded between 10:30 and 10:50",
        "Dissociation before discharge: none recorded between 11:10 and 11:40",
        r.NO_SPO2,
        r.NO_CONCOMITANT,
        r.NO_SAE_ANSWER,
    )


def test_an_entry_typed_outside_its_window_or_half_a_pressure_is_refused():
    form = replace(r.rems_prefill(section(), complete_facts()), serious_adverse_event=True)
    checks = tuple(
        r.CheckEntry(e.code, at(47), 140, 90)
        if e.code == "blood_pressure@after_first_device"
        else r.CheckEntry(e.code, e.at, e.systolic_mmhg, None)
        if e.code == "blood_pressure@pre_dose"
        else replace(e, level="drowsy")
        if e.code == "sedation@before_discharge"
        else e
        for e in form.checks
    )
    assert r.rems_missing(section(), replace(form, checks=checks), NY) == (
        "Blood pressure before the first device: the reading at 09:50 has no diastolic pressure",
        "Blood pressure about 40 minutes after the first device: the one at 10:47 is outside 10:35 to 10:45",
        "Sedation before discharge: 'drowsy' is not one of none, mild, moderate, severe",
        r.NO_SAE_TEXT,
    )


def test_no_device_and_no_discharge_cannot_place_the_checks():
    form = r.rems_prefill(section(), r.SessionFacts(readings=(r.Reading(at(0), 120, 80, 99, "none"),)))
    missing = r.rems_missing(section(), form, NY)
    assert missing[:2] == (r.NO_DEVICE, r.NO_LOT) and r.NOT_DISCHARGED in missing
    assert (
        "Blood pressure before the first device: cannot be placed in time (the first device is not recorded)"
        in missing
    )
    assert "Sedation before discharge: cannot be placed in time (the discharge is not recorded)" in missing


def test_a_severe_adverse_event_prefills_yes_with_its_description():
    facts = complete_facts(
        adverse_events=(
            r.EventFact(at(20), "Nausea", severe=False),
            r.EventFact(at(30), "Severe emergence reaction", severe=True, notes="settled with reassurance"),
        )
    )
    form = r.rems_prefill(section(), facts)
    assert form.serious_adverse_event is True
    assert form.serious_adverse_event_description == "Severe emergence reaction: settled with reassurance"


def test_the_reading_nearest_forty_minutes_answers_the_forty_minute_check():
    readings = (r.Reading(at(36), 150, 95), r.Reading(at(39), 140, 88), r.Reading(at(44), 138, 86))
    form = r.rems_prefill(section(), complete_facts(readings=readings))
    assert form.entry("blood_pressure@after_first_device") == r.CheckEntry(
        "blood_pressure@after_first_device", at(39), 140, 88
    )


def test_the_deadline_counts_days_on_the_location_calendar():
    # 23:30 on 3 December in New York is 04:30 on 4 December UTC: the session's day is the 3rd
    late = datetime(2026, 12, 4, 4, 30, tzinfo=UTC)
    on_day_10 = datetime(2026, 12, 11, 4, 0, tzinfo=UTC)  # 23:00 on the 10th in New York
    d = r.rems_deadline(section(), late, on_day_10, NY)
    assert (str(d.session_day), str(d.due), d.days_left, d.overdue) == ("2026-12-03", "2026-12-10", 0, False)
    assert r.rems_due_soon(section(), d)
    d = r.rems_deadline(section(), late, on_day_10 + timedelta(hours=2), NY)  # 01:00 on the 11th
    assert (d.overdue, d.days_overdue) == (True, 1)
    early = r.rems_deadline(section(), late, late + timedelta(days=1), NY)
    assert (early.days_left, r.rems_due_soon(section(), early)) == (6, False)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"checks": []}, "at least 1"),
        ({"submit_within_days": 2, "due_soon_days": 2}, "due_soon_days must be fewer"),
        (
            {"checks": [{"kind": "sedation", "slot": "after_first_device", "source": "x" * 3}]},
            "needs its minutes",
        ),
        (
            {
                "checks": [
                    {
                        "kind": "sedation",
                        "slot": "after_first_device",
                        "minutes": 5,
                        "tolerance_min": 5,
                        "source": "abc",
                    }
                ]
            },
            "must be shorter",
        ),
        ({"checks": [{"kind": "sedation", "slot": "pre_dose", "source": "abc"}]}, "window_min of at least 1"),
        (
            {"checks": [{"kind": "sedation", "slot": "pre_dose", "window_min": 5, "source": "abc"}] * 2},
            "declared twice: sedation@pre_dose",
        ),
    ],
)
def test_a_rems_section_that_cannot_work_is_refused(change, problem):
    data = shipped_protocol("esketamine-nasal").model_dump(mode="json")
    data["rems"].update(change)
    with pytest.raises(Exception, match=problem):
        parse_protocol(data)


def test_other_protocols_keep_their_fingerprint_without_the_section():
    doc = shipped_protocol("depression-standard")
    assert doc.rems is None and '"rems"' not in doc.canonical_json()


minutes = st.integers(min_value=-90, max_value=200)


@given(
    st.lists(st.tuples(minutes, st.integers(60, 220), st.integers(30, 140)), max_size=8),
    st.integers(min_value=0, max_value=240),
)
def test_whatever_the_readings_a_filled_check_is_inside_its_window_and_a_gap_is_reported(raw, discharge):
    readings = tuple(r.Reading(at(m), s, d, 97, "none") for m, s, d in raw)
    facts = complete_facts(readings=readings, discharged_at=at(discharge))
    form = replace(r.rems_prefill(section(), facts), serious_adverse_event=False)
    missing = r.rems_missing(section(), form, NY)
    for check in section().checks:
        e = form.entry(check.code)
        window = r.check_window(check, form.first_device_at, form.discharged_at)
        assert e is not None and window is not None
        label = r.check_label(check)
        if e.at is None:
            assert not any(window[0] <= x.at <= window[1] for x in readings)
            assert any(m.startswith(label + ": none recorded") for m in missing)
        else:
            assert window[0] <= e.at <= window[1]
            assert not any(m.startswith(label + ":") for m in missing)
    assert (r.rems_missing(section(), form, NY) == ()) == (
        discharge >= 120 and all(e.at is not None for e in form.checks)
    )
