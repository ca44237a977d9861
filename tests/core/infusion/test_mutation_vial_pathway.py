"""The independent bag check and the pathway, where mutation testing showed behaviour unpinned in the pure
core: what the second clinician typed is refused naming the form field and the value, the vial strength is
compared to 0.001 mg/mL (no looser), and the pathway's refusals give the protocol, the indications it
covers, the hours since the previous infusion and the next possible time in words a nurse reads."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.pathway import (
    FLAG_OPEN,
    OpenFlag,
    PathwayFacts,
    pathway_message,
    pathway_problems,
)
from ketaclinic.core.infusion.vial_check import (
    VIAL_STRENGTH_NOT_NUMBER,
    VOLUME_NOT_NUMBER,
    typed_values,
    vial_check_compare,
)


# --- the independent bag check --------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["abc", None, "0", 0, -5.0, math.inf, "nan"])
def test_a_vial_strength_that_is_not_above_zero_is_refused_on_its_field(value: object) -> None:
    with pytest.raises(ValidationError) as err:
        typed_values(value, 2.0)
    assert err.value.message == VIAL_STRENGTH_NOT_NUMBER.format(value=value)
    assert err.value.field == "vial_mg_per_ml" and err.value.value == value


@pytest.mark.parametrize("value", ["2,5 ml", None, "-1", 0.0, math.inf])
def test_a_volume_drawn_that_is_not_above_zero_is_refused_on_its_field(value: object) -> None:
    with pytest.raises(ValidationError) as err:
        typed_values(50.0, value)
    assert err.value.message == VOLUME_NOT_NUMBER.format(value=value)
    assert err.value.field == "drawn_ml" and err.value.value == value


def test_a_volume_below_one_ml_is_a_volume() -> None:
    assert typed_values("10", "0.5") == (10.0, 0.5)
    assert typed_values(0.5, 0.8) == (0.5, 0.8)


@pytest.mark.parametrize(
    ("typed", "matches"), [(50.0, True), (50.0005, True), (50.001, True), (50.01, False)]
)
def test_the_vial_strength_must_match_to_a_thousandth_of_a_mg_per_ml(typed: float, matches: bool) -> None:
    result = vial_check_compare(
        ordered_vial_mg_per_ml=50.0, ordered_drawn_ml=2.0, typed_vial_mg_per_ml=typed, typed_drawn_ml=2.0
    )
    assert result.vial_matches is matches and result.volume_matches


# --- the pathway ----------------------------------------------------------------------------------------
T = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
OK = PathwayFacts(
    plan_active=True,
    screening_status="signed, eligible",
    screening_eligible=True,
    indication="chronic_pain",
    protocol="Depression",
    protocol_indications=("trd", "major_depressive_disorder"),
    from_planned_slot=True,
    added_reason="",
    at=T,
    previous_infusion_at=None,
    min_spacing_hours=None,
    other_open_session=None,
)


def test_a_protocol_not_for_the_indication_names_protocol_indication_and_coverage_in_words() -> None:
    assert pathway_problems(OK) == (
        "protocol Depression is not written for the screened indication (chronic pain); "
        "it covers trd, major depressive disorder",
    )


def test_spacing_is_checked_only_with_both_a_previous_infusion_and_a_minimum() -> None:
    fine = replace(OK, indication="trd")
    assert pathway_problems(replace(fine, previous_infusion_at=T - timedelta(hours=1))) == ()
    assert pathway_problems(replace(fine, min_spacing_hours=48.0)) == ()


@pytest.mark.parametrize(
    ("since", "hours"),
    [(timedelta(minutes=20), "0"), (timedelta(hours=-2), "0"), (timedelta(hours=30), "30")],
)
def test_too_soon_gives_the_hours_since_and_the_next_possible_time(since: timedelta, hours: str) -> None:
    previous = T - since
    facts = replace(OK, indication="trd", previous_infusion_at=previous, min_spacing_hours=48.0)
    next_at = (previous + timedelta(hours=48)).strftime("%Y-%m-%d %H:%M")
    assert pathway_problems(facts) == (
        f"the previous infusion was {hours} h before; the protocol asks for at least 48 h between "
        f"infusions (next possible {next_at})",
    )


def test_too_soon_next_possible_time_is_written_as_a_date_and_clock_time() -> None:
    facts = replace(
        OK, indication="trd", previous_infusion_at=T - timedelta(hours=30), min_spacing_hours=48.0
    )
    (problem,) = pathway_problems(facts)
    assert problem.endswith("(next possible 2026-12-03 09:00)")


def test_an_open_flag_at_the_start_says_when_it_was_raised() -> None:
    flag = OpenFlag(summary="suicide risk on PHQ-9 item 9", raised="2 Dec 2026 14:10")
    facts = replace(OK, indication="trd", open_flags=(flag,))
    assert pathway_problems(facts, at_start=True) == (
        FLAG_OPEN.format(summary=flag.summary, raised=flag.raised),
    )
    assert "raised 2 Dec 2026 14:10)" in pathway_problems(facts, at_start=True)[0]


def test_the_pathway_message_lists_every_problem_separated_by_semicolons() -> None:
    assert pathway_message(("first thing", "second thing")) == (
        "This infusion cannot go ahead: first thing; second thing."
    )
