"""The checklist's consent item is checked against the consent record: "yes" without a signed current consent
is refused naming what is missing, nobody can override it, the infusion cannot start, and a new version of
the consent document after signing makes it fail again until the patient signs the new version."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from ketaclinic.consent.models import ConsentSignature
from ketaclinic.consent.services import consent_document_edit, consent_documents_load_shipped
from ketaclinic.core.access import Role
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.infusion.checklist import CONSENT_NOT_ON_FILE, CONSENT_NOT_OVERRIDABLE
from ketaclinic.core.infusion.state import TransitionRefused
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import ChecklistItemResponse
from ketaclinic.infusions.selectors import checklist as selectors_checklist
from ketaclinic.infusions.selectors import pathway as selectors_pathway
from ketaclinic.infusions.services import _common as services_common
from ketaclinic.infusions.services import discharge as services_discharge
from ketaclinic.infusions.services import vitals as services_vitals
from tests.infusions.conftest import CONFIRM, consent_sign, fresh, schedule, vial_check, vitals

pytestmark = pytest.mark.django_db
QUESTION = "Signed informed consent on file for this treatment?"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode()).replace("&#x27;", "'")


@pytest.fixture
def unconsented(nurse, patient, depression, chair):
    """A checked-in session of a patient who has not signed the consent."""
    consent_documents_load_shipped()
    session = schedule(nurse, patient, depression, chair, consent=False)
    return s.session_check_in(user=nurse, session=session, expected_version=session.version)


def answer(nurse, session, code: str, **kw):
    return s.checklist_record(
        user=nurse, session=fresh(session), expected_version=fresh(session).version, code=code, **kw
    )


def everything_else(nurse, prescriber, session) -> None:
    """Every item but consent answered, an order calculated and signed, the bag checked by the prescriber."""
    vitals(nurse, session, timezone.now())
    for code in CONFIRM:
        if code != "consent_on_file":
            answer(nurse, session, code, answer="yes")
    answer(nurse, session, "weight_today", value="70", unit="kg")
    answer(nurse, session, "phq9_today", value=18)
    answer(nurse, session, "pregnancy_status", answer="not_pregnant")
    order = s.order_create(user=nurse, session=fresh(session), expected_version=fresh(session).version)
    s.order_sign(user=prescriber, order=order, expected_version=fresh(session).version)
    vial_check(prescriber, session)


def test_no_consent_refuses_yes_and_the_start(unconsented, nurse, prescriber):
    missing = "Not signed: Consent to treatment with intravenous ketamine v1"
    with pytest.raises(ValidationError) as exc:
        answer(nurse, unconsented, "consent_on_file", answer="yes")
    assert exc.value.message == CONSENT_NOT_ON_FILE.format(question=QUESTION, problem=missing)
    assert not ChecklistItemResponse.objects.filter(session=unconsented).exists()  # nothing half-saved
    everything_else(nurse, prescriber, unconsented)
    item = next(
        i for i in selectors.checklist_result(fresh(unconsented)).items if i.code == "consent_on_file"
    )
    assert item.status == "failed" and item.detail == missing
    with pytest.raises(ValidationError, match=re.escape(f"consent_on_file failed ({missing})")):
        s.checklist_complete(
            user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version
        )
    with pytest.raises(TransitionRefused):
        s.infusion_start(user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version)


def test_consent_cannot_be_overridden_by_a_prescriber(unconsented, prescriber):
    with pytest.raises(ValidationError) as exc:
        s.checklist_override(
            user=prescriber,
            session=fresh(unconsented),
            expected_version=fresh(unconsented).version,
            code="consent_on_file",
            reason="Signed on paper, will be scanned tomorrow",
        )
    assert exc.value.message == CONSENT_NOT_OVERRIDABLE.format(
        question=QUESTION, problem="Not signed: Consent to treatment with intravenous ketamine v1"
    )
    assert not ChecklistItemResponse.objects.filter(session=unconsented).exists()


def test_signed_consent_passes_and_the_infusion_starts(unconsented, nurse, prescriber):
    consent_sign(nurse, unconsented.patient)
    answer(nurse, unconsented, "consent_on_file", answer="yes")
    everything_else(nurse, prescriber, unconsented)
    session = s.checklist_complete(
        user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version
    )
    s.infusion_start(user=nurse, session=session, expected_version=session.version)
    assert fresh(session).state == "running"
    item = next(i for i in selectors.checklist_result(fresh(session)).items if i.code == "consent_on_file")
    assert item.status == "passed"


def test_a_new_consent_version_after_signing_is_refused_again(unconsented, nurse, prescriber, staff):
    consent_sign(nurse, unconsented.patient)
    answer(nurse, unconsented, "consent_on_file", answer="yes")
    everything_else(nurse, prescriber, unconsented)
    s.checklist_complete(user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version)
    doc = consent_document_edit(
        user=staff[Role.ADMIN],
        code="ketamine-infusion",
        title="Consent to treatment v2",
        body="New text: a new risk is described.",
        changelog="Adds a risk",
    )
    missing = f"New signature needed (document changed): {doc.title} v{doc.version}"
    result = selectors.checklist_result(fresh(unconsented))
    assert not result.passed and f"consent_on_file failed ({missing})" in result.failures
    with pytest.raises(TransitionRefused, match=re.escape(missing)):
        s.infusion_start(user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version)
    with pytest.raises(ValidationError, match="not on file"):
        answer(nurse, unconsented, "consent_on_file", answer="yes")
    consent_sign(nurse, unconsented.patient)  # signs v2
    assert ConsentSignature.objects.filter(patient=unconsented.patient).count() == 2
    answer(nurse, unconsented, "consent_on_file", answer="yes")
    s.infusion_start(user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version)


@pytest.fixture
def no_consent_item(monkeypatch):
    """A clinic protocol whose checklist has no consent item at all.

    ``session_sections`` is patched in every module that looks it up (the services package and the checklist
    selector import it by name, so patching the package attribute alone would not reach them; the checklist
    items come through ``session_checklist``, which looks it up in the pathway selectors)."""
    sections = selectors.session_sections

    def without(session):
        monitoring, checklist, discharge = sections(session)
        items = tuple(i for i in checklist.items if i.code != "consent_on_file")
        return monitoring, checklist.model_copy(update={"items": items}), discharge

    for module in (
        selectors_pathway,
        selectors_checklist,
        services_common,
        services_vitals,
        services_discharge,
    ):
        monkeypatch.setattr(module, "session_sections", without)


def test_a_checklist_without_the_consent_item_still_needs_the_consent(
    unconsented, nurse, prescriber, staff, no_consent_item
):
    everything_else(nurse, prescriber, unconsented)
    result = selectors.checklist_result(fresh(unconsented))
    assert result.passed and "consent_on_file" not in {i.code for i in result.items}
    missing = "Not signed: Consent to treatment with intravenous ketamine v1"
    with pytest.raises(ValidationError) as exc:
        s.checklist_complete(
            user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version
        )
    assert exc.value.message == s.CONSENT_REQUIRED.format(problem=missing)
    assert fresh(unconsented).state == "checked_in"
    consent_sign(nurse, unconsented.patient)
    s.checklist_complete(user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version)
    doc = consent_document_edit(
        user=staff[Role.ADMIN],
        code="ketamine-infusion",
        title="Consent to treatment v2",
        body="New text: a new risk is described.",
        changelog="Adds a risk",
    )
    with pytest.raises(ValidationError) as exc:  # the start checks the consent itself, not only the checklist
        s.infusion_start(user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version)
    assert exc.value.message == s.CONSENT_REQUIRED.format(
        problem=f"New signature needed (document changed): {doc.title} v{doc.version}"
    )
    assert fresh(unconsented).state == "prechecks_done" and not fresh(unconsented).rate_events.exists()
    consent_sign(nurse, unconsented.patient)
    s.infusion_start(user=nurse, session=fresh(unconsented), expected_version=fresh(unconsented).version)
    assert fresh(unconsented).state == "running"


def test_the_checklist_row_shows_the_consent_status_and_the_refusal(unconsented, nurse, client_for):
    client = client_for(nurse)
    page = f"/sessions/{unconsented.external_id}/"
    body = text(client.get(page))
    assert (
        'data-testid="consent-status"' in body
        and "Not signed: Consent to treatment with intravenous ketamine v1" in body
    )
    assert f"/consent/patient/{unconsented.patient.external_id}/sign/" in body  # the nurse may collect it
    r = client.post(
        f"{page}checklist/",
        {"expected_version": fresh(unconsented).version, "code": "consent_on_file", "answer": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 400 and "the patient's consent is not on file" in text(r)
    consent_sign(nurse, unconsented.patient)
    assert "Consent on file: Consent to treatment with intravenous ketamine v1 signed" in text(
        client.get(page)
    )
