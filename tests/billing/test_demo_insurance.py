"""`make demo` shows the back office with insurance on file: a chronic-pain patient's workers' compensation
policy with a prior authorization that covers every infusion booked (so the demo's check-ins go ahead), a
depression patient's commercial policy at 50%, a Medicaid payer and a payer no longer billed."""

from __future__ import annotations

import pytest

from ketaclinic.billing.authorizations import booked_units, given_units
from ketaclinic.billing.models import InsurancePolicy, Payer, PriorAuthorization
from ketaclinic.core.indications import Category, indication_get

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_loaded")]


def test_the_demo_has_a_workers_comp_patient_with_an_authorization_that_covers_their_series():
    policy = InsurancePolicy.objects.select_related("payer", "patient").get(
        payer__kind=Payer.Kind.WORKERS_COMP
    )
    screening = policy.patient.screenings.first()
    assert indication_get(screening.indication).category is Category.PAIN
    auth = PriorAuthorization.objects.get(policy=policy)
    used = booked_units(auth, policy.patient_id) + given_units(auth, policy.patient_id)
    assert used <= auth.approved_units and auth.approved_units >= 6  # the demo's bookings are within it


def test_the_demo_has_a_commercial_policy_at_half_a_medicaid_payer_and_one_no_longer_billed():
    commercial = InsurancePolicy.objects.get(payer__name="Blue Harbor Health")
    assert commercial.coverage_percent == 50 and commercial.active
    assert Payer.objects.filter(kind=Payer.Kind.MEDICAID, active=True).exists()
    assert Payer.objects.filter(active=False).count() == 1


def test_the_demo_prescriber_records_a_diagnosis_that_fits_each_eligible_screening():
    from ketaclinic.core.billing.codes import diagnosis_check
    from ketaclinic.screening.models import Screening

    eligible = Screening.objects.filter(status="signed", signed_outcome="eligible")
    assert eligible.exists()
    for s in eligible:
        assert s.diagnosis and diagnosis_check(s.diagnosis, s.indication) == s.diagnosis
