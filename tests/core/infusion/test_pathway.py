"""No infusion outside the pathway: the pure rule over the facts a session rests on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.infusion.pathway import (
    ADDED_NEEDS_REASON,
    NO_PLAN,
    OpenFlag,
    PathwayFacts,
    pathway_problems,
)

T = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
OK = PathwayFacts(
    plan_active=True,
    screening_status="signed, eligible",
    screening_eligible=True,
    indication="trd",
    protocol="Depression",
    protocol_indications=("trd", "mdd"),
    from_planned_slot=True,
    added_reason="",
    at=T,
    previous_infusion_at=T - timedelta(hours=72),
    min_spacing_hours=48,
    other_open_session=None,
)


def test_a_planned_infusion_in_an_active_plan_goes_ahead() -> None:
    assert pathway_problems(OK) == () and pathway_problems(OK, at_start=True) == ()


def test_a_never_screened_patient_has_no_plan_and_is_refused() -> None:
    problems = pathway_problems(replace(OK, plan_active=False, screening_eligible=False, indication=None))
    assert problems == (NO_PLAN,)


def test_a_not_eligible_screening_is_refused() -> None:
    problems = pathway_problems(
        replace(OK, screening_eligible=False, screening_status="signed, not eligible")
    )
    assert len(problems) == 1 and "not signed as eligible (signed, not eligible)" in problems[0]


def test_a_protocol_for_another_indication_is_refused() -> None:
    (problem,) = pathway_problems(replace(OK, protocol="CRPS", protocol_indications=("crps",)))
    assert "not written for the screened indication (trd)" in problem and "covers crps" in problem


def test_an_added_session_needs_a_reason() -> None:
    assert pathway_problems(replace(OK, from_planned_slot=False)) == (ADDED_NEEDS_REASON,)
    assert pathway_problems(replace(OK, from_planned_slot=False, added_reason="Extra booster agreed")) == ()


def test_spacing_is_counted_from_the_previous_infusion() -> None:
    (problem,) = pathway_problems(replace(OK, previous_infusion_at=T - timedelta(hours=20)))
    assert "20 h before" in problem and "at least 48 h" in problem
    assert pathway_problems(replace(OK, previous_infusion_at=T - timedelta(hours=48))) == ()


def test_a_second_infusion_while_the_first_is_open_and_an_open_flag_block_the_start_only() -> None:
    f = replace(
        OK, other_open_session="recovering since 09:10", open_flags=(OpenFlag("PHQ-9 item 9", "Wed 09:00"),)
    )
    assert pathway_problems(f) == ()
    problems = pathway_problems(f, at_start=True)
    assert any("still open (recovering since 09:10)" in p for p in problems)
    assert any("urgent safety flag is open (PHQ-9 item 9" in p for p in problems)


@given(st.integers(0, 12000), st.integers(1, 168))
def test_too_soon_exactly_when_inside_the_spacing(minutes: int, spacing: int) -> None:
    f = replace(OK, previous_infusion_at=T - timedelta(minutes=minutes), min_spacing_hours=spacing)
    assert bool(pathway_problems(f)) == (minutes < spacing * 60)
