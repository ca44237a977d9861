"""What a person may do on a session now, and why not: one answer for the services, the page and the API."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.core.access import ROLE_PERMISSIONS, Role
from ketaclinic.core.infusion.actions import (
    CHECKLIST_CLOSED,
    NOT_CHECKED_IN,
    OP_OF_TRANSITION,
    RATE_WHILE_RUNNING,
    RULES,
    SESSION_CLOSED,
    SessionOp,
    action_decide,
    action_require,
    actions_decide,
)
from ketaclinic.core.infusion.state import (
    START_WITHOUT_SIGNED_ORDER,
    TRANSITIONS,
    Guards,
    SessionAction,
    SessionState,
    TransitionRefused,
)

S, Op = SessionState, SessionOp
NURSE = ROLE_PERMISSIONS[Role.NURSE]
PRESCRIBER = ROLE_PERMISSIONS[Role.PRESCRIBER]
INTAKE = ROLE_PERMISSIONS[Role.INTAKE]


def allowed(state: SessionState, permissions=NURSE, role: str = "nurse") -> set[SessionOp]:
    return {op for op, d in actions_decide(state, role=role, permissions=permissions).items() if d.allowed}


def test_a_nurse_at_each_step_of_an_infusion_is_offered_what_that_step_needs() -> None:
    assert allowed(S.SCHEDULED) == {Op.CHECK_IN, Op.CANCEL}
    assert allowed(S.CHECKED_IN) == {
        Op.CANCEL,
        Op.CHECKLIST_ANSWER,
        Op.CHECKLIST_COMPLETE,
        Op.ORDER_CALCULATE,
        Op.BAG_CHECK,
        Op.VITALS_RECORD,
        Op.ADVERSE_EVENT,
        Op.ADMINISTRATION,
    }
    assert allowed(S.PRECHECKS_DONE) == {
        Op.CANCEL,
        Op.CHECKLIST_ANSWER,
        Op.ORDER_CALCULATE,
        Op.BAG_CHECK,
        Op.START,
        Op.VITALS_RECORD,
        Op.ADVERSE_EVENT,
        Op.ADMINISTRATION,
    }
    running = {Op.VITALS_RECORD, Op.ADVERSE_EVENT, Op.ADMINISTRATION, Op.STOP}
    assert allowed(S.RUNNING) == running | {Op.PAUSE, Op.RATE_CHANGE}
    assert allowed(S.PAUSED) == running | {Op.RESUME}
    assert allowed(S.RECOVERING) == {
        Op.VITALS_RECORD,
        Op.ADVERSE_EVENT,
        Op.ADMINISTRATION,
        Op.DISCHARGE_ASSESS,
        Op.DISCHARGE,
    }
    assert allowed(S.DISCHARGED) == {Op.NOTE_GENERATE, Op.NOTE_SIGN}  # a nurse signs her own note
    assert allowed(S.CANCELLED) == set()


def test_only_a_prescriber_signs_and_overrides_and_the_front_desk_only_checks_in_and_cancels() -> None:
    assert allowed(S.CHECKED_IN, PRESCRIBER, "prescriber") >= {Op.ORDER_SIGN, Op.CHECKLIST_OVERRIDE}
    assert Op.ORDER_SIGN not in allowed(S.CHECKED_IN) and Op.CHECKLIST_OVERRIDE not in allowed(S.CHECKED_IN)
    assert allowed(S.DISCHARGED, PRESCRIBER, "prescriber") >= {Op.NOTE_SIGN}
    assert allowed(S.SCHEDULED, INTAKE, "intake") == {Op.CHECK_IN, Op.CANCEL}
    assert allowed(S.RUNNING, INTAKE, "intake") == set()


def test_a_refusal_says_why_the_role_or_the_state() -> None:
    no_role = action_decide(Op.START, S.PRECHECKS_DONE, role="intake", permissions=INTAKE)
    assert (no_role.allowed, no_role.field) == (False, "permission")
    assert no_role.reason == "Your role (intake) may not start an infusion."
    paused = action_decide(Op.RATE_CHANGE, S.PAUSED, role="nurse", permissions=NURSE)
    assert (paused.field, paused.reason) == ("state", RATE_WHILE_RUNNING.format(state="paused"))
    late = action_decide(Op.CHECKLIST_ANSWER, S.RUNNING, role="nurse", permissions=NURSE)
    assert late.reason == CHECKLIST_CLOSED.format(state="running")
    early = action_decide(Op.VITALS_RECORD, S.SCHEDULED, role="nurse", permissions=NURSE)
    assert early.reason == NOT_CHECKED_IN
    closed = action_decide(Op.ADVERSE_EVENT, S.DISCHARGED, role="nurse", permissions=NURSE)
    assert closed.reason == SESSION_CLOSED.format(state="discharged")
    twice = action_decide(Op.START, S.RUNNING, role="nurse", permissions=NURSE)
    assert twice.reason == "Cannot start a session that is running."


def test_the_services_weigh_a_start_s_guards_and_refuse_one_given_none() -> None:
    with pytest.raises(TransitionRefused) as exc:
        action_require(Op.START, S.PRECHECKS_DONE)
    assert exc.value.message == START_WITHOUT_SIGNED_ORDER
    ok = Guards(order_signed=True, checklist_failures=())
    assert action_require(Op.START, S.PRECHECKS_DONE, ok) is S.RUNNING
    assert action_require(Op.RATE_CHANGE, S.RUNNING) is None
    with pytest.raises(TransitionRefused, match="the patient cannot be discharged yet|cannot be discharged"):
        action_require(Op.DISCHARGE, S.RECOVERING)


def test_every_state_change_of_the_state_machine_is_a_person_s_act_but_reopening_the_pre_checks() -> None:
    assert set(OP_OF_TRANSITION) == {a for (_, a) in TRANSITIONS} - {SessionAction.PRECHECKS_REOPEN}
    assert all(RULES[op].transition is a for a, op in OP_OF_TRANSITION.items())


@given(st.sampled_from(list(SessionState)), st.sampled_from(list(SessionOp)), st.sampled_from(list(Role)))
def test_the_page_and_the_service_never_disagree(state: SessionState, op: SessionOp, role: Role) -> None:
    """Whatever is offered is what the service (without a guard to weigh) lets through, and the reverse."""
    decision = action_decide(op, state, role=role.value, permissions=ROLE_PERMISSIONS[role])
    has_permission = RULES[op].permission in ROLE_PERMISSIONS[role]
    every_guard_met = Guards(
        order_signed=True, checklist_failures=(), minutes_since_infusion_end=999, discharge_failures=()
    )
    refusal = ""
    try:
        action_require(op, state, every_guard_met)
    except TransitionRefused as refused:
        refusal = refused.message
    state_ok = refusal == ""
    if has_permission:
        assert decision.reason == refusal
    assert decision.allowed == (has_permission and state_ok)
    assert decision.allowed == (decision.reason == "")
