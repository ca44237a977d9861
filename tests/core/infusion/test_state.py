"""The session state machine: every allowed transition, every refusal, and reachability properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.infusion.state import (
    DISCHARGE_BEFORE_OBSERVATION,
    DISCHARGE_WITHOUT_ASSESSMENT,
    START_WITHOUT_CHECKLIST,
    START_WITHOUT_SIGNED_ORDER,
    TRANSITION_REFUSED,
    TRANSITIONS,
    Guards,
    SessionAction,
    SessionState,
    TransitionRefused,
    transition,
)

S, A = SessionState, SessionAction
OK = Guards(
    order_signed=True,
    checklist_failures=(),
    minutes_since_infusion_end=45,
    observation_min=30,
    discharge_failures=(),
)


def test_the_happy_path() -> None:
    state = S.SCHEDULED
    for action in (A.CHECK_IN, A.PRECHECKS_PASS, A.START, A.PAUSE, A.RESUME, A.STOP, A.DISCHARGE):
        state = transition(state, action, OK)
    assert state is S.DISCHARGED


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_cell_of_the_table(state: SessionState, action: SessionAction) -> None:
    if (state, action) in TRANSITIONS:
        assert transition(state, action, OK) is TRANSITIONS[(state, action)]
    else:
        with pytest.raises(TransitionRefused) as exc:
            transition(state, action, OK)
        assert exc.value.message.startswith("Cannot ")
        assert state.label.lower() in exc.value.message


def test_start_twice_is_refused() -> None:
    with pytest.raises(TransitionRefused, match="Cannot start a session that is running"):
        transition(S.RUNNING, A.START, OK)
    assert (
        TRANSITION_REFUSED.format(action="start", state="running")
        == "Cannot start a session that is running."
    )


def test_start_without_a_signed_order_is_refused() -> None:
    with pytest.raises(TransitionRefused) as exc:
        transition(S.PRECHECKS_DONE, A.START, Guards(order_signed=False, checklist_failures=()))
    assert exc.value.message == START_WITHOUT_SIGNED_ORDER


def test_start_without_a_passed_checklist_names_the_items() -> None:
    with pytest.raises(TransitionRefused) as exc:
        transition(
            S.PRECHECKS_DONE, A.START, Guards(order_signed=True, checklist_failures=("no_heavy_meal failed",))
        )
    assert exc.value.message == START_WITHOUT_CHECKLIST.format(items="no_heavy_meal failed")


def test_discharge_before_the_infusion_ends_is_refused() -> None:
    with pytest.raises(TransitionRefused, match="Cannot discharge a session that is running"):
        transition(S.RUNNING, A.DISCHARGE, OK)


@pytest.mark.parametrize("elapsed", [None, 0.0, 29.9])
def test_discharge_before_the_observation_minimum_is_refused(elapsed: float | None) -> None:
    with pytest.raises(TransitionRefused) as exc:
        transition(
            S.RECOVERING,
            A.DISCHARGE,
            Guards(minutes_since_infusion_end=elapsed, observation_min=30, discharge_failures=()),
        )
    assert exc.value.message == DISCHARGE_BEFORE_OBSERVATION.format(elapsed=elapsed or 0.0, minimum=30)


def test_discharge_at_exactly_the_minimum_is_allowed() -> None:
    assert (
        transition(
            S.RECOVERING,
            A.DISCHARGE,
            Guards(minutes_since_infusion_end=30, observation_min=30, discharge_failures=()),
        )
        is S.DISCHARGED
    )


def test_discharge_without_a_fit_assessment_is_refused() -> None:
    with pytest.raises(TransitionRefused) as exc:
        transition(
            S.RECOVERING,
            A.DISCHARGE,
            Guards(
                minutes_since_infusion_end=60, observation_min=30, discharge_failures=("no escort present",)
            ),
        )
    assert exc.value.message == DISCHARGE_WITHOUT_ASSESSMENT.format(reasons="no escort present")


def test_default_guards_refuse_start_and_discharge() -> None:
    with pytest.raises(TransitionRefused):
        transition(S.PRECHECKS_DONE, A.START)
    with pytest.raises(TransitionRefused):
        transition(S.RECOVERING, A.DISCHARGE)


@given(st.lists(st.sampled_from(list(A)), max_size=40), st.booleans(), st.booleans())
def test_discharged_only_through_running_and_recovering(actions, signed, checklist_ok) -> None:
    guards = Guards(
        order_signed=signed,
        checklist_failures=() if checklist_ok else ("x missing",),
        minutes_since_infusion_end=60,
        observation_min=30,
        discharge_failures=(),
    )
    state, seen = S.SCHEDULED, [S.SCHEDULED]
    for action in actions:
        try:
            state = transition(state, action, guards)
        except TransitionRefused:
            continue
        seen.append(state)
    if state is S.DISCHARGED:
        assert S.RUNNING in seen and S.RECOVERING in seen
        assert seen.index(S.RUNNING) < seen.index(S.RECOVERING)
        assert signed and checklist_ok
    if S.RUNNING in seen:
        assert signed and checklist_ok
    # nothing leaves a closed state
    for closed in (S.DISCHARGED, S.CANCELLED):
        if closed in seen:
            assert all(s is closed for s in seen[seen.index(closed) :])


def test_cancel_only_before_the_infusion_starts() -> None:
    for state in (S.SCHEDULED, S.CHECKED_IN, S.PRECHECKS_DONE):
        assert transition(state, A.CANCEL) is S.CANCELLED
    for state in (S.RUNNING, S.PAUSED, S.RECOVERING, S.DISCHARGED):
        with pytest.raises(TransitionRefused):
            transition(state, A.CANCEL)
