"""What the person may do on a session now, and why not the rest: the core's one answer
(:func:`ketaclinic.core.infusion.actions.actions_decide`), which the session page and the API render and the
services enforce."""

from __future__ import annotations

from ketaclinic.accounts.models import User
from ketaclinic.core.access import Permission
from ketaclinic.core.infusion.actions import Decision, SessionOp, actions_decide
from ketaclinic.infusions.models import InfusionSession


def session_actions(user: User, session: InfusionSession) -> dict[str, Decision]:
    """Each operation's decision for ``user`` on ``session`` in its state now, keyed by the operation's name.
    A guarded state change (start, discharge) is offered when the state allows it; its guards (a signed order,
    the observation time) are weighed when the person acts, and a refusal then says which is missing."""
    permissions = {p for p in Permission if user.can(p)}
    decisions = actions_decide(session.state_enum, role=user.role, permissions=permissions)
    return {op.value: decisions[op] for op in SessionOp}
