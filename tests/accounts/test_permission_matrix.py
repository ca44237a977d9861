"""The permission matrix: docs/permissions.md equals ``ROLE_PERMISSIONS`` cell by cell, and every cell
(role × permission) behaves as declared through the real pages and JSON API.

Each permission is a named test (``test_page_cells[screening.sign]``, ``test_api_cells[...]``) in which every
role tries it, each attempt rolled back so all meet the same clinic.
A permission with no page or API operation yet is exercised through its service (``test_service_cell``).
Allowed means a 2xx/3xx answer; refused means 403 and exactly one ``denied`` audit entry for the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from ketaclinic.accounts.permissions import ACTION_WORDS, require
from ketaclinic.accounts.services import staff_create
from ketaclinic.core.access import PERMISSION_DENIED, ROLE_PERMISSIONS, Permission, Role, role_can
from ketaclinic.protocols.files import shipped_protocols
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.services import protocol_load
from tests.accounts.conftest import Clinic, denials_of, rolled_back

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
P = Permission


def doc_matrix() -> dict[Role, set[Permission]]:
    """The first table of docs/permissions.md: header ``| Permission | role... |``, cells ✓ or —."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.startswith("| Permission |") and "prescriber" in line
    )
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    roles = [Role(h) for h in header[1:]]
    matrix: dict[Role, set[Permission]] = {r: set() for r in roles}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        permission = Permission(cells[0].strip("`"))
        assert len(cells) == len(header), line
        for role, cell in zip(roles, cells[1:], strict=True):
            assert cell in ("✓", "—"), f"{permission} × {role}: {cell!r} is neither ✓ nor —"
            if cell == "✓":
                matrix[role].add(permission)
    return matrix


def test_doc_lists_every_role_and_every_permission_once():
    text = DOC.read_text(encoding="utf-8")
    header = next(
        line for line in text.splitlines() if line.startswith("| Permission |") and "prescriber" in line
    )
    assert [c.strip() for c in header.strip("|").split("|")][1:] == [r.value for r in Role]
    rows = re.findall(r"^\| `([a-z.]+)` \| [✓—] ", text, flags=re.MULTILINE)
    assert sorted(rows) == sorted(p.value for p in Permission)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_doc_matrix_equals_the_code(role):
    assert doc_matrix()[role] == set(ROLE_PERMISSIONS[role])


# ---------------------------------------------------------------------------------------------------
# Probes: one representative request per permission, on the page and (where one exists) on the API.


@dataclass(frozen=True)
class Probe:
    method: str
    url: Callable[[Clinic], str]
    data: Callable[[Clinic], dict[str, Any]] | None = None

    json_only: bool = False  # an API operation standing in for a page not built yet (none left)

    def send(self, client, clinic: Clinic, *, json: bool):
        return self.send_to(client, self.url(clinic), self.data(clinic) if self.data else None, json=json)

    def send_to(self, client, url: str, data: dict[str, Any] | None, *, json: bool):
        if self.method == "get":
            return client.get(url)
        if json or self.json_only:
            return client.post(url, data or {}, content_type="application/json")
        return client.post(url, data or {})


def _patient_json(c: Clinic) -> dict[str, Any]:
    return {
        "given_name": "Lena",
        "family_name": "Okafor",
        "birth_date": "1990-02-03",
        "sex_at_birth": "female",
        "location": "downtown",
        "weight": {"value": "61", "unit": "kg"},
    }


def _plan_json(c: Clinic) -> dict[str, Any]:
    """A second plan on the same screening, in the afternoons (the clinic's plan has the mornings)."""
    first = c.plan.infusions.order_by("sequence").first()
    return {
        "screening": str(c.plan.screening.external_id),
        "start": first.scheduled_start.date().isoformat(),
        "weekdays": [0, 3],
        "at": "14:00",
        "location": c.chair.location.code,
        "chair": str(c.chair.external_id),
    }


