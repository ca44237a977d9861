"""No infusion outside the pathway: the facts a session must rest on before it is booked and before the pump
starts.

A clinic infuses a patient only on a signed eligible screening, under a protocol written for the screened
indication, inside an active signed treatment plan (a session outside the plan's dated slots joins it with a
reason), with the protocol's spacing since the previous infusion, one infusion at a time, and never while an
urgent safety flag (suicide risk) waits for a prescriber's assessment and plan.

Pure: the service collects the facts, this module says what is wrong, in words a nurse understands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NO_PLAN = "the patient has no active signed treatment plan (sign a plan on an eligible screening first)"
SCREENING_NOT_ELIGIBLE = "the plan's screening is not signed as eligible ({status})"
PROTOCOL_NOT_FOR_INDICATION = (
    "protocol {protocol} is not written for the screened indication ({indication}); it covers {covered}"
)
ADDED_NEEDS_REASON = (
    "a session outside the plan's dated infusions needs a reason (why it is added to the plan)"
)
TOO_SOON = (
    "the previous infusion was {hours:.0f} h before; the protocol asks for at least {minimum:g} h between "
    "infusions (next possible {next_at})"
)
ANOTHER_OPEN = "another infusion of this patient is still open ({what}); one infusion at a time"
FLAG_OPEN = (
    "an urgent safety flag is open ({summary}, raised {raised}); a prescriber must record the assessment "
    "and plan first"
)
PATHWAY_REFUSED = "This infusion cannot go ahead: {problems}."


@dataclass(frozen=True, slots=True)
class OpenFlag:
    summary: str
    raised: str  # already in the location's words and time zone


@dataclass(frozen=True, slots=True)
class PathwayFacts:
    plan_active: bool
    screening_status: str  # "signed eligible", "signed not eligible", "awaiting signature", ...
    screening_eligible: bool
    indication: str | None  # the plan's (screened) indication
    protocol: str
    protocol_indications: tuple[str, ...]
    from_planned_slot: bool
    added_reason: str
    at: datetime  # when the infusion is booked for, or starts
    previous_infusion_at: datetime | None  # the start of the patient's latest other infusion that ran
    min_spacing_hours: float | None
    other_open_session: str | None  # words for another session of the patient that is checked in or infusing
    open_flags: tuple[OpenFlag, ...] = ()


def pathway_problems(f: PathwayFacts, *, at_start: bool = False) -> tuple[str, ...]:
    """Everything that keeps this infusion outside the pathway (empty when it may go ahead).

    ``at_start``: the flags and the one-at-a-time rule are checked when the pump is to start (booking a
    session for a flagged patient is allowed: the flag is assessed before the chair).
    """
    out: list[str] = []
    if not f.plan_active:
        out.append(NO_PLAN)
    elif not f.screening_eligible:
        out.append(SCREENING_NOT_ELIGIBLE.format(status=f.screening_status))
    if f.indication is not None and f.indication not in f.protocol_indications:
        out.append(
            PROTOCOL_NOT_FOR_INDICATION.format(
                protocol=f.protocol,
                indication=f.indication.replace("_", " "),
                covered=", ".join(i.replace("_", " ") for i in f.protocol_indications),
            )
        )
    if not f.from_planned_slot and not f.added_reason.strip():
        out.append(ADDED_NEEDS_REASON)
    if f.previous_infusion_at is not None and f.min_spacing_hours is not None:
        hours = (f.at - f.previous_infusion_at).total_seconds() / 3600.0
        if hours < f.min_spacing_hours:
            next_at = (f.previous_infusion_at + timedelta(hours=f.min_spacing_hours)).strftime(
                "%Y-%m-%d %H:%M"
            )
            out.append(TOO_SOON.format(hours=max(hours, 0.0), minimum=f.min_spacing_hours, next_at=next_at))
    if at_start:
        if f.other_open_session is not None:
            out.append(ANOTHER_OPEN.format(what=f.other_open_session))
        out.extend(FLAG_OPEN.format(summary=fl.summary, raised=fl.raised) for fl in f.open_flags)
    return tuple(out)


def pathway_message(problems: tuple[str, ...]) -> str:
    return PATHWAY_REFUSED.format(problems="; ".join(problems))
