"""An insurance claim for a given session, from the records: the CMS-1500 boxes (page and PDF) and the X12
837P file for a workers' compensation carrier; a claim missing a required field is refused naming it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from ketaclinic.billing import services as b
from ketaclinic.billing.models import BillingProvider, InsurancePolicy, Payer, PriorAuthorization
from ketaclinic.core.billing.claims import x12_problems
from tests.infusions.conftest import walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def insured(patient):
    payer = Payer.objects.create(
        name="State Fund Workers Comp", kind=Payer.Kind.WORKERS_COMP, payer_id="SFWC1"
    )
    policy = InsurancePolicy.objects.create(
        patient=patient, payer=payer, member_id="WC88231", coverage_percent=100
    )
    today = timezone.localdate()
    PriorAuthorization.objects.create(
        policy=policy,
        number="PA20260042",
        approved_units=6,
        first_day=today - timedelta(days=5),
        last_day=today + timedelta(days=60),
    )
    patient.address, patient.city, patient.state, patient.postal_code = "12 Elm St", "Boston", "MA", "02110"
    patient.save()
    return policy


def given(session, nurse, prescriber, clerk):
    get_user_model().objects.filter(pk=prescriber.pk).update(npi="1245319599")
    walk(session, "discharged", nurse=nurse, prescriber=prescriber)
    session.refresh_from_db()
    b.session_charge(user=clerk, session=session)
    return session


def test_a_workers_comp_claim_has_the_boxes_and_a_valid_837p(
    client_for, clerk, insured, session, nurse, prescriber
):
    BillingProvider.objects.create(
        name="Downtown Ketamine Clinic LLC",
        npi="1234567893",
        tax_id="12-3456789",
        address="1 Main St",
        city="Boston",
        state="MA",
        postal_code="02108",
        ketamine_ndc="42023-0113-10",
        phone="617-555-0100",
    )
    session = given(session, nurse, prescriber, clerk)
    client = client_for(clerk)
    page = client.get(f"/billing/sessions/{session.external_id}/claim/", follow=True).content.decode()
    assert "msg error" not in page, re.findall(r"msg error[^<]*<[^<]*", page)
    assert "WC88231" in page and "PA20260042" in page and "96365" in page and "1234567893" in page
    assert "475.00" in page and "F33.9" in page
    x12 = client.get(f"/billing/sessions/{session.external_id}/claim.837")
    text = x12.content.decode()
    assert x12.status_code == 200 and text.startswith("ISA*") and "REF*G1*PA20260042" in text
    assert x12_problems(text) == ()
    pdf = client.get(f"/billing/sessions/{session.external_id}/claim.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"


def test_a_claim_without_the_clinics_npi_and_tax_id_is_refused_naming_them(
    client_for, clerk, insured, session, nurse, prescriber
):
    session = given(session, nurse, prescriber, clerk)
    client = client_for(clerk)
    r = client.get(f"/billing/sessions/{session.external_id}/claim.837", follow=True)
    text = r.content.decode()
    assert r.redirect_chain and "NPI" in text and "tax id" in text.lower()
