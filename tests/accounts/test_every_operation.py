"""Deny by default, checked exhaustively: every page (URL name and method) and every API operation is
listed here with the permission that gates it, a new one without an entry fails the first tests, and
each is refused (403, audited) to every role without that permission and answers every other role exactly
what ``EXPECTED`` says. One test per operation: each role's attempt is rolled back, so all meet one clinic."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from ketaclinic.consent.models import ConsentDocument
from ketaclinic.core.access import Permission, Role, role_can
from tests.accounts.conftest import Clinic, denials_of, rolled_back

pytestmark = pytest.mark.django_db
P = Permission

# Pages that are not behind a permission: signing in and out, and the per-role dashboard.
OPEN_PAGES = {
    "accounts:login",
    "accounts:logout",
    "accounts:otp_verify",
    "accounts:otp_setup",
    "accounts:password_change",
    "my_calendar_feed",  # every member of staff's own calendar feed link
    "inquiries:public",
    "inquiries:thanks",
    "home",
    "web:dashboard",
    "consent:public_sign",
    "questionnaire_answer",
    "preparation_confirm",
    "statement",
    "calendar_feed",
    None,
}  # public pages: the one-time token is the key
PHQ9 = [1, 1, 1, 1, 1, 1, 1, 1, 0]
ASSESS = {
    "assessment": "Passive ideation, no plan or intent; protective factors.",
    "plan": "Safety plan reviewed; call in 24 h.",
}

ALLERGY = {"substance": "Latex", "reaction": "Rash", "severity": "mild"}
SIGN = {"outcome": "not_eligible", "note": "Prescriber judgement after interview."}
NEW_PATIENT = {
    "given_name": "Lena",
    "family_name": "Okafor",
    "birth_date": "1990-02-03",
    "sex_at_birth": "female",
    "location": "downtown",
}

V1 = {"expected_version": 1}

# (url name, method) -> (permission, url, data)
PAGES: dict[tuple[str, str], tuple[Permission, str, dict[str, Any] | None]] = {
    ("accounts:break_glass", "GET"): (P.BREAK_GLASS, "/accounts/break-glass/{other}/", None),
    ("accounts:break_glass", "POST"): (
        P.BREAK_GLASS,
        "/accounts/break-glass/{other}/",
        {"reason": "Patient presented here in crisis today"},
    ),
    ("accounts:break_glass_reviews", "GET"): (P.BREAK_GLASS_REVIEW, "/accounts/break-glass/reviews/", None),
    ("accounts:break_glass_reviews", "POST"): (
        P.BREAK_GLASS_REVIEW,
        "/accounts/break-glass/reviews/",
        {"access": "x", "outcome": "appropriate"},
    ),
    ("patients:list", "GET"): (P.PATIENT_VIEW, "/patients/", None),
    ("patients:new", "GET"): (P.PATIENT_REGISTER, "/patients/new/", None),
    ("patients:new", "POST"): (P.PATIENT_REGISTER, "/patients/new/", {"given_name": ""}),
    ("patients:chart", "GET"): (P.PATIENT_VIEW, "/patients/{patient}/", None),
    ("patients:edit", "GET"): (P.PATIENT_REGISTER, "/patients/{patient}/edit/", None),
    ("patients:edit", "POST"): (P.PATIENT_REGISTER, "/patients/{patient}/edit/", {"given_name": ""}),
    ("patients:measurement_add", "POST"): (
        P.PATIENT_REGISTER,
        "/patients/{patient}/measurements/",
        {"kind": "weight", "value": "71", "unit": "kg"},
    ),
    ("patients:allergy_add", "POST"): (P.CLINICAL_RECORD, "/patients/{patient}/allergies/", ALLERGY),
    ("patients:medication_add", "POST"): (
        P.CLINICAL_RECORD,
        "/patients/{patient}/medications/",
        {"name": "sertraline", "dose": "100 mg"},
    ),
    ("screening:referral_new", "GET"): (P.REFERRAL_RECORD, "/screening/patient/{patient}/referral/", None),
    ("screening:referral_new", "POST"): (P.REFERRAL_RECORD, "/screening/patient/{patient}/referral/", {}),
    ("screening:new", "GET"): (P.SCREENING_RECORD, "/screening/patient/{patient}/new/", None),
    ("screening:new", "POST"): (P.SCREENING_RECORD, "/screening/patient/{patient}/new/", {}),
    ("screening:detail", "GET"): (P.CLINICAL_VIEW, "/screening/{screening}/", None),
    ("screening:document", "GET"): (P.CLINICAL_VIEW, "/screening/documents/{document}/", None),
    ("screening:detail", "POST"): (P.SCREENING_SIGN, "/screening/{screening}/", SIGN),
    ("audit:log", "GET"): (P.AUDIT_VIEW, "/audit/", None),
    ("jobs:list", "GET"): (P.JOBS_VIEW, "/jobs/", None),
    ("protocols:list", "GET"): (P.PROTOCOL_VIEW, "/protocols/", None),
    ("protocols:detail", "GET"): (P.PROTOCOL_VIEW, "/protocols/{protocol_id}/v{version}/", None),
    ("protocols:upload", "POST"): (P.PROTOCOL_LOAD, "/protocols/load/", {}),
    ("accounts:staff", "GET"): (P.STAFF_MANAGE, "/accounts/staff/", None),
    ("accounts:staff", "POST"): (P.STAFF_MANAGE, "/accounts/staff/", {"action": "create", "username": ""}),
    ("accounts:staff_edit", "GET"): (P.STAFF_MANAGE, "/accounts/staff/{staff}/", None),
    ("scheduling:resources", "GET"): (P.STAFF_MANAGE, "/desk/resources/", None),
    ("scheduling:location_resources", "GET"): (P.STAFF_MANAGE, "/desk/resources/downtown/", None),
    ("scheduling:location_resources", "POST"): (
        P.STAFF_MANAGE,
        "/desk/resources/downtown/",
        {"action": "hours_add", "weekday": "0"},
    ),
    ("scheduling:location_shifts", "GET"): (P.STAFF_MANAGE, "/desk/resources/downtown/shifts/", None),
    ("scheduling:location_shifts", "POST"): (
        P.STAFF_MANAGE,
        "/desk/resources/downtown/shifts/",
        {"action": "shift_add"},
    ),
    ("scheduling:staff_skills", "POST"): (P.STAFF_MANAGE, "/desk/staff/{staff}/skills/", {"infuses": "on"}),
    ("inquiries:queue", "GET"): (P.INQUIRY_MANAGE, "/intake/inquiries/", None),
    ("billing:worklist", "GET"): (P.BILLING_VIEW, "/billing/", None),
    ("billing:report", "GET"): (P.BILLING_VIEW, "/billing/reports/", None),
    ("billing:statement_link", "POST"): (
        P.BILLING_RECORD,
        "/billing/patients/{patient}/statement-link/",
        None,
    ),
    ("billing:report_csv", "GET"): (P.BILLING_VIEW, "/billing/reports.csv", None),
    ("billing:account", "GET"): (P.BILLING_VIEW, "/billing/patients/{patient}/", None),
    ("billing:account", "POST"): (
        P.BILLING_RECORD,
        "/billing/patients/{patient}/",
        {"action": "pay", "amount": "10", "method": "cash"},
    ),
    ("billing:receipt", "GET"): (P.BILLING_VIEW, "/billing/patients/{patient}/receipt/", None),
    ("billing:receipt_pdf", "GET"): (P.BILLING_VIEW, "/billing/patients/{patient}/receipt.pdf", None),
    ("billing:payer_active", "POST"): (P.BILLING_RECORD, "/billing/payers/{payer}/active/", {"active": "1"}),
    ("billing:invoice", "GET"): (P.BILLING_VIEW, "/billing/patients/{patient}/invoice/", None),
    ("billing:invoice_pdf", "GET"): (P.BILLING_VIEW, "/billing/patients/{patient}/invoice.pdf", None),
    ("billing:superbill_period", "GET"): (P.BILLING_VIEW, "/billing/patients/{patient}/superbill/", None),
    ("billing:superbill_period_pdf", "GET"): (
        P.BILLING_VIEW,
        "/billing/patients/{patient}/superbill.pdf",
        None,
    ),
    ("billing:session_bill", "POST"): (P.BILLING_RECORD, "/billing/sessions/{session}/bill/", None),
    ("billing:claim", "GET"): (P.BILLING_VIEW, "/billing/sessions/{session}/claim/", None),
    ("billing:claim_pdf", "GET"): (P.BILLING_VIEW, "/billing/sessions/{session}/claim.pdf", None),
    ("billing:claim_837", "GET"): (P.BILLING_VIEW, "/billing/sessions/{session}/claim.837", None),
    ("billing:superbill", "GET"): (P.BILLING_VIEW, "/billing/sessions/{session}/superbill/", None),
    ("billing:superbill_pdf", "GET"): (P.BILLING_VIEW, "/billing/sessions/{session}/superbill.pdf", None),
    ("billing:payers", "GET"): (P.BILLING_VIEW, "/billing/payers/", None),
    ("billing:payers", "POST"): (P.BILLING_RECORD, "/billing/payers/", {"name": "", "kind": "other"}),
    ("billing:payer_edit", "GET"): (P.BILLING_RECORD, "/billing/payers/{payer}/", None),
    ("billing:payer_edit", "POST"): (P.BILLING_RECORD, "/billing/payers/{payer}/", {"name": ""}),
    ("billing:policy_add", "POST"): (P.BILLING_RECORD, "/billing/patients/{patient}/policies/", {}),
    ("billing:policy_edit", "GET"): (P.BILLING_RECORD, "/billing/policies/{policy}/", None),
    ("billing:policy_edit", "POST"): (P.BILLING_RECORD, "/billing/policies/{policy}/", {}),
    ("billing:policy_deactivate", "POST"): (P.BILLING_RECORD, "/billing/policies/{policy}/deactivate/", {}),
    ("billing:authorization_add", "POST"): (
        P.BILLING_RECORD,
        "/billing/policies/{policy}/authorizations/",
        {},
    ),
    ("billing:authorization_status", "POST"): (
        P.BILLING_RECORD,
        "/billing/authorizations/{authorization}/status/",
        {"status": "pending"},
    ),
    ("inquiries:detail", "GET"): (P.INQUIRY_MANAGE, "/intake/inquiries/{inquiry}/", None),
    ("inquiries:detail", "POST"): (
        P.INQUIRY_MANAGE,
        "/intake/inquiries/{inquiry}/",
        {"action": "close", "reason": ""},
    ),
    ("accounts:staff_edit", "POST"): (
        P.STAFF_MANAGE,
        "/accounts/staff/{staff}/",
        {"action": "save", "first_name": ""},
    ),
    ("plans:new", "GET"): (P.PLAN_WRITE, "/plans/patient/{patient}/new/", None),
    ("plans:new", "POST"): (P.PLAN_WRITE, "/plans/patient/{patient}/new/", {}),
    ("plans:detail", "GET"): (P.CLINICAL_VIEW, "/plans/{plan}/", None),
    ("plans:detail", "POST"): (P.PLAN_SIGN, "/plans/{plan}/", {}),
    ("plans:revise", "POST"): (P.PLAN_WRITE, "/plans/{plan}/revise/", {}),
    ("plans:booster", "GET"): (P.SCHEDULE_MANAGE, "/plans/{plan}/booster/", None),
    ("plans:booster", "POST"): (P.SCHEDULE_MANAGE, "/plans/{plan}/booster/", {}),
    ("plans:move", "GET"): (P.SCHEDULE_MANAGE, "/plans/infusions/{infusion}/move/", None),
    ("plans:move", "POST"): (P.SCHEDULE_MANAGE, "/plans/infusions/{infusion}/move/", {}),
    ("plans:cancel", "POST"): (P.SCHEDULE_MANAGE, "/plans/infusions/{infusion}/cancel/", {"reason": "Flu"}),
    ("consent:documents", "GET"): (P.CONSENT_MANAGE, "/consent/documents/", None),
    ("consent:documents", "POST"): (P.CONSENT_MANAGE, "/consent/documents/", {}),
    ("consent:sign", "GET"): (P.CONSENT_RECORD, "/consent/patient/{patient}/sign/", None),
    ("consent:sign", "POST"): (P.CONSENT_RECORD, "/consent/patient/{patient}/sign/", {}),
    ("consent:link_new", "POST"): (P.CONSENT_RECORD, "/consent/patient/{patient}/link/", {}),
    # Infusion session pages ({session}: a checked-in session; a refused form answers 400, never 403, once
    # allowed).
    ("infusions:board", "GET"): (P.BOARD_VIEW, "/sessions/board/?location=downtown", None),
    ("scheduling:calendar", "GET"): (P.CALENDAR_VIEW, "/desk/calendar/?location=downtown", None),
    ("scheduling:book", "GET"): (P.SCHEDULE_MANAGE, "/desk/book/?location=downtown", None),
    ("scheduling:book", "POST"): (P.SCHEDULE_MANAGE, "/desk/book/", {"location": "downtown"}),
    ("scheduling:appointment", "GET"): (P.SCHEDULE_MANAGE, "/desk/appointments/{appointment}/", None),
    ("scheduling:move", "POST"): (P.SCHEDULE_MANAGE, "/desk/appointments/{appointment}/move/", {"start": ""}),
    ("scheduling:cancel", "POST"): (P.SCHEDULE_MANAGE, "/desk/appointments/{appointment}/cancel/", {}),
    ("scheduling:fill", "GET"): (P.SCHEDULE_MANAGE, "/desk/fill/?location=downtown&week=2030-01-07", None),
    ("scheduling:fill", "POST"): (P.SCHEDULE_MANAGE, "/desk/fill/", {"location": "downtown"}),
    ("scheduling:series", "GET"): (P.SCHEDULE_MANAGE, "/desk/plans/{plan}/book/", None),
    ("scheduling:series", "POST"): (P.SCHEDULE_MANAGE, "/desk/plans/{plan}/book/", {"staff": ""}),
    ("plans:home_route", "GET"): (P.BOARD_VIEW, "/plans/home-visits/route/?location=downtown", None),
    # {infusion} is a draft plan's slot next week: refused with a message on the board (302), never 403, once
    # allowed.
    ("infusions:slot_check_in", "POST"): (
        P.SCHEDULE_MANAGE,
        "/sessions/board/slots/{infusion}/check-in/",
        None,
    ),
    ("infusions:patient_sessions", "GET"): (P.SESSION_VIEW, "/sessions/patient/{patient}/", None),
    ("infusions:patient_mar", "GET"): (P.MAR_VIEW, "/sessions/patient/{patient}/mar/", None),
    ("infusions:patient_mar_pdf", "GET"): (P.MAR_VIEW, "/sessions/patient/{patient}/mar.pdf", None),
    ("infusions:session", "GET"): (P.SESSION_VIEW, "/sessions/{session}/", None),
    ("infusions:status", "GET"): (P.SESSION_VIEW, "/sessions/{session}/status/", None),
    ("infusions:chart", "GET"): (P.SESSION_VIEW, "/sessions/{session}/chart.svg", None),
    ("infusions:mar", "GET"): (P.MAR_VIEW, "/sessions/{session}/mar/", None),
    ("infusions:mar_pdf", "GET"): (P.MAR_VIEW, "/sessions/{session}/mar.pdf", None),
    ("infusions:instructions", "GET"): (P.SESSION_VIEW, "/sessions/{session}/instructions/", None),
    ("infusions:instructions_pdf", "GET"): (P.SESSION_VIEW, "/sessions/{session}/instructions.pdf", None),
    ("infusions:note", "GET"): (P.SESSION_VIEW, "/sessions/{session}/note/", None),
    ("infusions:note_generate", "POST"): (P.SESSION_RUN, "/sessions/{session}/note/generate/", V1),
    ("infusions:note_sign", "POST"): (P.NOTE_SIGN, "/sessions/{session}/note/sign/", V1),
    ("infusions:rems_form", "GET"): (P.SESSION_VIEW, "/sessions/{session}/rems/", None),
    ("infusions:rems_form_confirm", "POST"): (P.ORDER_SIGN, "/sessions/{session}/rems/confirm/", {}),
    ("infusions:rems_form_submit", "POST"): (
        P.NOTE_SIGN,
        "/sessions/{session}/rems/submit/",
        {"reference": "PMF-1"},
    ),
    ("infusions:note_addendum", "POST"): (
        P.NOTE_SIGN,
        "/sessions/{session}/note/addendum/",
        {"text": "Escort was her sister.", "reason": "Correction"},
    ),
    ("infusions:check_in", "POST"): (P.SCHEDULE_MANAGE, "/sessions/{session}/check-in/", V1),
    ("infusions:cancel", "POST"): (P.SCHEDULE_MANAGE, "/sessions/{session}/cancel/", V1),
    ("infusions:checklist", "POST"): (
        P.SESSION_RUN,
        "/sessions/{session}/checklist/",
        {**V1, "code": "identity_checked", "answer": "yes"},
    ),
    ("infusions:checklist_override", "POST"): (
        P.ORDER_SIGN,
        "/sessions/{session}/checklist-override/",
        {**V1, "code": "no_heavy_meal", "reason": "Only toast three hours ago"},
    ),
    ("infusions:checklist_complete", "POST"): (P.SESSION_RUN, "/sessions/{session}/checklist-complete/", V1),
    ("infusions:order_create", "POST"): (P.SESSION_RUN, "/sessions/{session}/order-create/", V1),
    ("infusions:order_sign", "POST"): (P.ORDER_SIGN, "/sessions/{session}/order-sign/", V1),
    ("infusions:start", "POST"): (P.SESSION_RUN, "/sessions/{session}/start/", V1),
    ("infusions:pause", "POST"): (P.SESSION_RUN, "/sessions/{session}/pause/", V1),
    ("infusions:resume", "POST"): (P.SESSION_RUN, "/sessions/{session}/resume/", V1),
    ("infusions:rate", "POST"): (
        P.SESSION_RUN,
        "/sessions/{session}/rate/",
        {**V1, "rate_mg_per_h": 40, "reason": "BP"},
    ),
    ("infusions:vial_check", "POST"): (
        P.SESSION_RUN,
        "/sessions/{session}/vial-check/",
        {**V1, "vial_mg_per_ml": 50, "drawn_ml": 0.7},
    ),
    ("infusions:bag_check", "GET"): (P.SESSION_RUN, "/sessions/{session}/bag-check/", None),
    ("infusions:bag_check", "POST"): (
        P.SESSION_RUN,
        "/sessions/{session}/bag-check/",
        {**V1, "vial_mg_per_ml": 50, "drawn_ml": 0.7},
    ),
    ("infusions:titration_cosign", "POST"): (
        P.ORDER_SIGN,
        "/sessions/{session}/titration-cosign/",
        {"event": 1},
    ),
    ("infusions:stop", "POST"): (P.SESSION_RUN, "/sessions/{session}/stop/", V1),
    ("infusions:vitals", "POST"): (
        P.SESSION_RUN,
        "/sessions/{session}/vitals/",
        {"client_id": "every-operation-page", "heart_rate_bpm": 72},
    ),
    ("infusions:alert_ack", "POST"): (P.SESSION_RUN, "/sessions/{session}/alert-ack/", {}),
    ("infusions:adverse_event", "POST"): (
        P.SESSION_RUN,
        "/sessions/{session}/adverse-event/",
        {**V1, "kind": "nausea", "severity": "mild"},
    ),
    ("infusions:administration", "POST"): (
        P.SESSION_RUN,
        "/sessions/{session}/administration/",
        {**V1, "medication": "ondansetron", "dose": "4", "unit": "mg", "route": "iv"},
    ),
    ("infusions:discharge_assess", "POST"): (
        P.SESSION_RUN,
        "/sessions/{session}/discharge-assess/",
        {**V1, "activity_mental_status": 2, "pain": 2, "nausea_vomiting": 2, "intake_output": 2},
    ),
    ("infusions:discharge", "POST"): (P.SESSION_RUN, "/sessions/{session}/discharge/", V1),
    ("infusions:adverse_review", "POST"): (
        P.ORDER_SIGN,
        "/sessions/{session}/adverse-review/",
        {"event": "", "note": "Reviewed at the chair"},
    ),
    ("outcomes:patient", "GET"): (P.CLINICAL_VIEW, "/outcomes/patient/{patient}/", None),
    ("outcomes:chart", "GET"): (P.CLINICAL_VIEW, "/outcomes/patient/{patient}/chart/phq9.svg", None),
    ("outcomes:record", "GET"): (P.QUESTIONNAIRE_RECORD, "/outcomes/patient/{patient}/record/phq9/", None),
    ("outcomes:record", "POST"): (P.QUESTIONNAIRE_RECORD, "/outcomes/patient/{patient}/record/phq9/", {}),
    ("outcomes:link_new", "POST"): (
        P.QUESTIONNAIRE_RECORD,
        "/outcomes/patient/{patient}/link/",
        {"instrument": "phq9", "hours": "72", "how": "sms"},
    ),
    ("messaging:preferences", "POST"): (
        P.PATIENT_REGISTER,
        "/messages/patient/{patient}/preferences/",
        {"sms_opted_out": "on"},
    ),
    ("patient_calendar_feed", "POST"): (
        P.PATIENT_REGISTER,
        "/patients/{patient}/calendar-feed/",
        {"action": "create"},
    ),
    ("messaging:resend", "POST"): (
        P.PATIENT_REGISTER,
        "/messages/patient/{patient}/resend/",
        {"message": ""},
    ),
    ("outcomes:correct", "GET"): (P.QUESTIONNAIRE_RECORD, "/outcomes/responses/{response}/correct/", None),
    ("outcomes:correct", "POST"): (P.QUESTIONNAIRE_RECORD, "/outcomes/responses/{response}/correct/", {}),
    ("outcomes:worklist", "GET"): (P.QUESTIONNAIRE_RECORD, "/outcomes/worklist/?location=downtown", None),
    ("outcomes:worklist_send", "POST"): (
        P.QUESTIONNAIRE_RECORD,
        "/outcomes/patient/{patient}/send-due-link/",
        {
            "instrument": "phq9",
            "timepoint": "baseline",
            "due_on": "2026-11-25",
            "how": "email",
            "location": "downtown",
        },
    ),
    ("outcomes:flag", "GET"): (P.CLINICAL_VIEW, "/outcomes/flags/{flag}/", None),
    ("outcomes:flag", "POST"): (P.SAFETY_ASSESS, "/outcomes/flags/{flag}/", ASSESS),
    ("outcomes:booster", "POST"): (
        P.BOOSTER_DECIDE,
        "/outcomes/boosters/{booster}/",
        {"decision": "decline", "reason": "Patient prefers to wait a week"},
    ),
    ("outcomes:dashboard", "GET"): (P.OUTCOMES_VIEW, "/outcomes/dashboard/", None),
    ("outcomes:dashboard_csv", "GET"): (P.OUTCOMES_VIEW, "/outcomes/dashboard.csv", None),
}

# (operation name, method) -> (permission, url, json body)
API: dict[tuple[str, str], tuple[Permission, str, dict[str, Any] | None]] = {
    ("worklist", "GET"): (P.BILLING_VIEW, "/api/billing/worklist", None),
    ("account", "GET"): (P.BILLING_VIEW, "/api/billing/accounts/{patient}", None),
    ("package_sell", "POST"): (
        P.BILLING_RECORD,
        "/api/billing/accounts/{patient}/packages",
        {"package": "series-6"},
    ),
    ("payment", "POST"): (
        P.BILLING_RECORD,
        "/api/billing/accounts/{patient}/payments",
        {"amount": "0.00", "currency": "USD", "method": "cash"},
    ),
    ("refund", "POST"): (
        P.BILLING_RECORD,
        "/api/billing/accounts/{patient}/refunds",
        {
            "payment": "00000000-0000-4000-8000-000000000000",
            "amount": "1.00",
            "currency": "USD",
            "reason": "r",
        },
    ),
    ("write_off", "POST"): (
        P.BILLING_RECORD,
        "/api/billing/accounts/{patient}/write-offs",
        {"amount": "0.00", "currency": "USD", "reason": "r"},
    ),
    ("entry_reversal", "POST"): (
        P.BILLING_RECORD,
        "/api/billing/accounts/{patient}/reversals",
        {"entry": "00000000-0000-4000-8000-000000000000", "reason": "r"},
    ),
    ("statement_link", "POST"): (P.BILLING_RECORD, "/api/billing/accounts/{patient}/statement-link", {}),
    ("claim", "GET"): (P.BILLING_VIEW, "/api/billing/sessions/{session}/claim", None),
    ("claim_837", "GET"): (P.BILLING_VIEW, "/api/billing/sessions/{session}/claim.837", None),
    ("patient_search", "GET"): (P.PATIENT_VIEW, "/api/patients", None),
    ("patient_register", "POST"): (P.PATIENT_REGISTER, "/api/patients", NEW_PATIENT),
    ("patient_duplicates", "POST"): (P.PATIENT_REGISTER, "/api/patients/duplicates", NEW_PATIENT),
    ("patient_chart", "GET"): (P.PATIENT_VIEW, "/api/patients/{patient}", None),
    ("measurement_record", "POST"): (
        P.PATIENT_REGISTER,
        "/api/patients/{patient}/measurements",
        {"kind": "weight", "value": "71", "unit": "kg"},
    ),
    ("allergy_record", "POST"): (P.CLINICAL_RECORD, "/api/patients/{patient}/allergies", ALLERGY),
    ("medication_record", "POST"): (
        P.CLINICAL_RECORD,
        "/api/patients/{patient}/medications",
        {"name": "sertraline", "dose": "100 mg"},
    ),
    ("referral_list", "GET"): (P.CLINICAL_VIEW, "/api/screening/patients/{patient}/referrals", None),
    ("referral_record", "POST"): (
        P.REFERRAL_RECORD,
        "/api/screening/patients/{patient}/referrals",
        {
            "indication": "trd",
            "referrer_name": "Dr. A",
            "referrer_role": "psychiatrist",
            "reason": "TRD",
            "received_on": "2026-11-02",
        },
    ),
    ("screening_list", "GET"): (P.CLINICAL_VIEW, "/api/screening/patients/{patient}/screenings", None),
    ("screening_record", "POST"): (
        P.SCREENING_RECORD,
        "/api/screening/patients/{patient}/screenings",
        {"indication": "trd"},
    ),
    ("screening_get", "GET"): (P.CLINICAL_VIEW, "/api/screening/screenings/{screening}", None),
    ("screening_sign", "POST"): (P.SCREENING_SIGN, "/api/screening/screenings/{screening}/sign", SIGN),
    ("protocol_list", "GET"): (P.PROTOCOL_VIEW, "/api/protocols", None),
    ("protocol_document", "GET"): (P.PROTOCOL_VIEW, "/api/protocols/{protocol_id}/{version}", None),
    ("plan_list", "GET"): (P.CLINICAL_VIEW, "/api/plans/patients/{patient}/plans", None),
    ("plan_draft", "POST"): (
        P.PLAN_WRITE,
        "/api/plans/patients/{patient}/plans",
        {
            "screening": "{eligible}",
            "start": "2030-01-07",
            "weekdays": [0, 3],
            "at": "09:00",
            "location": "downtown",
            "chair": "{chair}",
        },
    ),
    ("plan_get", "GET"): (P.CLINICAL_VIEW, "/api/plans/plans/{plan}", None),
    ("plan_sign", "POST"): (P.PLAN_SIGN, "/api/plans/plans/{plan}/sign", None),
    ("plan_revise", "POST"): (P.PLAN_WRITE, "/api/plans/plans/{plan}/revise", {"notes": "x"}),
    ("infusion_move", "POST"): (
        P.SCHEDULE_MANAGE,
        "/api/plans/infusions/{infusion}/move",
        {"start": "2030-01-08T14:00:00-05:00"},
    ),
    ("infusion_cancel", "POST"): (
        P.SCHEDULE_MANAGE,
        "/api/plans/infusions/{infusion}/cancel",
        {"reason": "Flu"},
    ),
    ("booster_add", "POST"): (
        P.SCHEDULE_MANAGE,
        "/api/plans/plans/{plan}/boosters",
        {"location": "downtown", "start": "2030-03-01T09:00:00-05:00"},
    ),
    ("free_slots", "GET"): (
        P.SCHEDULE_MANAGE,
        "/api/desk/free-slots?location=downtown&type=consultation&start=2030-03-04T10:00:00-05:00&patient={patient}",
        None,
    ),
    ("book", "POST"): (
        P.SCHEDULE_MANAGE,
        "/api/desk/appointments",
        {
            "patient": "{patient}",
            "type": "consultation",
            "location": "downtown",
            "start": "2030-03-04T10:00:00-05:00",
            "staff": "{staff}",
        },
    ),
    ("consent_status", "GET"): (P.CLINICAL_VIEW, "/api/consent/patients/{patient}", None),
    ("consent_link_create", "POST"): (P.CONSENT_RECORD, "/api/consent/patients/{patient}/links", {}),
    ("consent_sign_in_clinic", "POST"): (
        P.CONSENT_RECORD,
        "/api/consent/patients/{patient}/signatures",
        {
            "document": "{consent_doc}",
            "typed_name": "Maria Garcia",
            "signature": "data:image/png;base64,AAAA",
        },
    ),
    ("consent_documents", "GET"): (P.CONSENT_MANAGE, "/api/consent/documents", None),
    ("consent_document_edit", "POST"): (
        P.CONSENT_MANAGE,
        "/api/consent/documents",
        {"code": "ketamine-infusion", "title": "Consent", "body": "New text.", "changelog": "Shorter"},
    ),
    # Infusion sessions ({session}: a checked-in session of the patient; unknown ids answer 404 once allowed).
    ("session_schedule", "POST"): (
        P.SCHEDULE_MANAGE,
        "/api/sessions/patients/{patient}/sessions",
        {"scheduled_start": "2026-11-25T14:00:00Z", "protocol_id": "depression-standard"},
    ),
    ("day_board", "GET"): (P.BOARD_VIEW, "/api/sessions/board?location=downtown", None),
    ("planned_check_in", "POST"): (P.SCHEDULE_MANAGE, "/api/sessions/planned/{infusion}/check-in", None),
    ("patient_sessions", "GET"): (P.SESSION_VIEW, "/api/sessions/patients/{patient}/sessions", None),
    ("patient_mar", "GET"): (P.MAR_VIEW, "/api/sessions/patients/{patient}/mar", None),
    ("session_detail", "GET"): (P.SESSION_VIEW, "/api/sessions/{session}", None),
    ("session_check_in", "POST"): (P.SCHEDULE_MANAGE, "/api/sessions/{session}/check-in", V1),
    ("session_cancel", "POST"): (
        P.SCHEDULE_MANAGE,
        "/api/sessions/{session}/cancel",
        {**V1, "reason": "Unwell"},
    ),
    ("checklist_record", "POST"): (
        P.SESSION_RUN,
        "/api/sessions/{session}/checklist",
        {**V1, "code": "identity_checked", "answer": "yes"},
    ),
    ("checklist_override", "POST"): (
        P.ORDER_SIGN,
        "/api/sessions/{session}/checklist/override",
        {**V1, "code": "no_heavy_meal", "reason": "Only toast three hours ago"},
    ),
    ("checklist_complete", "POST"): (P.SESSION_RUN, "/api/sessions/{session}/checklist/complete", V1),
    ("order_create", "POST"): (P.SESSION_RUN, "/api/sessions/{session}/orders", V1),
    ("order_sign", "POST"): (P.ORDER_SIGN, "/api/sessions/{order_session}/orders/{order}/sign", V1),
    ("vial_check_record", "POST"): (
        P.SESSION_RUN,
        "/api/sessions/{session}/vial-check",
        {**V1, "vial_mg_per_ml": 50, "drawn_ml": 0.7},
    ),
    ("infusion_start", "POST"): (P.SESSION_RUN, "/api/sessions/{session}/start", V1),
    ("infusion_pause", "POST"): (P.SESSION_RUN, "/api/sessions/{session}/pause", V1),
    ("infusion_resume", "POST"): (P.SESSION_RUN, "/api/sessions/{session}/resume", V1),
    ("infusion_rate_change", "POST"): (
        P.SESSION_RUN,
        "/api/sessions/{session}/rate",
        {**V1, "rate_mg_per_h": 40, "reason": "BP rising"},
    ),
    ("infusion_stop", "POST"): (P.SESSION_RUN, "/api/sessions/{session}/stop", V1),
    ("titration_cosign", "POST"): (P.ORDER_SIGN, "/api/sessions/{session}/rate-events/1/cosign", None),
    ("vitals_record", "POST"): (
        P.SESSION_RUN,
        "/api/sessions/{session}/vitals",
        {"client_id": "every-operation", "heart_rate_bpm": 72},
    ),
    ("vitals_chart", "GET"): (P.SESSION_VIEW, "/api/sessions/{session}/vitals", None),
    ("alert_acknowledge", "POST"): (
        P.SESSION_RUN,
        "/api/sessions/{alert_session}/alerts/{alert}/acknowledge",
        {},
    ),
    ("adverse_event_record", "POST"): (
        P.SESSION_RUN,
        "/api/sessions/{session}/adverse-events",
        {**V1, "kind": "nausea", "severity": "mild"},
    ),
    ("administration_record", "POST"): (
        P.SESSION_RUN,
        "/api/sessions/{session}/administrations",
        {**V1, "medication": "ondansetron", "dose": "4", "unit": "mg", "route": "iv"},
    ),
    ("discharge_assess", "POST"): (
        P.SESSION_RUN,
        "/api/sessions/{session}/discharge-assessments",
        {
            **V1,
            "activity_mental_status": 2,
            "pain": 2,
            "nausea_vomiting": 2,
            "intake_output": 2,
            "escort_present": True,
            "instructions_given": True,
        },
    ),
    ("session_discharge", "POST"): (P.SESSION_RUN, "/api/sessions/{session}/discharge", V1),
    ("adverse_event_review", "POST"): (
        P.ORDER_SIGN,
        "/api/sessions/{event_session}/adverse-events/{event}/review",
        {"note": "Reviewed at the chair"},
    ),
    ("note_generate", "POST"): (P.SESSION_RUN, "/api/sessions/{session}/note", V1),
    ("note_sign", "POST"): (P.NOTE_SIGN, "/api/sessions/{session}/note/sign", V1),
    ("note_addendum_add", "POST"): (
        P.NOTE_SIGN,
        "/api/sessions/{session}/note/addenda",
        {"text": "Escort was her sister.", "reason": "Correction"},
    ),
    ("session_mar", "GET"): (P.MAR_VIEW, "/api/sessions/{session}/mar", None),
    ("response_list", "GET"): (P.CLINICAL_VIEW, "/api/outcomes/patients/{patient}/responses", None),
    ("response_record", "POST"): (
        P.QUESTIONNAIRE_RECORD,
        "/api/outcomes/patients/{patient}/responses",
        {"instrument": "phq9", "answers": PHQ9},
    ),
    ("response_correct", "POST"): (
        P.QUESTIONNAIRE_RECORD,
        "/api/outcomes/responses/{response}/correct",
        {"answers": PHQ9, "reason": "Item 3 entered wrongly"},
    ),
    ("trajectory_get", "GET"): (P.CLINICAL_VIEW, "/api/outcomes/patients/{patient}/trajectory/phq9", None),
    ("safety_flag_list", "GET"): (P.CLINICAL_VIEW, "/api/outcomes/flags", None),
    ("safety_flag_assess", "POST"): (P.SAFETY_ASSESS, "/api/outcomes/flags/{flag}/assess", ASSESS),
    ("booster_decide", "POST"): (
        P.BOOSTER_DECIDE,
        "/api/outcomes/boosters/{booster}/decide",
        {"decision": "accept"},
    ),
    ("outcomes_dashboard", "GET"): (
        P.OUTCOMES_VIEW,
        "/api/outcomes/dashboard?start=2026-01-01&end=2026-12-31",
        None,
    ),
}

# What each operation answers a role that may use it, on the sweep's clinic: 200 a page, 201 a created record,
# 302 a redirect after a write, 400 a rule's refusal naming the field, 409 "changed meanwhile" (the sweep
# posts version 1 of a session that has moved on). A role-by-role answer is written out where roles differ
# (the front desk, who cannot open a session, is sent back to the board with the message). Every other role:
# 403.
EXPECTED: dict[tuple[str, str], int | dict[Role, int]] = {
    ("accounts:break_glass", "GET"): 200,
    ("accounts:break_glass", "POST"): 302,
    ("accounts:break_glass_reviews", "GET"): 200,
    ("accounts:break_glass_reviews", "POST"): 400,
    ("patients:list", "GET"): 200,
    ("patients:new", "GET"): 200,
    ("patients:new", "POST"): 400,
    ("patients:chart", "GET"): 200,
    ("patients:edit", "GET"): 200,
    ("patients:edit", "POST"): 400,
    ("patients:measurement_add", "POST"): 302,
    ("patients:allergy_add", "POST"): 302,
    ("patients:medication_add", "POST"): 302,
    ("screening:referral_new", "GET"): 200,
    ("screening:referral_new", "POST"): 400,
    ("screening:new", "GET"): 200,
    ("screening:new", "POST"): 400,
    ("screening:detail", "GET"): 200,
    ("screening:document", "GET"): 200,
    ("screening:detail", "POST"): 302,
    ("audit:log", "GET"): 200,
    ("jobs:list", "GET"): 200,
    ("protocols:list", "GET"): 200,
    ("protocols:detail", "GET"): 200,
    ("protocols:upload", "POST"): 302,
    ("accounts:staff", "GET"): 200,
    ("accounts:staff", "POST"): 400,
    ("accounts:staff_edit", "GET"): 200,
    ("scheduling:resources", "GET"): 200,
    ("scheduling:location_resources", "GET"): 200,
    ("scheduling:location_resources", "POST"): 400,
    ("scheduling:location_shifts", "GET"): 200,
    ("scheduling:location_shifts", "POST"): 400,
    ("scheduling:staff_skills", "POST"): 302,
    ("inquiries:queue", "GET"): 200,
    ("billing:worklist", "GET"): 200,
    ("billing:report", "GET"): 200,
    ("billing:statement_link", "POST"): 302,
    ("billing:report_csv", "GET"): 200,
    ("billing:account", "GET"): 200,
    ("billing:account", "POST"): 400,  # a payment on a balance of nothing
    ("billing:receipt", "GET"): 200,
    ("billing:receipt_pdf", "GET"): 200,
    ("billing:payer_active", "POST"): 302,
    ("billing:invoice", "GET"): 200,
    ("billing:invoice_pdf", "GET"): 200,
    ("billing:superbill_period", "GET"): 200,
    ("billing:superbill_period_pdf", "GET"): 200,
    ("billing:session_bill", "POST"): 302,
    ("billing:superbill", "GET"): 200,
    ("billing:payers", "GET"): 200,
    ("billing:payers", "POST"): 400,
    ("billing:payer_edit", "GET"): 200,
    ("billing:payer_edit", "POST"): 400,
    ("billing:policy_add", "POST"): 400,
    ("billing:policy_edit", "GET"): 200,
    ("billing:policy_edit", "POST"): 400,
    ("billing:policy_deactivate", "POST"): 302,
    ("billing:authorization_add", "POST"): 400,
    ("billing:authorization_status", "POST"): 302,
    ("worklist", "GET"): 200,
    ("account", "GET"): 200,
    ("package_sell", "POST"): 201,
    ("payment", "POST"): 400,
    ("refund", "POST"): 400,
    ("write_off", "POST"): 400,
    ("entry_reversal", "POST"): 400,
    ("statement_link", "POST"): 201,
    ("claim", "GET"): 400,
    ("claim_837", "GET"): 400,
    ("billing:claim", "GET"): 302,  # no insurance on file: back to the account, saying so
    ("billing:claim_pdf", "GET"): 302,
    ("billing:claim_837", "GET"): 302,
    ("billing:superbill_pdf", "GET"): 200,
    ("inquiries:detail", "GET"): 200,
    ("inquiries:detail", "POST"): 400,
    ("accounts:staff_edit", "POST"): 400,
    ("plans:new", "GET"): 200,
    ("plans:new", "POST"): 400,
    ("plans:detail", "GET"): 200,
    ("plans:detail", "POST"): 302,
    ("plans:revise", "POST"): 302,
    ("plans:booster", "GET"): 200,
    ("plans:booster", "POST"): 400,
    ("plans:move", "GET"): 200,
    ("plans:move", "POST"): 400,
    ("plans:cancel", "POST"): 302,
    ("consent:documents", "GET"): 200,
    ("consent:documents", "POST"): 400,
    ("consent:sign", "GET"): 200,
    ("consent:sign", "POST"): 400,
    ("consent:link_new", "POST"): 200,
    ("infusions:board", "GET"): 200,
    ("scheduling:calendar", "GET"): 200,
    ("scheduling:book", "GET"): 200,
    ("scheduling:book", "POST"): 400,
    ("scheduling:appointment", "GET"): 200,
    ("scheduling:move", "POST"): 400,
    ("scheduling:cancel", "POST"): 302,
    ("scheduling:fill", "GET"): 200,
    ("scheduling:fill", "POST"): 302,
    ("scheduling:series", "GET"): 200,
    ("scheduling:series", "POST"): 400,  # nobody chosen to give the infusions
    ("plans:home_route", "GET"): 200,
    ("infusions:slot_check_in", "POST"): 302,
    ("infusions:patient_sessions", "GET"): 200,
    ("infusions:patient_mar", "GET"): 200,
    ("infusions:patient_mar_pdf", "GET"): 200,
    ("infusions:session", "GET"): 200,
    ("infusions:status", "GET"): 200,
    ("infusions:chart", "GET"): 200,
    ("infusions:mar", "GET"): 200,
    ("infusions:mar_pdf", "GET"): 200,
    ("infusions:instructions", "GET"): 200,
    ("infusions:instructions_pdf", "GET"): 200,
    ("infusions:note", "GET"): 200,
    ("infusions:note_generate", "POST"): 409,
    ("infusions:note_sign", "POST"): 409,
    ("infusions:rems_form", "GET"): 200,
    ("infusions:rems_form_confirm", "POST"): 400,
    ("infusions:rems_form_submit", "POST"): 400,
    ("infusions:note_addendum", "POST"): 400,
    ("infusions:check_in", "POST"): {Role.PRESCRIBER: 409, Role.NURSE: 409, Role.INTAKE: 302},
    ("infusions:cancel", "POST"): {Role.PRESCRIBER: 400, Role.NURSE: 400, Role.INTAKE: 302},
    ("infusions:checklist", "POST"): 409,
    ("infusions:checklist_override", "POST"): 409,
    ("infusions:checklist_complete", "POST"): 409,
    ("infusions:order_create", "POST"): 409,
    ("infusions:order_sign", "POST"): 400,
    ("infusions:start", "POST"): 409,
    ("infusions:pause", "POST"): 409,
    ("infusions:resume", "POST"): 409,
    ("infusions:rate", "POST"): 409,
    ("infusions:vial_check", "POST"): 409,
    ("infusions:bag_check", "GET"): 200,
    ("infusions:bag_check", "POST"): 200,
    ("infusions:titration_cosign", "POST"): 400,
    ("infusions:stop", "POST"): 409,
    ("infusions:vitals", "POST"): 302,
    ("infusions:alert_ack", "POST"): 400,
    ("infusions:adverse_event", "POST"): 409,
    ("infusions:administration", "POST"): 409,
    ("infusions:discharge_assess", "POST"): 409,
    ("infusions:discharge", "POST"): 409,
    ("infusions:adverse_review", "POST"): 400,
    ("outcomes:patient", "GET"): 200,
    ("outcomes:chart", "GET"): 200,
    ("outcomes:record", "GET"): 200,
    ("outcomes:record", "POST"): 400,
    ("outcomes:link_new", "POST"): 302,
    ("messaging:preferences", "POST"): 302,
    ("messaging:resend", "POST"): 302,
    ("patient_calendar_feed", "POST"): 200,
    ("outcomes:correct", "GET"): 200,
    ("outcomes:correct", "POST"): 400,
    ("outcomes:worklist", "GET"): 200,
    ("outcomes:worklist_send", "POST"): 302,
    ("outcomes:flag", "GET"): 200,
    ("outcomes:flag", "POST"): 302,
    ("outcomes:booster", "POST"): 302,
    ("outcomes:dashboard", "GET"): 200,
    ("outcomes:dashboard_csv", "GET"): 200,
    ("patient_search", "GET"): 200,
    ("patient_register", "POST"): 201,
    ("patient_duplicates", "POST"): 200,
    ("patient_chart", "GET"): 200,
    ("measurement_record", "POST"): 201,
    ("allergy_record", "POST"): 201,
    ("medication_record", "POST"): 201,
    ("referral_list", "GET"): 200,
    ("referral_record", "POST"): 201,
    ("screening_list", "GET"): 200,
    ("screening_record", "POST"): 201,
    ("screening_get", "GET"): 200,
    ("screening_sign", "POST"): 200,
    ("protocol_list", "GET"): 200,
    ("protocol_document", "GET"): 200,
    ("plan_list", "GET"): 200,
    ("plan_draft", "POST"): 201,
    ("plan_get", "GET"): 200,
    ("plan_sign", "POST"): 200,
    ("plan_revise", "POST"): 400,
    ("infusion_move", "POST"): 200,
    ("infusion_cancel", "POST"): 200,
    ("booster_add", "POST"): 400,
    ("free_slots", "GET"): 200,  # the test clinic has no opening hours: no free start, said in an empty list
    ("book", "POST"): 400,  # closed on that day: the rule's refusal
    ("consent_status", "GET"): 200,
    ("consent_link_create", "POST"): 201,
    ("consent_sign_in_clinic", "POST"): 400,
    ("consent_documents", "GET"): 200,
    ("consent_document_edit", "POST"): 201,
    ("session_schedule", "POST"): 400,
    ("day_board", "GET"): 200,
    ("planned_check_in", "POST"): 400,
    ("patient_sessions", "GET"): 200,
    ("patient_mar", "GET"): 200,
    ("session_detail", "GET"): 200,
    ("session_check_in", "POST"): 400,
    ("session_cancel", "POST"): 400,
    ("checklist_record", "POST"): 400,
    ("checklist_override", "POST"): 400,
    ("checklist_complete", "POST"): 400,
    ("order_create", "POST"): 400,
    ("order_sign", "POST"): 400,
    ("vial_check_record", "POST"): 400,
    ("infusion_start", "POST"): 400,
    ("infusion_pause", "POST"): 400,
    ("infusion_resume", "POST"): 400,
    ("infusion_rate_change", "POST"): 400,
    ("infusion_stop", "POST"): 400,
    ("titration_cosign", "POST"): 400,
    ("vitals_record", "POST"): 201,
    ("vitals_chart", "GET"): 200,
    ("alert_acknowledge", "POST"): 200,
    ("adverse_event_record", "POST"): 400,
    ("administration_record", "POST"): 400,
    ("discharge_assess", "POST"): 400,
    ("session_discharge", "POST"): 400,
    ("adverse_event_review", "POST"): 200,
    ("note_generate", "POST"): 400,
    ("note_sign", "POST"): 400,
    ("note_addendum_add", "POST"): 400,
    ("session_mar", "GET"): 200,
    ("response_list", "GET"): 200,
    ("response_record", "POST"): 201,
    ("response_correct", "POST"): 201,
    ("trajectory_get", "GET"): 200,
    ("safety_flag_list", "GET"): 200,
    ("safety_flag_assess", "POST"): 200,
    ("booster_decide", "POST"): 200,
    ("outcomes_dashboard", "GET"): 200,
}


def url_names() -> set[str | None]:
    names: set[str | None] = set()

    def walk(resolver: URLResolver, namespace: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                walk(p, f"{namespace}{p.namespace}:" if p.namespace and p.namespace != "ninja" else namespace)
            elif isinstance(p, URLPattern):
                names.add(f"{namespace}{p.name}" if p.name else None)

    walk(get_resolver(), "")
    return names


def test_every_page_is_listed_with_its_permission():
    pages = {n for n in url_names() if not (n or "").startswith("api-") and n not in OPEN_PAGES}
    assert pages == {name for name, _ in PAGES}


def test_every_operation_has_its_expected_answer():
    assert set(EXPECTED) == set(PAGES) | set(API)
    answers = {a for v in EXPECTED.values() for a in ([v] if isinstance(v, int) else v.values())}
    assert answers <= {200, 201, 204, 302, 400, 409}


def test_every_api_operation_is_listed_with_its_permission(client):
    ops = client.get("/api/openapi.json").json()["paths"]
    found = {
        (op["operationId"].split("_api_", 1)[-1], method.upper())
        for o in ops.values()
        for method, op in o.items()
    }
    assert found == set(API)
    routes = {n.split(":", 1)[1] for n in url_names() if (n or "").startswith("api-")}
    assert routes - {"api-root", "openapi-json", "openapi-view"} == {name for name, _ in API}


def fill(url: str, c: Clinic, protocols) -> str:
    pv = next(iter(protocols.values()))
    ids = {}
    if "{session}" in url:
        ids["session"] = c.sessions.get("checked_in").external_id
    if "{order}" in url:
        ids["order_session"] = c.sessions.get("order").external_id
        ids["order"] = c.sessions.get("order").orders.get().external_id
    if "{event}" in url:
        ids["event_session"] = c.sessions.get("severe_event").external_id
        ids["event"] = c.sessions.get("severe_event").adverse_events.get().external_id
    if "{alert}" in url:
        ids["alert_session"] = c.sessions.get("alert").external_id
        ids["alert"] = c.sessions.get("alert").alerts.get().external_id
    if "{payer}" in url or "{policy}" in url or "{authorization}" in url:
        policy = _policy(c)
        ids.update(policy=policy.external_id, payer=policy.payer.external_id)
        ids["authorization"] = _authorization(policy).external_id
    return url.format(
        **ids,
        patient=c.patient.external_id,
        other=c.other_patient.external_id,
        screening=c.screening_for_page.external_id,
        protocol_id=pv.protocol_id,
        version=pv.version,
        plan=c.plan.external_id,
        infusion=c.infusion.external_id,
        chair=c.chair.external_id,
        eligible=c.plan.screening.external_id,
        consent_doc=ConsentDocument.objects.values_list("external_id", flat=True).first(),
        flag=c.flag.external_id,
        booster=c.booster.external_id,
        response=c.response.external_id,
        staff=c.staff[Role.NURSE].external_id,
        inquiry=_inquiry(c).external_id if "{inquiry}" in url else None,
        document=_document(c).external_id if "{document}" in url else None,
        appointment=_appointment(c).external_id if "{appointment}" in url else None,
    )


def _appointment(c: Clinic):
    """A booked consultation of the clinic's patient, made on first use (stored as it is: the sweep tests who
    may open it, not the booking rules)."""
    from datetime import timedelta

    from django.utils import timezone

    from ketaclinic.scheduling.models import Appointment, AppointmentType

    start = timezone.now() + timedelta(days=3)
    return Appointment.objects.filter(patient=c.patient).first() or Appointment.objects.create(
        location=c.patient.location,
        type=AppointmentType.objects.get_or_create(
            code="consultation", defaults={"name": "Consultation", "duration_minutes": 60, "needs_room": True}
        )[0],
        patient=c.patient,
        start=start,
        end=start + timedelta(hours=1),
        staff=c.staff[Role.PRESCRIBER],
        booked_by=c.staff[Role.INTAKE],
    )


def _document(c: Clinic):
    """A document of the clinic's referral, made on first use."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ketaclinic.screening.models import ReferralDocument

    return ReferralDocument.objects.filter(referral=c.referral).first() or ReferralDocument.objects.create(
        referral=c.referral,
        title="Referral letter",
        file=SimpleUploadedFile("letter.pdf", b"%PDF-1.4", "application/pdf"),
        content_type="application/pdf",
        size_bytes=8,
        uploaded_by=c.staff[Role.INTAKE],
    )


