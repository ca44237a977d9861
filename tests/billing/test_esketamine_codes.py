"""An esketamine (Spravato) nasal session is billed by its own codes, never as an IV infusion: J0013 × the
milligrams of its devices (G2082 or G2083, the visit with the drug and observation bundled, when the
patient's primary insurer is Medicare), with no IV infusion or push CPT. A session not billed yet says so
on its superbill instead of a $0.00 charge, and no claim is made for it."""

from __future__ import annotations

import pytest

from ketaclinic.billing import services as b
from ketaclinic.billing.models import InsurancePolicy, Payer
from tests.clock import daytime
from tests.infusions.test_rems import esketamine_discharged

pytestmark = pytest.mark.django_db


@pytest.fixture
def esketamine_session(nurse, prescriber, patient, protocols, downtown):
    daytime(downtown.timezone)
    return esketamine_discharged(nurse, prescriber, patient, protocols["esketamine-nasal"])


def test_an_esketamine_session_bills_j0013_by_the_mg_and_no_iv_code(
    client_for, clerk, provider, esketamine_session
):
    client = client_for(clerk)
    url = f"/billing/sessions/{esketamine_session.external_id}/superbill/"
    page = client.get(url).content.decode()
    assert "HCPCS J0013" in page and "esketamine nasal spray 56 mg" in page
    assert "CPT 9636" not in page and "CPT 96374" not in page and "J3490" not in page  # not an IV infusion
    assert 'data-testid="not-billed"' in page and "Not billed yet" in page  # no charge, no package yet
    b.session_charge(user=clerk, session=esketamine_session)
    page = client.get(url).content.decode()
    assert 'data-testid="not-billed"' not in page


def test_to_medicare_esketamine_is_one_g_code_visit(client_for, clerk, provider, patient, esketamine_session):
    medicare = Payer.objects.create(name="Medicare Part B", kind=Payer.Kind.MEDICARE, payer_id="MCR01")
    InsurancePolicy.objects.create(
        patient=patient, payer=medicare, member_id="1EG4-TE5-MK72", coverage_percent=80
    )
    page = (
        client_for(clerk)
        .get(f"/billing/sessions/{esketamine_session.external_id}/superbill/")
        .content.decode()
    )
    assert "HCPCS G2082" in page and "J0013" not in page  # 56 mg: up to 56 mg, drug and observation bundled


def test_no_claim_for_a_session_not_billed_yet(client_for, clerk, provider, insured, esketamine_session):
    r = client_for(clerk).get(f"/billing/sessions/{esketamine_session.external_id}/claim/", follow=True)
    assert "The session is not billed yet" in r.content.decode()
