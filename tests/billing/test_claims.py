"""An insurance claim for a given session, from the records: the CMS-1500 boxes (page and PDF) and the X12
837P file for a workers' compensation carrier; a claim missing a required field is refused naming it."""

from __future__ import annotations

import re

import pytest

from ketaclinic.core.billing.claims import x12_problems
from tests.billing.conftest import give

pytestmark = pytest.mark.django_db


def test_a_workers_comp_claim_has_the_boxes_and_a_valid_837p(client_for, clerk, provider, insured, given):
    client = client_for(clerk)
    page = client.get(f"/billing/sessions/{given.external_id}/claim/", follow=True).content.decode()
    assert "msg error" not in page, re.findall(r"msg error[^<]*<[^<]*", page)
    assert "WC88231" in page and "PA20260042" in page and "96365" in page and "1234567893" in page
    assert "475.00" in page and "F33.9" in page
    x12 = client.get(f"/billing/sessions/{given.external_id}/claim.837")
    text = x12.content.decode()
    assert x12.status_code == 200 and text.startswith("ISA*") and "REF*G1*PA20260042" in text
    assert x12_problems(text) == ()
    pdf = client.get(f"/billing/sessions/{given.external_id}/claim.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"


def test_a_claim_without_the_clinics_npi_and_tax_id_is_refused_naming_them(client_for, clerk, insured, given):
    client = client_for(clerk)
    r = client.get(f"/billing/sessions/{given.external_id}/claim.837", follow=True)
    text = r.content.decode()
    assert r.redirect_chain and "NPI" in text and "tax id" in text.lower()


def screened(staff, patient, diagnosis: str):
    from ketaclinic.core.access import Role
    from ketaclinic.screening.services import screening_sign
    from tests.accounts.conftest import refer, screen

    s = screen(staff[Role.INTAKE], patient, refer(staff[Role.INTAKE], patient))
    return screening_sign(
        user=staff[Role.PRESCRIBER], screening=s, outcome="eligible", note="Interviewed.", diagnosis=diagnosis
    )


def test_the_claim_the_837p_and_the_superbill_carry_the_screened_diagnosis(
    client_for, clerk, provider, insured, nurse, prescriber, staff, patient, depression, chair
):
    from tests.infusions.conftest import schedule, todays_plan

    screening = screened(staff, patient, "f33.1")
    assert screening.diagnosis == "F33.1"
    todays_plan(staff, patient, chair, screening=screening)
    session = give(schedule(nurse, patient, depression, chair), nurse, prescriber, clerk)
    assert session.treatment_plan.screening == screening
    client = client_for(clerk)
    page = client.get(f"/billing/sessions/{session.external_id}/claim/", follow=True).content.decode()
    assert "F33.1" in page and "F33.9" not in page, re.findall(r"msg error[^<]*<[^<]*", page)
    text = client.get(f"/billing/sessions/{session.external_id}/claim.837").content.decode()
    assert "HI*ABK:F331~" in text and "F339" not in text
    assert x12_problems(text) == ()
    bill = client.get(f"/billing/sessions/{session.external_id}/superbill/").content.decode()
    assert "F33.1 Major depressive disorder, recurrent, moderate" in bill
    assert "No diagnosis was recorded" not in bill


def test_without_a_recorded_diagnosis_the_superbill_says_it_carries_the_general_code(
    client_for, clerk, session, nurse, prescriber, staff, patient
):
    screened(staff, patient, "")
    session = give(session, nurse, prescriber, clerk)
    bill = client_for(clerk).get(f"/billing/sessions/{session.external_id}/superbill/").content.decode()
    assert "F33.9 Major depressive disorder, recurrent, unspecified" in bill
    assert "No diagnosis was recorded at screening" in bill


def test_a_diagnosis_outside_the_screened_indication_is_refused_and_nothing_is_signed(
    staff, patient, protocols
):
    from ketaclinic.core.access import Role
    from ketaclinic.core.errors import ValidationError
    from ketaclinic.screening.models import Screening
    from ketaclinic.screening.services import screening_sign
    from tests.accounts.conftest import refer, screen

    s = screen(staff[Role.INTAKE], patient, refer(staff[Role.INTAKE], patient))
    with pytest.raises(ValidationError, match="F41.1 .*does not fit the screened indication") as caught:
        screening_sign(
            user=staff[Role.PRESCRIBER], screening=s, outcome="eligible", note="x", diagnosis="F41.1"
        )
    assert caught.value.field == "diagnosis"
    s.refresh_from_db()
    assert s.status == Screening.Status.COMPUTED and s.diagnosis == ""