def _policy(c: Clinic):
    """A workers' compensation policy of the clinic's patient, made on first use."""
    from ketaclinic.billing.models import InsurancePolicy, Payer

    payer, _ = Payer.objects.get_or_create(name="Every-page Comp", kind=Payer.Kind.WORKERS_COMP)
    policy, _ = InsurancePolicy.objects.get_or_create(
        patient=c.patient, payer=payer, defaults={"member_id": "EP-1", "coverage_percent": 100}
    )
    return policy


def _authorization(policy):
    """An approved authorization of that policy, made on first use."""
    from datetime import date

    from ketaclinic.billing.models import PriorAuthorization

    auth, _ = PriorAuthorization.objects.get_or_create(
        policy=policy,
        number="EP-AUTH-1",
        defaults={"approved_units": 6, "first_day": date(2026, 1, 1), "last_day": date(2027, 12, 31)},
    )
    return auth


def _inquiry(c: Clinic):
    """An open request for an assessment at the clinic's location, made on first use."""
    from ketaclinic.inquiries.models import Inquiry
    from ketaclinic.inquiries.services import inquiry_submit

    return Inquiry.objects.filter(status="open").first() or inquiry_submit(
        location=c.patient.location,
        given_name="Rosa",
        family_name="Quintero",
        phone="617-555-0142",
        consent=True,
    )


