"""The session state machine: scheduled → checked_in → prechecks_done → running ⇄ paused → recovering →
discharged.

A session may be cancelled before the infusion starts. Stopping the infusion (from running or paused)
begins recovery. Guards: the infusion starts only with a signed order and a passed checklist; discharge
needs the infusion ended, the protocol's minimum observation elapsed and a passing discharge assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.core.errors import ValidationError


class TransitionRefused(ValidationError):
    """A state change that makes no sense now (start twice, discharge before the infusion ends...)."""


class SessionState(StrEnum):
    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    PRECHECKS_DONE = "prechecks_done"
    RUNNING = "running"
    PAUSED = "paused"
    RECOVERING = "recovering"
    DISCHARGED = "discharged"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def infusing(self) -> bool:
        return self in (SessionState.RUNNING, SessionState.PAUSED)

    @property
    def closed(self) -> bool:
        return self in (SessionState.DISCHARGED, SessionState.CANCELLED)


STATE_LABELS = {
    SessionState.SCHEDULED: "Scheduled",
    SessionState.CHECKED_IN: "Checked in",
    SessionState.PRECHECKS_DONE: "Pre-checks done",
    SessionState.RUNNING: "Running",
    SessionState.PAUSED: "Paused",
    SessionState.RECOVERING: "Recovering",
    SessionState.DISCHARGED: "Discharged",
    SessionState.CANCELLED: "Cancelled",
}


class SessionAction(StrEnum):
    CHECK_IN = "check_in"
    PRECHECKS_PASS = "prechecks_pass"
    PRECHECKS_REOPEN = "prechecks_reopen"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    DISCHARGE = "discharge"
    CANCEL = "cancel"


S, A = SessionState, SessionAction
TRANSITIONS: dict[tuple[SessionState, SessionAction], SessionState] = {
    (S.SCHEDULED, A.CHECK_IN): S.CHECKED_IN,
    (S.CHECKED_IN, A.PRECHECKS_PASS): S.PRECHECKS_DONE,
    (S.PRECHECKS_DONE, A.PRECHECKS_REOPEN): S.CHECKED_IN,
    (S.PRECHECKS_DONE, A.START): S.RUNNING,
    (S.RUNNING, A.PAUSE): S.PAUSED,
    (S.PAUSED, A.RESUME): S.RUNNING,
    (S.RUNNING, A.STOP): S.RECOVERING,
    (S.PAUSED, A.STOP): S.RECOVERING,
    (S.RECOVERING, A.DISCHARGE): S.DISCHARGED,
    (S.SCHEDULED, A.CANCEL): S.CANCELLED,
    (S.CHECKED_IN, A.CANCEL): S.CANCELLED,
    (S.PRECHECKS_DONE, A.CANCEL): S.CANCELLED,
}

TRANSITION_REFUSED = "Cannot {action} a session that is {state}."
START_WITHOUT_SIGNED_ORDER = "The infusion cannot start: the infusion order is not signed by a prescriber."
START_WITHOUT_CHECKLIST = "The infusion cannot start: the pre-infusion checklist has not passed ({items})."
DISCHARGE_BEFORE_OBSERVATION = (
    "The patient cannot be discharged yet: {elapsed:.0f} of the protocol's {minimum:g} min of observation "
    "after the infusion ended have passed."
)
DISCHARGE_WITHOUT_ASSESSMENT = (
    "The patient cannot be discharged: no passing discharge assessment ({reasons})."
)

ACTION_WORDS = {
    A.CHECK_IN: "check in",
    A.PRECHECKS_PASS: "complete the pre-checks of",
    A.PRECHECKS_REOPEN: "reopen the pre-checks of",
    A.START: "start",
    A.PAUSE: "pause",
    A.RESUME: "resume",
    A.STOP: "stop",
    A.DISCHARGE: "discharge",
    A.CANCEL: "cancel",
}


@dataclass(frozen=True, slots=True)
class Guards:
    """What the guarded transitions need to know; only the fields of the action tried are read."""

    order_signed: bool = False
    checklist_failures: tuple[str, ...] = ("not recorded",)
    minutes_since_infusion_end: float | None = None
    observation_min: float = 0.0
    discharge_failures: tuple[str, ...] = ("no assessment",)


def transition(state: SessionState, action: SessionAction, guards: Guards | None = None) -> SessionState:
    """The state after ``action`` or :class:`TransitionRefused` naming why."""
    new = TRANSITIONS.get((state, action))
    if new is None:
        raise TransitionRefused(
            TRANSITION_REFUSED.format(action=ACTION_WORDS[action], state=state.label.lower()),
            field="state",
            value=state.value,
        )
    g = guards or Guards()
    if action is A.START:
        if not g.order_signed:
            raise TransitionRefused(START_WITHOUT_SIGNED_ORDER, field="order", value=None)
        if g.checklist_failures:
            raise TransitionRefused(
                START_WITHOUT_CHECKLIST.format(items=", ".join(g.checklist_failures)),
                field="checklist",
                value=list(g.checklist_failures),
            )
    if action is A.DISCHARGE:
        elapsed = g.minutes_since_infusion_end
        if elapsed is None or elapsed < g.observation_min:
            raise TransitionRefused(
                DISCHARGE_BEFORE_OBSERVATION.format(
                    elapsed=max(elapsed or 0.0, 0.0), minimum=g.observation_min
                ),
                field="observation",
                value=elapsed,
            )
        if g.discharge_failures:
            raise TransitionRefused(
                DISCHARGE_WITHOUT_ASSESSMENT.format(reasons="; ".join(g.discharge_failures)),
                field="discharge",
                value=list(g.discharge_failures),
            )
    return new