REFERRAL_JSON = {
    "indication": "trd",
    "referrer_name": "Dr. Ada Referrer",
    "referrer_role": "psychiatrist",
    "reason": "Two failed trials",
    "received_on": "2026-11-02",
}
SCREENING_JSON = {
    "indication": "trd",
    "trials": [
        {"kind": "antidepressant", "name": "sertraline", "weeks": 8},
        {"kind": "antidepressant", "name": "bupropion", "weeks": 8},
    ],
}
SIGN = {"outcome": "not_eligible", "note": "Prescriber judgement after interview."}
ASSESS = {
    "assessment": "Passive ideation, no plan or intent; protective factors.",
    "plan": "Safety plan reviewed; call in 24 h.",
}
BREAK_GLASS_REASON = {"reason": "Patient presented here in crisis; need her medication list"}


def _session_url(state: str, tail: str = "") -> Callable[[Clinic], str]:
    return lambda c: f"/api/sessions/{c.sessions.get(state).external_id}{tail}"


def _version(state: str, **extra: Any) -> Callable[[Clinic], dict[str, Any]]:
    return lambda c: {"expected_version": c.sessions.get(state).version, **extra}


def _order_sign_url(c: Clinic) -> str:
    session = c.sessions.get("order")
    return f"/api/sessions/{session.external_id}/orders/{session.orders.get().external_id}/sign"


# Infusion session permissions, through the API.
SESSION_PROBES: dict[Permission, Probe] = {
    P.SESSION_VIEW: Probe("get", _session_url("running")),
    P.SESSION_RUN: Probe(
        "post",
        _session_url("checked_in", "/vitals"),
        lambda c: {"client_id": "probe-reading", "heart_rate_bpm": 72},
        json_only=True,
    ),
    P.SCHEDULE_MANAGE: Probe(
        "post", _session_url("scheduled", "/check-in"), _version("scheduled"), json_only=True
    ),
    P.ORDER_SIGN: Probe("post", _order_sign_url, _version("order"), json_only=True),
    P.NOTE_SIGN: Probe("post", _session_url("note", "/note/sign"), _version("note"), json_only=True),
    P.BOARD_VIEW: Probe("get", lambda c: "/api/sessions/board?location=downtown"),
    P.MAR_VIEW: Probe("get", _session_url("discharged", "/mar")),
}


def _page(state: str, tail: str = "") -> Callable[[Clinic], str]:
    return lambda c: f"/sessions/{c.sessions.get(state).external_id}/{tail}"


# The same permissions through the session pages.
SESSION_PAGE_PROBES: dict[Permission, Probe] = {
    P.SESSION_VIEW: Probe("get", _page("running")),
    P.SESSION_RUN: Probe(
        "post",
        _page("checked_in", "vitals/"),
        lambda c: {"client_id": "probe-page-reading", "heart_rate_bpm": 72},
    ),
    P.SCHEDULE_MANAGE: Probe("post", _page("scheduled", "check-in/"), _version("scheduled")),
    P.ORDER_SIGN: Probe(
        "post",
        _page("order", "order-sign/"),
        lambda c: {
            "expected_version": c.sessions.get("order").version,
            "order": str(c.sessions.get("order").orders.get().external_id),
        },
    ),
    P.NOTE_SIGN: Probe("post", _page("note", "note/sign/"), _version("note")),
    P.BOARD_VIEW: Probe("get", lambda c: "/sessions/board/?location=downtown"),
    P.MAR_VIEW: Probe("get", _page("discharged", "mar/")),
}


def _todays_slot(c: Clinic) -> str:
    """A slot of today of a signed plan (a second Downtown patient), made on first use: checking in
    succeeds."""
    from datetime import time

    from ketaclinic.plans.models import PlannedInfusion
    from tests.conftest import register
    from tests.infusions.conftest import todays_plan

    slot = PlannedInfusion.objects.filter(plan__patient__family_name="Board", plan__status="active").first()
    if slot is None:
        patient = register(
            c.staff[Role.INTAKE],
            c.patient.location,
            given_name="Tess",
            family_name="Board",
            email="tess.board@example.org",
        )
        slot = todays_plan(c.staff, patient, c.chair, at=time(15)).infusions.get(sequence=1)
    return str(slot.external_id)


