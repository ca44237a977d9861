"""Deny by default, checked exhaustively: every page (URL name and method) and every API operation is
listed here with the permission that gates it, a new one without an entry fails the first tests, and
each is refused (403, audited) to every role without that permission and allowed to the others."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from ketaclinic.core.access import Permission, Role, role_can
from tests.accounts.conftest import Clinic, denials_of

pytestmark = pytest.mark.django_db
P = Permission

# Pages that are not behind a permission: signing in and out, and the per-role dashboard.
OPEN_PAGES = {"accounts:login", "accounts:logout", "accounts:otp_verify", "accounts:otp_setup", "home",
              "web:dashboard", "questionnaire_answer", None}
PHQ9 = [1, 1, 1, 1, 1, 1, 1, 1, 0]
ASSESS = {"assessment": "Passive ideation, no plan or intent; protective factors.", "plan": "Safety plan reviewed; call in 24 h."}

ALLERGY = {"substance": "Latex", "reaction": "Rash", "severity": "mild"}
SIGN = {"outcome": "not_eligible", "note": "Prescriber judgement after interview."}
NEW_PATIENT = {"given_name": "Lena", "family_name": "Okafor", "birth_date": "1990-02-03", "sex_at_birth": "female",
               "location": "downtown"}

# (url name, method) -> (permission, url, data)
PAGES: dict[tuple[str, str], tuple[Permission, str, dict[str, Any] | None]] = {
    ("accounts:break_glass", "GET"): (P.BREAK_GLASS, "/accounts/break-glass/{other}/", None),
    ("accounts:break_glass", "POST"): (P.BREAK_GLASS, "/accounts/break-glass/{other}/",
                                       {"reason": "Patient presented here in crisis today"}),
    ("accounts:break_glass_reviews", "GET"): (P.BREAK_GLASS_REVIEW, "/accounts/break-glass/reviews/", None),
    ("accounts:break_glass_reviews", "POST"): (P.BREAK_GLASS_REVIEW, "/accounts/break-glass/reviews/",
                                               {"access": "x", "outcome": "appropriate"}),
    ("patients:list", "GET"): (P.PATIENT_VIEW, "/patients/", None),
    ("patients:new", "GET"): (P.PATIENT_REGISTER, "/patients/new/", None),
    ("patients:new", "POST"): (P.PATIENT_REGISTER, "/patients/new/", {"given_name": ""}),
    ("patients:chart", "GET"): (P.PATIENT_VIEW, "/patients/{patient}/", None),
    ("patients:edit", "GET"): (P.PATIENT_REGISTER, "/patients/{patient}/edit/", None),
    ("patients:edit", "POST"): (P.PATIENT_REGISTER, "/patients/{patient}/edit/", {"given_name": ""}),
    ("patients:measurement_add", "POST"): (P.PATIENT_REGISTER, "/patients/{patient}/measurements/",
                                           {"kind": "weight", "value": "71", "unit": "kg"}),
    ("patients:allergy_add", "POST"): (P.CLINICAL_RECORD, "/patients/{patient}/allergies/", ALLERGY),
    ("patients:medication_add", "POST"): (P.CLINICAL_RECORD, "/patients/{patient}/medications/",
                                          {"name": "sertraline", "dose": "100 mg"}),
    ("screening:referral_new", "GET"): (P.REFERRAL_RECORD, "/screening/patient/{patient}/referral/", None),
    ("screening:referral_new", "POST"): (P.REFERRAL_RECORD, "/screening/patient/{patient}/referral/", {}),
    ("screening:new", "GET"): (P.SCREENING_RECORD, "/screening/patient/{patient}/new/", None),
    ("screening:new", "POST"): (P.SCREENING_RECORD, "/screening/patient/{patient}/new/", {}),
    ("screening:detail", "GET"): (P.CLINICAL_VIEW, "/screening/{screening}/", None),
    ("screening:detail", "POST"): (P.SCREENING_SIGN, "/screening/{screening}/", SIGN),
    ("audit:log", "GET"): (P.AUDIT_VIEW, "/audit/", None),
    ("protocols:list", "GET"): (P.PROTOCOL_VIEW, "/protocols/", None),
    ("protocols:detail", "GET"): (P.PROTOCOL_VIEW, "/protocols/{protocol_id}/v{version}/", None),
    ("protocols:upload", "POST"): (P.PROTOCOL_LOAD, "/protocols/load/", {}),
    ("accounts:staff", "GET"): (P.STAFF_MANAGE, "/accounts/staff/", None),
    ("accounts:staff", "POST"): (P.STAFF_MANAGE, "/accounts/staff/", {"action": "create", "username": ""}),
    ("outcomes:patient", "GET"): (P.CLINICAL_VIEW, "/outcomes/patient/{patient}/", None),
    ("outcomes:chart", "GET"): (P.CLINICAL_VIEW, "/outcomes/patient/{patient}/chart/phq9.svg", None),
    ("outcomes:record", "GET"): (P.QUESTIONNAIRE_RECORD, "/outcomes/patient/{patient}/record/phq9/", None),
    ("outcomes:record", "POST"): (P.QUESTIONNAIRE_RECORD, "/outcomes/patient/{patient}/record/phq9/", {}),
    ("outcomes:link_new", "POST"): (P.QUESTIONNAIRE_RECORD, "/outcomes/patient/{patient}/link/",
                                    {"instrument": "phq9", "hours": "72"}),
    ("outcomes:flag", "GET"): (P.CLINICAL_VIEW, "/outcomes/flags/{flag}/", None),
    ("outcomes:flag", "POST"): (P.SAFETY_ASSESS, "/outcomes/flags/{flag}/", ASSESS),
    ("outcomes:booster", "POST"): (P.BOOSTER_DECIDE, "/outcomes/boosters/{booster}/",
                                   {"decision": "decline", "reason": "Patient prefers to wait a week"}),
    ("outcomes:dashboard", "GET"): (P.OUTCOMES_VIEW, "/outcomes/dashboard/", None),
    ("outcomes:dashboard_csv", "GET"): (P.OUTCOMES_VIEW, "/outcomes/dashboard.csv", None),
}

# (operation name, method) -> (permission, url, json body)
API: dict[tuple[str, str], tuple[Permission, str, dict[str, Any] | None]] = {
    ("patient_search", "GET"): (P.PATIENT_VIEW, "/api/patients", None),
    ("patient_register", "POST"): (P.PATIENT_REGISTER, "/api/patients", NEW_PATIENT),
    ("patient_duplicates", "POST"): (P.PATIENT_REGISTER, "/api/patients/duplicates", NEW_PATIENT),
    ("patient_chart", "GET"): (P.PATIENT_VIEW, "/api/patients/{patient}", None),
    ("measurement_record", "POST"): (P.PATIENT_REGISTER, "/api/patients/{patient}/measurements",
                                     {"kind": "weight", "value": "71", "unit": "kg"}),
    ("allergy_record", "POST"): (P.CLINICAL_RECORD, "/api/patients/{patient}/allergies", ALLERGY),
    ("medication_record", "POST"): (P.CLINICAL_RECORD, "/api/patients/{patient}/medications",
                                    {"name": "sertraline", "dose": "100 mg"}),
    ("referral_list", "GET"): (P.CLINICAL_VIEW, "/api/screening/patients/{patient}/referrals", None),
    ("referral_record", "POST"): (P.REFERRAL_RECORD, "/api/screening/patients/{patient}/referrals", {
        "indication": "trd", "referrer_name": "Dr. A", "referrer_role": "psychiatrist", "reason": "TRD",
        "received_on": "2026-11-02"}),
    ("screening_list", "GET"): (P.CLINICAL_VIEW, "/api/screening/patients/{patient}/screenings", None),
    ("screening_record", "POST"): (P.SCREENING_RECORD, "/api/screening/patients/{patient}/screenings",
                                   {"indication": "trd"}),
    ("screening_get", "GET"): (P.CLINICAL_VIEW, "/api/screening/screenings/{screening}", None),
    ("screening_sign", "POST"): (P.SCREENING_SIGN, "/api/screening/screenings/{screening}/sign", SIGN),
    ("protocol_list", "GET"): (P.PROTOCOL_VIEW, "/api/protocols", None),
    ("protocol_document", "GET"): (P.PROTOCOL_VIEW, "/api/protocols/{protocol_id}/{version}", None),
    ("response_list", "GET"): (P.CLINICAL_VIEW, "/api/outcomes/patients/{patient}/responses", None),
    ("response_record", "POST"): (P.QUESTIONNAIRE_RECORD, "/api/outcomes/patients/{patient}/responses",
                                  {"instrument": "phq9", "answers": PHQ9}),
    ("response_correct", "POST"): (P.QUESTIONNAIRE_RECORD, "/api/outcomes/responses/{response}/correct",
                                   {"answers": PHQ9, "reason": "Item 3 entered wrongly"}),
    ("trajectory_get", "GET"): (P.CLINICAL_VIEW, "/api/outcomes/patients/{patient}/trajectory/phq9", None),
    ("safety_flag_list", "GET"): (P.CLINICAL_VIEW, "/api/outcomes/flags", None),
    ("safety_flag_assess", "POST"): (P.SAFETY_ASSESS, "/api/outcomes/flags/{flag}/assess", ASSESS),
    ("booster_decide", "POST"): (P.BOOSTER_DECIDE, "/api/outcomes/boosters/{booster}/decide",
                                 {"decision": "accept"}),
    ("outcomes_dashboard", "GET"): (P.OUTCOMES_VIEW, "/api/outcomes/dashboard?start=2026-01-01&end=2026-12-31", None),
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


def test_every_api_operation_is_listed_with_its_permission(client):
    ops = client.get("/api/openapi.json").json()["paths"]
    found = {(op["operationId"].split("_api_", 1)[-1], method.upper()) for o in ops.values() for method, op in o.items()}
    assert found == set(API)
    routes = {n.split(":", 1)[1] for n in url_names() if (n or "").startswith("api-")}
    assert routes - {"api-root", "openapi-json", "openapi-view"} == {name for name, _ in API}


def fill(url: str, c: Clinic, protocols) -> str:  # type: ignore[no-untyped-def]
    pv = next(iter(protocols.values()))
    return url.format(patient=c.patient.external_id, other=c.other_patient.external_id,
                      screening=c.screening_for_page.external_id, protocol_id=pv.protocol_id, version=pv.version,
                      flag=c.flag.external_id, booster=c.booster.external_id, response=c.response.external_id)


def cells(table) -> list:  # type: ignore[no-untyped-def]
    return [pytest.param(key, role, id=f"{key[0]}-{key[1]}-{role.value}") for key in table for role in Role]


def check(response, user, role: Role, permission: Permission) -> None:  # type: ignore[no-untyped-def]
    if role_can(role, permission):
        assert response.status_code != 403, response.content[:300]
        assert response.status_code < 500
        assert denials_of(user) == []
    else:
        assert response.status_code == 403, (response.status_code, response.content[:300])
        assert len(denials_of(user)) == 1


@pytest.mark.parametrize(("key", "role"), cells(PAGES))
def test_page_operation(key, role, clinic, protocols, client_for):
    permission, url, data = PAGES[key]
    client = client_for(clinic.staff[role])
    url = fill(url, clinic, protocols)
    response = client.get(url) if key[1] == "GET" else client.post(url, data or {})
    check(response, clinic.staff[role], role, permission)


@pytest.mark.parametrize(("key", "role"), cells(API))
def test_api_operation(key, role, clinic, protocols, client_for):
    permission, url, data = API[key]
    client = client_for(clinic.staff[role])
    url = fill(url, clinic, protocols)
    response = client.get(url) if key[1] == "GET" else client.post(url, data or {}, content_type="application/json")
    check(response, clinic.staff[role], role, permission)
