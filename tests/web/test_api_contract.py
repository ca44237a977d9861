"""An honest API contract (issue 10, item 6): the OpenAPI document is valid, names each schema once, declares
the errors each operation can answer, and the server keeps to it under a bounded schemathesis run.

The fuzz run calls every operation through the WSGI application (same database transaction as the test) as
several roles, with generated bodies, queries and path parameters; half of the path parameters are real
records (a patient, a session), the other half random. It fails on a 5xx, a status code the operation does
not declare, a content type or a body that does not match the declared schema, and on a request valid by the
schema that the server refuses as malformed (422: its parser disagrees with the document). A valid-by-schema
request may still be refused as 400 for the clinic's rules (a session in the wrong state, a dose beyond a
limit): those refusals depend on the records, which no schema can say. Bounded: few examples per
operation, derandomized (the same requests every run), no deadline.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ketaclinic.core.access import Role
from ketaclinic.web.api import api
from tests.infusions.conftest import schedule

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION_AND_ROLE = 3
ROLES = (Role.INTAKE, Role.NURSE, Role.PRESCRIBER, Role.BILLING)


@schemathesis.check
def valid_by_schema_is_not_refused_as_malformed(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request generated from the document (positive data) answered 422 means the server's parser is
    stricter than the document says."""
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive and response.status_code == 422:
        raise AssertionError(f"valid by the schema but refused as malformed (422): {response.text[:300]}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    valid_by_schema_is_not_refused_as_malformed,
]


def _document() -> dict[str, Any]:
    return json.loads(json.dumps(api.get_openapi_schema(), default=str))


def test_the_document_is_valid_openapi_3_1():
    doc = _document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_no_two_schemas_share_a_name():
    """ninja names a component after its class: two classes with one name overwrite each other silently."""
    from ninja import Schema

    def subclasses(cls: type) -> list[type]:
        direct: list[type] = cls.__subclasses__()
        return [c for sub in direct for c in (sub, *subclasses(sub))]

    ours = [c for c in subclasses(Schema) if c.__module__.startswith("ketaclinic.")]
    names = Counter(c.__name__ for c in ours)
    assert [
        f"{n} ({', '.join(c.__module__ for c in ours if c.__name__ == n)})" for n, k in names.items() if k > 1
    ] == []
    # and the document uses them as declared: the chart is the patient chart, sign is the screening's
    doc = _document()
    op = doc["paths"]["/api/patients/{external_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert op["schema"]["$ref"].endswith("/PatientChartOut")
    sign = doc["paths"]["/api/screening/screenings/{external_id}/sign"]["post"]["requestBody"]["content"]
    assert sign["application/json"]["schema"]["$ref"].endswith("/ScreeningSignIn")


def test_every_operation_declares_its_errors_in_the_one_shape():
    doc = _document()
    assert set(doc["components"]["schemas"]["ApiError"]["properties"]) == {"error"}
    missing = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if path == "/api/openapi.json":
                continue
            codes = set(op["responses"])
            need = {"400", "401", "403"} | ({"404", "422"} if "{" in path else set())
            if not need <= codes:
                missing.append(f"{method.upper()} {path}: {sorted(need - codes)}")
            for code in codes & {"400", "401", "403", "404", "409", "422"}:
                ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                if not ref.endswith("/ApiError"):
                    missing.append(f"{method.upper()} {path} {code}: {ref}")
    assert missing == []


#: A required string the schema lets be empty on purpose: the core's refusal names the allowed units
#: ("Weight 70 needs a unit: kg or lb."), which says more than "at least 1 character".
EMPTY_REFUSED_BY_THE_CORE = {"QuantityIn.unit"}


def test_required_strings_may_not_be_empty():
    doc = _document()
    empty_allowed = []
    for name, schema in doc["components"]["schemas"].items():
        if not name.endswith("In"):
            continue
        for prop in schema.get("required", []):
            spec = schema["properties"][prop]
            if (
                spec.get("type") == "string"
                and "format" not in spec
                and "pattern" not in spec
                and spec.get("minLength", 0) < 1
            ):
                empty_allowed.append(f"{name}.{prop}")
    assert sorted(set(empty_allowed) - EMPTY_REFUSED_BY_THE_CORE) == []


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django's WSGI handler closes the database connection after each request (which would end the test's
    transaction on PostgreSQL); its test client switches that off for its requests, and so do we."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(staff, patient, protocols, downtown):
    from ketaclinic.accounts.models import Chair

    chair = Chair.objects.create(location=downtown, name="Chair 1")
    session = schedule(staff[Role.NURSE], patient, protocols["depression-standard"], chair)
    return {"patient": str(patient.external_id), "session": str(session.external_id)}