# The day board's "Check in" on a planned slot (opens the session from it): a second route for
# schedule.manage.
BOARD_SLOT_PROBES: dict[str, tuple[Permission, Probe]] = {
    "page": (
        P.SCHEDULE_MANAGE,
        Probe("post", lambda c: f"/sessions/board/slots/{_todays_slot(c)}/check-in/"),
    ),
    "api": (P.SCHEDULE_MANAGE, Probe("post", lambda c: f"/api/sessions/planned/{_todays_slot(c)}/check-in")),
}

PAGE_PROBES: dict[Permission, Probe] = {
    P.PATIENT_VIEW: Probe("get", lambda c: f"/patients/{c.patient.external_id}/"),
    P.PATIENT_REGISTER: Probe("get", lambda c: "/patients/new/"),
    P.CLINICAL_VIEW: Probe("get", lambda c: f"/screening/{c.screening_for_page.external_id}/"),
    P.CLINICAL_RECORD: Probe(
        "post",
        lambda c: f"/patients/{c.patient.external_id}/allergies/",
        lambda c: {"substance": "Latex", "reaction": "Rash", "severity": "mild"},
    ),
    P.REFERRAL_RECORD: Probe("get", lambda c: f"/screening/patient/{c.patient.external_id}/referral/"),
    P.SCREENING_RECORD: Probe(
        "get", lambda c: f"/screening/patient/{c.patient.external_id}/new/?indication=trd"
    ),
    P.SCREENING_SIGN: Probe(
        "post", lambda c: f"/screening/{c.screening_for_page.external_id}/", lambda c: SIGN
    ),
    P.BREAK_GLASS: Probe(
        "post",
        lambda c: f"/accounts/break-glass/{c.other_patient.external_id}/",
        lambda c: BREAK_GLASS_REASON,
    ),
    P.BREAK_GLASS_REVIEW: Probe("get", lambda c: "/accounts/break-glass/reviews/"),
    P.AUDIT_VIEW: Probe("get", lambda c: "/audit/"),
    P.JOBS_VIEW: Probe("get", lambda c: "/jobs/"),
    P.PROTOCOL_VIEW: Probe("get", lambda c: "/protocols/"),
    P.PROTOCOL_LOAD: Probe("post", lambda c: "/protocols/load/", lambda c: {}),
    P.STAFF_MANAGE: Probe("get", lambda c: "/accounts/staff/"),
    P.PLAN_WRITE: Probe("get", lambda c: f"/plans/patient/{c.patient.external_id}/new/"),
    P.PLAN_SIGN: Probe("post", lambda c: f"/plans/{c.plan.external_id}/"),
    P.SCHEDULE_MANAGE: Probe("get", lambda c: f"/plans/infusions/{c.infusion.external_id}/move/"),
    P.CONSENT_RECORD: Probe("get", lambda c: f"/consent/patient/{c.patient.external_id}/sign/"),
    P.CONSENT_MANAGE: Probe("get", lambda c: "/consent/documents/"),
    **SESSION_PAGE_PROBES,
    P.QUESTIONNAIRE_RECORD: Probe("get", lambda c: f"/outcomes/patient/{c.patient.external_id}/record/phq9/"),
    P.SAFETY_ASSESS: Probe("post", lambda c: f"/outcomes/flags/{c.flag.external_id}/", lambda c: ASSESS),
    P.BOOSTER_DECIDE: Probe(
        "post",
        lambda c: f"/outcomes/boosters/{c.booster.external_id}/",
        lambda c: {"decision": "decline", "reason": "Patient prefers to wait a week"},
    ),
    P.OUTCOMES_VIEW: Probe("get", lambda c: "/outcomes/dashboard/"),
    P.INQUIRY_MANAGE: Probe("get", lambda c: "/intake/inquiries/"),
    P.CALENDAR_VIEW: Probe("get", lambda c: "/desk/calendar/?location=downtown"),
    P.BILLING_VIEW: Probe("get", lambda c: "/billing/"),
    P.BILLING_RECORD: Probe(
        "post",
        lambda c: f"/billing/patients/{c.patient.external_id}/",
        lambda c: {"action": "sell", "package": 1},
    ),
}