def fill_data(data: dict[str, Any] | None, c: Clinic, protocols) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: fill(v, c, protocols) if isinstance(v, str) and "{" in v else v for k, v in data.items()}


def attempt(send, user, url: str, data: dict[str, Any] | None, client_for) -> tuple[int, int, bytes]:
    """One role's request, in a savepoint rolled back afterwards, so every role meets the same clinic: the
    status, the user's ``denied`` audit entries, and the start of the body (for a failure's message)."""
    with rolled_back():
        response = send(client_for(user), url, data)
        return response.status_code, len(denials_of(user)), response.content[:300]


def sweep(table, key, clinic, protocols, client_for, send) -> None:
    """Every role tries the operation: a role without the permission gets 403 and one ``denied`` entry; a role
    with it gets the operation's own answer, the same for every such role (a page, a redirect after a write, a
    created record, a rule's refusal naming a field, or "changed meanwhile"): exactly the status ``EXPECTED``
    says, so a 404 (the sweep did not reach the logic), a 403 (a wrong permission) or a 500 fails."""
    permission, url, data = table[key]
    url, data = fill(url, clinic, protocols), fill_data(data, clinic, protocols)
    for role in Role:
        status, denials, body = attempt(send, clinic.staff[role], url, data, client_for)
        if role_can(role, permission):
            answer = EXPECTED[key]
            expected = answer if isinstance(answer, int) else answer[role]
            assert (status, denials) == (expected, 0), (role.value, status, denials, body)
        else:
            assert (status, denials) == (403, 1), (role.value, status, denials, body)


@pytest.mark.parametrize("key", list(PAGES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_page_operation(key, clinic, protocols, client_for):
    method = key[1]
    sweep(
        PAGES,
        key,
        clinic,
        protocols,
        client_for,
        lambda c, url, data: c.get(url) if method == "GET" else c.post(url, data or {}),
    )


@pytest.mark.parametrize("key", list(API), ids=lambda k: f"{k[0]}-{k[1]}")
def test_api_operation(key, clinic, protocols, client_for):
    method = key[1]
    sweep(
        API,
        key,
        clinic,
        protocols,
        client_for,
        lambda c, url, data: (
            c.get(url) if method == "GET" else c.post(url, data or {}, content_type="application/json")
        ),
    )
