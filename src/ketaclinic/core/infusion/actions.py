"""What a person may do on an infusion session now, and why not the rest: the one answer the services enforce
and the session page and the API render.

Each operation has the permission it needs and the states it is done in; the state changes among them go
through the state machine (:mod:`ketaclinic.core.infusion.state`), whose guards (a signed order and a passed
checklist to start; the observation time and a passing assessment to discharge) are part of the answer.
A refusal says why in words for the person: the role that lacks the permission, or the session's state.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.core.access import PERMISSION_DENIED, Permission, Role
from ketaclinic.core.infusion.state import (
    TRANSITIONS,
    Guards,
    SessionAction,
    SessionState,
    TransitionRefused,
    transition,
)

S = SessionState

SESSION_CLOSED = "This session is {state}; nothing more can be recorded on it."
CHECKLIST_CLOSED = "The checklist can be changed only before the infusion starts (the session is {state})."
ORDER_WRONG_STATE = (
    "An order can be calculated or signed only before the infusion starts (the session is {state})."
)
VIAL_CHECK_WRONG_STATE = "The bag is checked before the infusion starts (the session is {state})."
RATE_WHILE_RUNNING = "The rate can be changed while the infusion runs (the session is {state})."
NOT_RECOVERING = "A discharge assessment is taken while the patient recovers (the session is {state})."
NOTE_WRONG_STATE = "The note is written once the patient is discharged (the session is {state})."
NOT_CHECKED_IN = "Vital signs can be recorded once the patient has checked in."


class SessionOp(StrEnum):
    """Everything a person does on a session (the state changes and the records made along the way)."""

    CHECK_IN = "check_in"
    CANCEL = "cancel"
    CHECKLIST_ANSWER = "checklist_answer"
    CHECKLIST_OVERRIDE = "checklist_override"
    CHECKLIST_COMPLETE = "checklist_complete"
    ORDER_CALCULATE = "order_calculate"
    ORDER_SIGN = "order_sign"
    BAG_CHECK = "bag_check"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    RATE_CHANGE = "rate_change"
    STOP = "stop"
    VITALS_RECORD = "vitals_record"
    ADVERSE_EVENT = "adverse_event"
    ADMINISTRATION = "administration"
    DISCHARGE_ASSESS = "discharge_assess"
    DISCHARGE = "discharge"
    NOTE_GENERATE = "note_generate"
    NOTE_SIGN = "note_sign"


@dataclass(frozen=True, slots=True)
class Rule:
    permission: Permission
    words: str  # what the person tries, after "may not" (PERMISSION_DENIED)
    transition: SessionAction | None = None  # a state change: the state machine says when
    states: frozenset[SessionState] = frozenset()  # otherwise: the states it is done in
    wrong_state: str = ""  # ... and what a refusal says in any other state ({state}: the state's label)
    before_check_in: str = (
        ""  # what it says before the patient has checked in, when that is more to the point
    )


GUARDED = frozenset({SessionAction.START, SessionAction.DISCHARGE})  # the state changes with guards
BEFORE_START = frozenset({S.CHECKED_IN, S.PRECHECKS_DONE})
AT_THE_CHAIR = frozenset({S.CHECKED_IN, S.PRECHECKS_DONE, S.RUNNING, S.PAUSED, S.RECOVERING})
Op = SessionOp
RULES: dict[SessionOp, Rule] = {
    Op.CHECK_IN: Rule(Permission.SCHEDULE_MANAGE, "check patients in", SessionAction.CHECK_IN),
    Op.CANCEL: Rule(Permission.SCHEDULE_MANAGE, "cancel sessions", SessionAction.CANCEL),
    Op.CHECKLIST_ANSWER: Rule(
        Permission.SESSION_RUN, "answer the checklist", states=BEFORE_START, wrong_state=CHECKLIST_CLOSED
    ),
    Op.CHECKLIST_OVERRIDE: Rule(
        Permission.ORDER_SIGN, "override a checklist item", states=BEFORE_START, wrong_state=CHECKLIST_CLOSED
    ),
    Op.CHECKLIST_COMPLETE: Rule(
        Permission.SESSION_RUN, "complete the checklist", SessionAction.PRECHECKS_PASS
    ),
    Op.ORDER_CALCULATE: Rule(
        Permission.SESSION_RUN, "calculate an order", states=BEFORE_START, wrong_state=ORDER_WRONG_STATE
    ),
    Op.ORDER_SIGN: Rule(
        Permission.ORDER_SIGN, "sign an order", states=BEFORE_START, wrong_state=ORDER_WRONG_STATE
    ),
    Op.BAG_CHECK: Rule(
        Permission.SESSION_RUN, "check the bag", states=BEFORE_START, wrong_state=VIAL_CHECK_WRONG_STATE
    ),
    Op.START: Rule(Permission.SESSION_RUN, "start an infusion", SessionAction.START),
    Op.PAUSE: Rule(Permission.SESSION_RUN, "pause an infusion", SessionAction.PAUSE),
    Op.RESUME: Rule(Permission.SESSION_RUN, "resume an infusion", SessionAction.RESUME),
    Op.RATE_CHANGE: Rule(
        Permission.SESSION_RUN,
        "change the rate",
        states=frozenset({S.RUNNING}),
        wrong_state=RATE_WHILE_RUNNING,
    ),
    Op.STOP: Rule(Permission.SESSION_RUN, "stop an infusion", SessionAction.STOP),
    Op.VITALS_RECORD: Rule(
        Permission.SESSION_RUN,
        "record vital signs",
        states=AT_THE_CHAIR,
        wrong_state=SESSION_CLOSED,
        before_check_in=NOT_CHECKED_IN,
    ),
    Op.ADVERSE_EVENT: Rule(
        Permission.SESSION_RUN, "record an adverse event", states=AT_THE_CHAIR, wrong_state=SESSION_CLOSED
    ),
    Op.ADMINISTRATION: Rule(
        Permission.SESSION_RUN, "record a medication given", states=AT_THE_CHAIR, wrong_state=SESSION_CLOSED
    ),
    Op.DISCHARGE_ASSESS: Rule(
        Permission.SESSION_RUN,
        "assess for discharge",
        states=frozenset({S.RECOVERING}),
        wrong_state=NOT_RECOVERING,
    ),
    Op.DISCHARGE: Rule(Permission.SESSION_RUN, "discharge a patient", SessionAction.DISCHARGE),
    Op.NOTE_GENERATE: Rule(
        Permission.SESSION_RUN,
        "write the session note",
        states=frozenset({S.DISCHARGED}),
        wrong_state=NOTE_WRONG_STATE,
    ),
    Op.NOTE_SIGN: Rule(
        Permission.NOTE_SIGN,
        "sign the session note",
        states=frozenset({S.DISCHARGED}),
        wrong_state=NOTE_WRONG_STATE,
    ),
}


@dataclass(frozen=True, slots=True)
class Decision:
    op: SessionOp
    allowed: bool
    reason: str = ""  # why not, for the person ("" when allowed)
    field: str = (
        ""  # what the refusal is about: "permission", "state", or a guard's field (order, checklist...)
    )


def state_refusal(
    op: SessionOp, state: SessionState, guards: Guards | None = None
) -> TransitionRefused | None:
    """Why ``op`` cannot be done in ``state``, or None when it can. A state change's guards (a signed order,
    the observation time...) are weighed when ``guards`` is given; without them the answer is the state's
    alone (what a page offers; the service weighs the guards when the person acts)."""
    rule = RULES[op]
    if rule.transition is not None:
        if guards is None and (state, rule.transition) in TRANSITIONS:
            return None
        try:
            transition(state, rule.transition, guards)
        except TransitionRefused as refused:
            return refused
        return None
    if state in rule.states:
        return None
    if state is S.SCHEDULED and rule.before_check_in:
        return TransitionRefused(rule.before_check_in, field="state", value=state.value)
    return TransitionRefused(
        rule.wrong_state.format(state=state.label.lower()), field="state", value=state.value
    )


def action_decide(
    op: SessionOp,
    state: SessionState,
    *,
    role: Role | str,
    permissions: Collection[Permission],
    guards: Guards | None = None,
) -> Decision:
    """May a person with ``permissions`` (of ``role``) do ``op`` on a ``state`` session now; if not, why."""
    rule = RULES[op]
    if rule.permission not in permissions:
        return Decision(op, False, PERMISSION_DENIED.format(role=role, action=rule.words), "permission")
    refused = state_refusal(op, state, guards)
    if refused is not None:
        return Decision(op, False, refused.message, refused.field or "state")
    return Decision(op, True)


def actions_decide(
    state: SessionState,
    *,
    role: Role | str,
    permissions: Collection[Permission],
    guards: Guards | None = None,
) -> dict[SessionOp, Decision]:
    """Every operation's decision, in the order a session goes."""
    return {
        op: action_decide(op, state, role=role, permissions=permissions, guards=guards) for op in SessionOp
    }


def action_require(op: SessionOp, state: SessionState, guards: Guards | None = None) -> SessionState | None:
    """Refuse ``op`` in ``state`` (:class:`TransitionRefused` naming why); the state it leads to for a state
    change, else None. The services call it after checking the permission (which they audit), with the
    guards of a guarded state change (start, discharge: refused without them)."""
    rule = RULES[op]
    if rule.transition in GUARDED and guards is None:
        guards = Guards()
    refused = state_refusal(op, state, guards)
    if refused is not None:
        raise refused
    return None if rule.transition is None else TRANSITIONS[(state, rule.transition)]


# the person's act behind each state change of the state machine (reopening the pre-checks is no one's act)
OP_OF_TRANSITION = {rule.transition: op for op, rule in RULES.items() if rule.transition is not None}

assert set(RULES) == set(SessionOp)  # noqa: S101 — every operation has its rule