API_PROBES: dict[Permission, Probe] = {
    P.PATIENT_VIEW: Probe("get", lambda c: f"/api/patients/{c.patient.external_id}"),
    P.PATIENT_REGISTER: Probe("post", lambda c: "/api/patients", _patient_json),
    P.CLINICAL_VIEW: Probe("get", lambda c: f"/api/screening/patients/{c.patient.external_id}/referrals"),
    P.CLINICAL_RECORD: Probe(
        "post",
        lambda c: f"/api/patients/{c.patient.external_id}/allergies",
        lambda c: {"substance": "Latex", "reaction": "Rash", "severity": "mild"},
    ),
    P.REFERRAL_RECORD: Probe(
        "post",
        lambda c: f"/api/screening/patients/{c.patient.external_id}/referrals",
        lambda c: REFERRAL_JSON,
    ),
    P.SCREENING_RECORD: Probe(
        "post",
        lambda c: f"/api/screening/patients/{c.patient.external_id}/screenings",
        lambda c: SCREENING_JSON,
    ),
    P.SCREENING_SIGN: Probe(
        "post", lambda c: f"/api/screening/screenings/{c.screening_for_api.external_id}/sign", lambda c: SIGN
    ),
    P.PROTOCOL_VIEW: Probe("get", lambda c: "/api/protocols"),
    P.PLAN_WRITE: Probe("post", lambda c: f"/api/plans/patients/{c.patient.external_id}/plans", _plan_json),
    P.PLAN_SIGN: Probe("post", lambda c: f"/api/plans/plans/{c.plan.external_id}/sign"),
    P.SCHEDULE_MANAGE: Probe(
        "post",
        lambda c: f"/api/plans/infusions/{c.infusion.external_id}/cancel",
        lambda c: {"reason": "Patient has the flu"},
    ),
    P.CONSENT_RECORD: Probe(
        "post", lambda c: f"/api/consent/patients/{c.patient.external_id}/links", lambda c: {}
    ),
    P.CONSENT_MANAGE: Probe("get", lambda c: "/api/consent/documents"),
    **SESSION_PROBES,
    P.QUESTIONNAIRE_RECORD: Probe(
        "post",
        lambda c: f"/api/outcomes/patients/{c.patient.external_id}/responses",
        lambda c: {"instrument": "gad7", "answers": [1, 1, 1, 1, 1, 1, 1]},
    ),
    P.SAFETY_ASSESS: Probe(
        "post", lambda c: f"/api/outcomes/flags/{c.flag.external_id}/assess", lambda c: ASSESS
    ),
    P.BOOSTER_DECIDE: Probe(
        "post",
        lambda c: f"/api/outcomes/boosters/{c.booster.external_id}/decide",
        lambda c: {"decision": "accept"},
    ),
    P.OUTCOMES_VIEW: Probe("get", lambda c: "/api/outcomes/dashboard?start=2026-01-01&end=2026-12-31"),
}

# Permissions whose service is also used off the web (commands, the demo loader): checked there too.
SERVICE_ONLY = {P.PROTOCOL_LOAD, P.STAFF_MANAGE}


def test_every_permission_is_exercised_somewhere():
    assert set(PAGE_PROBES) == set(Permission)
    assert not set(API_PROBES) - set(PAGE_PROBES)


def cells(probes) -> list:
    return [pytest.param(role, perm, id=f"{role.value}-{perm.value}") for perm in probes for role in Role]


def assert_cell(response, user, role: Role, permission: Permission) -> None:
    denials = denials_of(user)
    if role_can(role, permission):
        assert 200 <= response.status_code < 400, (role.value, response.status_code, response.content[:400])
        assert denials == []
    else:
        assert response.status_code == 403, (role.value, response.status_code, response.content[:400])
        assert len(denials) == 1, [d.summary for d in denials]
        assert denials[0].path == response.wsgi_request.path
        assert denials[0].detail["status"] == 403