def _real_id(path: str, world: dict[str, str]) -> str | None:
    if "patients/{external_id}" in path or "billing/accounts/{external_id}" in path:
        return world["patient"]
    if path.startswith(("/api/sessions/{external_id}", "/api/billing/sessions/{external_id}")):
        return world["session"]
    return None


def _fuzz(
    operation: Any,
    role: Role,
    cookies: dict[str, str],
    csrf: str,
    real: str | None,
    requests: Counter[str],
    statuses: Counter[int],
    failures: list[str],
    positive: list[int],
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION_AND_ROLE,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), use_real=st.booleans())
    def run(case: Any, use_real: bool) -> None:
        if use_real and real and "external_id" in (case.path_parameters or {}):
            case.path_parameters["external_id"] = real
        response = case.call(headers={"X-CSRFToken": csrf}, cookies=cookies)
        requests[operation.label] += 1
        positive[0] += bool(case.meta and case.meta.generation.mode.is_positive)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, report them together
            failures.append(f"{role.value} {operation.label}: {str(exc)[:600]}")

    run()


# Through the WSGI handler each request ends by closing connections that are not in autocommit, which would
# end the test's own transaction on PostgreSQL: there the test's data really commits (flushed after by
# TRUNCATE).
@pytest.mark.django_db(transaction=os.environ.get("DATABASE_URL", "").startswith("postgres"))
def test_the_server_keeps_to_its_contract_under_fuzzing(
    staff, client_for, fuzz_world, wsgi_keeps_the_test_connection
):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results)  # every operation of the document loads
    assert len(operations) >= 60
    csrf = _get_new_csrf_string()
    sessions = {role: client_for(staff[role]).cookies["sessionid"].value for role in ROLES}
    requests: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    positive = [0]

    for operation in operations:
        for role in ROLES:
            _fuzz(
                operation,
                role,
                {"sessionid": sessions[role], "csrftoken": csrf},
                csrf,
                _real_id(operation.path, fuzz_world),
                requests,
                statuses,
                failures,
                positive,
            )

    total = sum(requests.values())
    print(
        f"\nschemathesis: {len(requests)} operations, {total} requests ({positive[0]} valid by the schema), "
        f"statuses {dict(sorted(statuses.items()))}, failures {len(failures)}"
    )
    assert not failures, "\n\n".join(failures)
    assert len(requests) == len(operations)
    assert statuses[200] + statuses[201] > 0, "no request succeeded: the fuzz run only saw refusals"
    assert positive[0] == total, (
        "every generated request is valid by the schema (the 422 check sees them all)"
    )


@settings(max_examples=300, derandomize=True, database=None)
@given(text=st.from_regex(r"\A[+-]?(\d{1,30}(\.\d{0,10})?|\.\d{1,10})([eE][+-]?\d{1,3})?\Z"))
def test_every_number_the_document_allows_as_text_is_taken(text: str):
    """The document lets a clinical number be written as text matching DECIMAL_TEXT; every such text parses
    (a dose or weight in range or not is then the core's business: 400 naming the range, never 422)."""
    import re

    from pydantic import TypeAdapter

    from ketaclinic.base.api_types import DECIMAL_TEXT, DecimalIn

    assert re.fullmatch(DECIMAL_TEXT, text)
    assert TypeAdapter(DecimalIn).validate_python(text).is_finite()


@pytest.mark.parametrize("text", ["", "NaN", "Infinity", "72,5", "72 kg", "1e", ".", "+"])
def test_text_that_is_not_a_number_is_not_promised(text: str):
    import re

    from ketaclinic.base.api_types import DECIMAL_TEXT

    assert re.fullmatch(DECIMAL_TEXT, text) is None


def test_a_missing_record_named_in_the_path_answers_in_the_one_error_shape(staff, client_for, fuzz_world):
    """Found by the fuzz run: reviewing an adverse event that is not in the session answered Django's own
    {"detail": "Not Found"}, which the document does not declare."""
    client = client_for(staff[Role.PRESCRIBER])
    missing = "78274c74-2207-49b7-9e20-3a40ee6b1dc1"
    response = client.post(
        f"/api/sessions/{fuzz_world['session']}/adverse-events/{missing}/review",
        {"note": "Reviewed at the chair"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "No such adverse event in this session.",
            "field": None,
            "value": None,
        }
    }
