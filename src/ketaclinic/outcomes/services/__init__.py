"""Measurement-based care actions: record answers (staff or a patient's link), correct a response, send a
link, raise and assess safety flags, propose and decide boosters. Each is one transaction and audited. The
dashboard's summaries (``summaries``) are derived rows, kept in the transaction of each answer.

Scoring, flags, response and relapse are the pure core's (``core.instruments``); nothing is re-decided here.

The actions are split by what they act on (``responses``, ``links``, ``reviews`` of flags and boosters,
``dispatch`` of links by email, ``due``: what is due per patient, stored; shared helpers in ``_common``) and
re-exported here.
"""

from __future__ import annotations

from ketaclinic.outcomes.emails import NO_BASE_URL
from ketaclinic.outcomes.services._common import LINK_HOURS, NOT_ADMINISTRABLE, UNKNOWN_INSTRUMENT
from ketaclinic.outcomes.services.dispatch import (
    DAILY_JOB,
    JUST_SENT,
    NO_EMAIL,
    NOT_WAITING,
    RESEND_AFTER,
    SendSummary,
    due_link_email,
    due_links_send,
)
from ketaclinic.outcomes.services.due import (
    due_rebuild,
    due_refresh,
    due_refresh_indication_settings,
)
from ketaclinic.outcomes.services.links import (
    LINK_EXPIRED,
    LINK_OTHER_PATIENT,
    LINK_UNKNOWN,
    LINK_USED,
    link_create,
    link_open,
    link_submit,
)
from ketaclinic.outcomes.services.messages import link_send
from ketaclinic.outcomes.services.responses import (
    ALREADY_REPLACED,
    AUTHORED_IN_FUTURE,
    CORRECTION_REASON,
    TIMEPOINT_UNKNOWN,
    response_correct,
    response_record,
)
from ketaclinic.outcomes.services.reviews import (
    ASSESSMENT_REQUIRED,
    BOOSTER_ALREADY_DECIDED,
    DECISION_UNKNOWN,
    DECLINE_REASON,
    FLAG_ALREADY_ASSESSED,
    PLAN_REQUIRED,
    booster_decide,
    safety_flag_assess,
)
from ketaclinic.outcomes.services.summaries import (
    outcome_summaries_rebuild,
    outcome_summaries_refresh,
)

__all__ = [
    "link_send",
    "ALREADY_REPLACED",
    "ASSESSMENT_REQUIRED",
    "AUTHORED_IN_FUTURE",
    "BOOSTER_ALREADY_DECIDED",
    "CORRECTION_REASON",
    "DAILY_JOB",
    "DECISION_UNKNOWN",
    "DECLINE_REASON",
    "FLAG_ALREADY_ASSESSED",
    "JUST_SENT",
    "LINK_EXPIRED",
    "LINK_HOURS",
    "LINK_OTHER_PATIENT",
    "LINK_UNKNOWN",
    "LINK_USED",
    "NOT_ADMINISTRABLE",
    "NOT_WAITING",
    "NO_BASE_URL",
    "NO_EMAIL",
    "PLAN_REQUIRED",
    "RESEND_AFTER",
    "SendSummary",
    "TIMEPOINT_UNKNOWN",
    "UNKNOWN_INSTRUMENT",
    "booster_decide",
    "due_link_email",
    "due_rebuild",
    "due_refresh",
    "due_refresh_indication_settings",
    "due_links_send",
    "link_create",
    "link_open",
    "link_submit",
    "outcome_summaries_rebuild",
    "outcome_summaries_refresh",
    "response_correct",
    "response_record",
    "safety_flag_assess",
]