def every_role_tries(probe: Probe, permission: Permission, clinic: Clinic, client_for, *, json: bool) -> None:
    """Each role sends the probe in a savepoint rolled back afterwards, so every role meets the same clinic
    (the probe's address and body are made first, outside it: a session it needs is made once and kept)."""
    url, data = probe.url(clinic), probe.data(clinic) if probe.data else None
    for role in Role:
        user = clinic.staff[role]
        with rolled_back():
            response = probe.send_to(client_for(user), url, data, json=json)
            assert_cell(response, user, role, permission)
            if json and response.status_code == 403:
                assert response.json()["error"]["code"] == "forbidden"
                assert response.json()["error"]["message"] == PERMISSION_DENIED.format(
                    role=role.value, action=ACTION_WORDS[permission]
                )


@pytest.mark.parametrize("permission", list(PAGE_PROBES), ids=str)
def test_page_cells(permission, clinic, client_for):
    every_role_tries(PAGE_PROBES[permission], permission, clinic, client_for, json=False)


@pytest.mark.parametrize("permission", list(API_PROBES), ids=str)
def test_api_cells(permission, clinic, client_for):
    every_role_tries(API_PROBES[permission], permission, clinic, client_for, json=True)


@pytest.mark.parametrize(
    ("role", "kind"),
    [pytest.param(role, kind, id=f"{role.value}-{kind}") for kind in BOARD_SLOT_PROBES for role in Role],
)
def test_board_slot_check_in_cell(role, kind, clinic, client_for):
    from ketaclinic.infusions.models import InfusionSession

    permission, probe = BOARD_SLOT_PROBES[kind]
    user = clinic.staff[role]
    response = probe.send(client_for(user), clinic, json=kind == "api")
    assert_cell(response, user, role, permission)
    assert InfusionSession.objects.filter(planned_infusion__isnull=False).exists() is role_can(
        role, permission
    )


def _load_new_protocol_version(user) -> None:
    doc = next(iter(shipped_protocols().values()))
    protocol_load(document=doc.model_copy(update={"version": doc.version + 1}), user=user, source_name="test")


def _create_staff(user) -> None:
    staff_create(
        user=user,
        username="new.nurse",
        password="another long passphrase",
        role="nurse",
        locations=list(user.locations.all()),
    )


SERVICE_ACTIONS: dict[Permission, Callable[[Any], None]] = {
    P.PROTOCOL_LOAD: _load_new_protocol_version,
    P.STAFF_MANAGE: _create_staff,
}


@pytest.mark.parametrize(("role", "permission"), cells(sorted(SERVICE_ONLY)))
def test_service_cell(role, permission, clinic):
    """``protocol.load`` and ``staff.manage`` are also reached off the web (``manage protocol_load``, the
    demo loader), so these cells are checked through ``require`` and the service that enforces them:
    ``protocol_load`` and ``staff_create(user=...)``, beside the page probes."""
    user = clinic.staff[role]
    expected = PERMISSION_DENIED.format(role=role.value, action=ACTION_WORDS[permission])
    if role_can(role, permission):
        require(user, permission)
        SERVICE_ACTIONS[permission](user)
    else:
        with pytest.raises(PermissionDenied, match=re.escape(expected)):
            require(user, permission)
        with pytest.raises(PermissionDenied, match=re.escape(expected)):
            SERVICE_ACTIONS[permission](user)
    created = (
        ProtocolVersion.objects.filter(source_name="test").exists()
        if permission is P.PROTOCOL_LOAD
        else clinic.staff[Role.NURSE].__class__.objects.filter(username="new.nurse").exists()
    )
    assert created is role_can(role, permission)


def test_an_inactive_user_holds_no_permission(clinic):
    user = clinic.staff[Role.PRESCRIBER]
    user.is_active = False
    assert not any(user.can(p) for p in Permission)
    with pytest.raises(PermissionDenied):
        require(user, P.PATIENT_VIEW)


def test_an_unknown_role_holds_no_permission():
    assert not any(role_can("superuser", p) for p in Permission)
