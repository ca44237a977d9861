"""An insurance claim for a given session, from the records: the CMS-1500 boxes (page and PDF) and the X12
837P file for a workers' compensation carrier; a claim missing a required field is refused naming it."""

from __future__ import annotations

import re

import pytest

from ketaclinic.core.billing.claims import x12_problems

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
