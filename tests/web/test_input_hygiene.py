"""Input hygiene (issue 10, item 5): every finding of the security review, through the API and the pages.

Each refusal is a 400 or 422 in the API's one error shape naming the field, the value and what is allowed
(never a 500, on SQLite and on PostgreSQL: the suite runs on both), and a page with the message on it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketaclinic.audit.models import AuditEntry
from ketaclinic.core import input_rules
from ketaclinic.core.access import Role
from ketaclinic.patients.models import Patient
from ketaclinic.screening.models import Referral

pytestmark = pytest.mark.django_db

NEW = {
    "given_name": "Ana",
    "family_name": "Lopez",
    "birth_date": "1988-03-02",
    "sex_at_birth": "female",
    "location": "downtown",
}
REFERRAL = {
    "indication": "trd",
    "referrer_name": "Dr. Blake",
    "referrer_role": "psychiatrist",
    "reason": "TRD",
    "received_on": date.today().isoformat(),
}
NUL, RLO = "\x00", "\u202e"


@pytest.fixture
def intake_api(staff, client_for):
    return client_for(staff[Role.INTAKE])


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def refused(response, status, field, *words):
    assert response.status_code == status, response.content[:800]
    error = response.json()["error"]
    assert error["field"] == field, error
    for w in words:
        assert w in error["message"] or w in (error["value"] or ""), error
    return error


# --- NUL and other control characters: refused before any view, with a trace in the audit trail
# ----------------


@pytest.mark.parametrize(
    ("where", "body", "field"),
    [
        ("register", {**NEW, "given_name": f"An{NUL}a"}, "given_name"),
        ("register", {**NEW, "address": f"1 Main St{NUL}"}, "address"),
        ("register", {**NEW, "family_name": "Lo\x1bpez"}, "family_name"),
        ("register", {**NEW, f"x{NUL}": "1"}, "xU+0000"),
        ("duplicates", {**NEW, "family_name": f"Lopez{NUL}"}, "family_name"),
    ],
)
def test_nul_and_control_characters_in_json_are_refused(intake_api, where, body, field):
    url = "/api/patients" if where == "register" else "/api/patients/duplicates"
    r = post(intake_api, url, body)
    error = refused(r, 400, field, "control character", "U+00")
    assert "\x00" not in (error["value"] or "")
    assert Patient.objects.count() == 0
    denied = AuditEntry.objects.filter(action=AuditEntry.Action.DENIED).latest("seq")
    assert "control character" in denied.summary and denied.detail["status"] == 400


@pytest.mark.parametrize("q", ["Lo\x00pez", "\x00", "a\x07b", "line\nbreak"])
def test_nul_in_the_search_is_refused(intake_api, q):
    refused(
        intake_api.get("/api/patients", {"q": q}), 400, "q", "Search contains an invisible control character"
    )


def test_nul_in_an_allergy_is_refused(intake_api, patient):
    r = post(intake_api, f"/api/patients/{patient.external_id}/allergies", {"substance": f"penicillin{NUL}"})
    refused(r, 400, "substance", "U+0000")
    assert patient.allergies.count() == 0


def test_line_breaks_are_allowed_in_free_text_but_not_in_a_name(intake_api):
    assert post(intake_api, "/api/patients", {**NEW, "given_name": "Ana\nMaria"}).status_code == 400
    r = post(intake_api, "/api/patients", {**NEW, "address": "1 Main St\r\nApt 2"})
    assert r.status_code == 400  # an address is one line in the registry
    assert r.json()["error"]["field"] == "address"


@pytest.mark.parametrize("path", ["/q/abc\x00def/", "/consent/sign/abc\x00def/", "/patients/?q=%00"])
def test_nul_in_an_anonymous_or_page_address_is_a_400_page_with_a_trace(client, staff, path):
    before = AuditEntry.objects.filter(action=AuditEntry.Action.DENIED).count()
    r = client.get(path)
    assert r.status_code == 400
    page = r.content.decode()
    assert "Not saved: a value was refused" in page and "U+0000" in page
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.DENIED).latest("seq")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DENIED).count() == before + 1
    assert "U+0000" in entry.summary and "\x00" not in entry.path


def test_nul_posted_to_the_public_consent_form_is_refused(client):
    r = client.post("/consent/sign/sometoken/", {"typed_name": f"Ana{NUL}", "signature": "x"})
    assert r.status_code == 400
    assert "Typed name contains an invisible control character (U+0000)" in r.content.decode()


# --- numbers
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ('{"value": 1e308, "unit": "kg"}', "weight.value", ["1e+308", "1,000,000"]),
        ('{"value": 1e999, "unit": "kg"}', "weight.value", ["not a finite number"]),
        ('{"value": NaN, "unit": "kg"}', "weight.value", ["not a finite number"]),
        ('{"value": Infinity, "unit": "kg"}', "weight.value", ["not a finite number"]),
        ('{"value": "1e308", "unit": "kg"}', "weight", ["outside the allowed range 20.0–350.0 kg"]),
        ('{"value": "1e999999999", "unit": "lb"}', "weight", ["outside the allowed range"]),
        ('{"value": "NaN", "unit": "kg"}', "weight.value", ["Input should be a finite number"]),
        ('{"value": "-Infinity", "unit": "kg"}', "weight.value", ["Input should be a finite number"]),
    ],
)
def test_huge_and_non_finite_numbers_are_refused(intake_api, raw, field, words):
    body = (
        '{"given_name": "Ana", "family_name": "Lopez", "birth_date": "1988-03-02", "sex_at_birth": "female", '
        '"location": "downtown", "weight": ' + raw + "}"
    )
    r = intake_api.post("/api/patients", body, content_type="application/json")
    refused(r, 422 if "Input should" in words[0] else 400, field, *words)
    assert Patient.objects.count() == 0


def test_huge_weight_on_a_measurement_is_refused(intake_api, patient):
    r = post(
        intake_api,
        f"/api/patients/{patient.external_id}/measurements",
        {"kind": "weight", "value": "1e308", "unit": "kg"},
    )
    refused(r, 400, "weight", "outside the allowed range")


# --- names, phones, NPI
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ch", ["\u202a", "\u202b", "\u202c", "\u202d", RLO, "\u2066", "\u2067", "\u2068", "\u2069"]
)
def test_text_direction_characters_are_refused_in_names(intake_api, ch):
    r = post(intake_api, "/api/patients", {**NEW, "family_name": f"Lo{ch}zepo"})
    refused(r, 400, "family_name", "text-direction character", f"U+{ord(ch):04X}")
    assert Patient.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("phone", "(617) 555-0123", "+16175550123"),
        ("emergency_contact_phone", "617.555.0123", "+16175550123"),
        ("escort_phone", "+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_stored_in_e164(intake_api, field, typed, stored):
    r = post(intake_api, "/api/patients", {**NEW, field: typed})
    assert r.status_code == 201, r.content
    assert getattr(Patient.objects.get(), field) == stored


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("phone", "call me maybe"),
        ("phone", "555-0100"),
        ("emergency_contact_phone", "12"),
        ("escort_phone", "(555) 010-0199"),
    ],
)
def test_phones_that_are_not_numbers_are_refused(intake_api, field, typed):
    error = refused(
        post(intake_api, "/api/patients", {**NEW, field: typed}),
        400,
        field,
        "is not a phone number",
        "617-555-0100",
    )
    assert typed in error["value"]


def test_a_referral_phone_is_checked_and_normalised(intake_api, patient):
    url = f"/api/screening/patients/{patient.external_id}/referrals"
    refused(post(intake_api, url, {**REFERRAL, "referrer_phone": "call me maybe"}), 400, "referrer_phone")
    assert post(intake_api, url, {**REFERRAL, "referrer_phone": "617 555 0188"}).status_code == 201
    assert Referral.objects.get().referrer_phone == "+16175550188"


@pytest.mark.parametrize("npi", ["ABCDEFGHIJ", "1234567890", "123456789", "12345678931"])
def test_an_npi_without_a_valid_check_digit_is_refused(intake_api, patient, npi):
    r = post(
        intake_api,
        f"/api/screening/patients/{patient.external_id}/referrals",
        {**REFERRAL, "referrer_npi": npi},
    )
    assert r.status_code in (400, 422), r.content
    error = r.json()["error"]
    assert error["field"] == "referrer_npi"
    assert ("check digit" in error["message"]) or ("at most 10 characters" in error["message"])
    assert Referral.objects.count() == 0


def test_a_valid_npi_is_accepted(intake_api, patient):
    r = post(
        intake_api,
        f"/api/screening/patients/{patient.external_id}/referrals",
        {**REFERRAL, "referrer_npi": "1234567893"},
    )
    assert r.status_code == 201, r.content


# --- lengths
# ---------------------------------------------------------------------------------------------------


def test_a_100000_character_referral_reason_is_refused(intake_api, patient):
    r = post(
        intake_api,
        f"/api/screening/patients/{patient.external_id}/referrals",
        {**REFERRAL, "reason": "x" * 100_000},
    )
    refused(r, 422, "reason", f"at most {input_rules.TEXT_MAX} characters")
    assert Referral.objects.count() == 0


def test_every_free_text_field_in_the_schema_has_a_maximum_length(client):
    doc = client.get("/api/openapi.json").json()
    missing = []
    for name, schema in doc["components"]["schemas"].items():
        if not name.endswith("In") and not name.endswith("Query"):
            continue
        for prop, spec in schema.get("properties", {}).items():
            options = spec.get("anyOf", [spec])
            for option in options:
                decimal = {"type": "number"} in options  # a Decimal: a number, or the same as a string
                if (
                    option.get("type") == "string"
                    and "format" not in option
                    and "maxLength" not in option
                    and "pattern" not in option
                    and not decimal
                ):
                    missing.append(f"{name}.{prop}")
    assert missing == []


# --- dates
# -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "words"),
    [
        ("1899-12-31", "is more than 120 years ago"),
        ((date.today() + timedelta(days=1)).isoformat(), "in the future"),
    ],
)
def test_birth_dates_are_bounded(intake_api, birth, words):
    refused(post(intake_api, "/api/patients", {**NEW, "birth_date": birth}), 400, "birth_date", words)


@pytest.mark.parametrize(
    ("received", "words"),
    [
        ("1900-06-01", "before the patient's birth date 1985-04-12"),
        ("1899-01-01", "dates from 1900-01-01 onwards are allowed"),
        ("1984-12-31", "before the patient's birth date"),
    ],
)
def test_a_referral_dated_before_1900_or_before_the_birth_is_refused(intake_api, patient, received, words):
    r = post(
        intake_api,
        f"/api/screening/patients/{patient.external_id}/referrals",
        {**REFERRAL, "received_on": received},
    )
    refused(r, 400, "received_on", words, received)
    assert Referral.objects.count() == 0


# --- the pages refuse the same, with the message on the page
# -----------------------------------------------------

PAGE_NEW = {
    "given_name": "Ana",
    "family_name": "Lopez",
    "birth_date": "1988-03-02",
    "sex_at_birth": "female",
    "confirm_not_duplicate": "yes",
}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"given_name": f"An{NUL}a"}, "Given name contains an invisible control character (U+0000)"),
        ({"family_name": f"Lo{RLO}pez"}, "text-direction character (U+202E"),
        ({"phone": "call me maybe"}, "is not a phone number"),
        ({"birth_date": "1899-12-31"}, "more than 120 years ago"),
        ({"weight_value": "1e308", "weight_unit": "kg"}, "Weight"),
    ],
)
def test_the_registration_page_refuses_with_a_message(staff, client_for, downtown, change, words):
    client = client_for(staff[Role.INTAKE])
    r = client.post("/patients/new/", {**PAGE_NEW, "location": downtown.pk, **change})
    assert r.status_code == 400
    assert words in r.content.decode().replace("&#x27;", "'")
    assert Patient.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"reason": "x" * 100_000}, "Reason is 100,000 characters long; the maximum is 4,000 characters."),
        ({"referrer_npi": "ABCDEFGHIJ"}, "is not a valid NPI"),
        ({"referrer_phone": "call me maybe"}, "is not a phone number"),
        ({"received_on": "1900-01-02"}, "before the patient"),
    ],
)
def test_the_referral_page_refuses_with_a_message(staff, client_for, patient, change, words):
    client = client_for(staff[Role.INTAKE])
    form = {
        "indication": "trd",
        "referrer_name": "Dr. Blake",
        "referrer_role": "psychiatrist",
        "reason": "TRD",
        "received_on": date.today().isoformat(),
        **change,
    }
    r = client.post(f"/screening/patient/{patient.external_id}/referral/", form)
    assert r.status_code == 400
    assert words in r.content.decode().replace("&#x27;", "'")
    assert Referral.objects.count() == 0


def test_a_pasted_page_in_the_search_box_is_refused_naming_the_length(client_for, staff):
    client = client_for(staff[Role.INTAKE])
    r = client.get("/patients/", {"q": "Garcia " * 15000})
    assert r.status_code == 400
    assert "Search has 105,000 characters; it may have at most 200." in r.content.decode()
    r = client.get(
        "/patients/", {"q": "x" * 201}, HTTP_HX_REQUEST="true"
    )  # the live search box: shown in place
    assert (
        r.status_code == 200 and "Search has 201 characters; it may have at most 200." in r.content.decode()
    )
    assert client.get("/patients/", {"q": "x" * 200}).status_code == 200
