"""Reads of infusion sessions that pages and the API share: detail, day board, MAR, chart series.

Split by what is read, re-exported here. The reads pages and the API call (``detail``, ``board``, ``mar``,
``chart``, ``worklist``) each check their permission (and the patient's location) and keep their query count
bounded. The reads the session actions share (``pathway``, ``checklist``, ``orders``, ``recovery``,
``notes``) take a session the caller already may see, and write nothing. Selectors never import the
services (services import selectors)."""

from __future__ import annotations

from ketaclinic.infusions.selectors.actions import session_actions
from ketaclinic.infusions.selectors.board import (
    LOCATION_NOT_YOURS,
    BoardChair,
    BoardRow,
    BoardSlot,
    DayBoard,
    day_board,
    infusion_number,
)
from ketaclinic.infusions.selectors.chart import ChartSeries, chart_version, vitals_chart
from ketaclinic.infusions.selectors.checklist import (
    baseline_reading,
    checklist_result,
    consent_problem,
    interacting_medications,
    major_interactions,
    patient_allergies,
    reading_of,
    session_consent,
)
from ketaclinic.infusions.selectors.detail import (
    LogEntry,
    SessionDetail,
    last_complete_taken_at,
    rate_event_get,
    rate_event_number,
    session_detail,
    session_get,
    session_log,
    sessions_for_patient,
)
from ketaclinic.infusions.selectors.mar import MarEntry, bag_summary, mar_for_patient, mar_for_session
from ketaclinic.infusions.selectors.notes import note_text
from ketaclinic.infusions.selectors.orders import (
    bag_delivery,
    cosign_due,
    current_order,
    latest_vial_check,
    order_prediction,
    rate_points,
    session_delivery,
    signed_order,
)
from ketaclinic.infusions.selectors.pathway import (
    NO_SESSION_SECTIONS,
    OPEN_STATES,
    active_plan,
    pathway_facts,
    session_checklist,
    session_document,
    session_sections,
)
from ketaclinic.infusions.selectors.polls import SessionStatus, session_polled_get, session_status
from ketaclinic.infusions.selectors.recovery import adverse_events_unreviewed, recovery_readings
from ketaclinic.infusions.selectors.rems import (
    RemsDue,
    RemsFormState,
    rems_form_state,
    rems_forms_due,
    rems_missing_items,
    rems_section,
)
from ketaclinic.infusions.selectors.worklist import CosignItem, PrescriberWorklist, prescriber_worklist

__all__ = [
    "RemsDue",
    "RemsFormState",
    "rems_form_state",
    "rems_forms_due",
    "rems_missing_items",
    "rems_section",
    "session_actions",
    "BoardChair",
    "BoardRow",
    "BoardSlot",
    "ChartSeries",
    "CosignItem",
    "DayBoard",
    "LOCATION_NOT_YOURS",
    "MarEntry",
    "NO_SESSION_SECTIONS",
    "OPEN_STATES",
    "PrescriberWorklist",
    "SessionDetail",
    "active_plan",
    "adverse_events_unreviewed",
    "bag_delivery",
    "bag_summary",
    "baseline_reading",
    "checklist_result",
    "consent_problem",
    "cosign_due",
    "current_order",
    "day_board",
    "infusion_number",
    "interacting_medications",
    "last_complete_taken_at",
    "latest_vial_check",
    "major_interactions",
    "mar_for_patient",
    "mar_for_session",
    "note_text",
    "order_prediction",
    "pathway_facts",
    "patient_allergies",
    "prescriber_worklist",
    "rate_event_get",
    "rate_event_number",
    "rate_points",
    "reading_of",
    "recovery_readings",
    "session_consent",
    "session_delivery",
    "session_detail",
    "session_log",
    "LogEntry",
    "session_document",
    "session_get",
    "session_checklist",
    "session_sections",
    "sessions_for_patient",
    "signed_order",
    "vitals_chart",
    "chart_version",
    "SessionStatus",
    "session_status",
    "session_polled_get",
]
