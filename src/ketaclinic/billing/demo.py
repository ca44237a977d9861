"""The demo clinic's back office: its billing details (legal name, NPI, tax id, the ketamine vials' NDC), the
payers its patients use (one no longer billed), a package sold and part-paid for the first patient with a
given session, and insurance on file: a chronic-pain patient's workers' compensation policy with its prior
authorization (a series of six, or every infusion booked and given with two to spare), and a depression
patient's commercial policy covering half."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.billing import insurance, services
from ketaclinic.billing.authorizations import local_day
from ketaclinic.billing.models import BillingProvider, Package, Payer
from ketaclinic.core.indications import Category, indication_get
from ketaclinic.core.infusion.medications import INFUSED_DRUG
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment
from ketaclinic.screening.models import Screening


def demo_billing_load(*, clerk: User) -> None:
    BillingProvider.objects.create(
        name="Harbor Ketamine Clinics LLC",
        npi="1234567893",
        tax_id="12-3456789",
        address="120 Harbor St",
        city="Boston",
        state="MA",
        postal_code="02110",
        phone="617-555-0100",
        ketamine_ndc="42023-0113-10",
    )
    carrier = Payer.objects.create(
        name="Commonwealth Workers' Compensation", kind=Payer.Kind.WORKERS_COMP, payer_id="CWC01"
    )
    insurer = Payer.objects.create(name="Blue Harbor Health", kind=Payer.Kind.COMMERCIAL, payer_id="BHH01")
    Payer.objects.create(name="MassHealth", kind=Payer.Kind.MEDICAID, payer_id="DMA7384")
    Payer.objects.create(
        name="Old Colony Health Plan", kind=Payer.Kind.COMMERCIAL, payer_id="OCH22", active=False
    )
    _demo_policies(clerk, carrier, insurer)
    given = (  # a ketamine infusion (the package is of ketamine infusions), not an esketamine nasal session
        InfusionSession.objects.filter(
            state=SessionState.DISCHARGED.value, administrations__medication=INFUSED_DRUG
        )
        .select_related("patient")
        .order_by("scheduled_start", "pk")
        .first()
    )
    if given is None:
        return
    services.package_sell(user=clerk, patient=given.patient, package=Package.objects.get(code="series-6"))
    services.payment_record(
        user=clerk, patient=given.patient, amount_cents=100_000, method="check", check_number="2041"
    )


def _screened_patient(pain: bool) -> Patient | None:
    """The first patient (by registration) screened for chronic pain (the prior authorization comes before
    the series), or with a signed eligible screening for depression."""
    rows = Screening.objects.select_related("patient").order_by("patient__created_at", "patient_id")
    if not pain:
        rows = rows.filter(status=Screening.Status.SIGNED, signed_outcome="eligible")
    for screening in rows:
        is_pain = indication_get(screening.indication).category is Category.PAIN
        if is_pain == pain:
            return screening.patient
    return None


def _demo_policies(clerk: User, carrier: Payer, insurer: Payer) -> None:
    injured = _screened_patient(pain=True)
    if injured is not None:
        policy = insurance.policy_add(
            user=clerk, patient=injured, payer=carrier, member_id="WC-2026-44817", coverage_percent=100
        )
        today = local_day(timezone.now(), injured.location.timezone)
        first, last = today - timedelta(days=14), today + timedelta(days=120)
        booked = Appointment.objects.filter(
            patient=injured, status=Appointment.Status.BOOKED, type__is_infusion=True
        ).count()
        given = InfusionSession.objects.filter(patient=injured, state=SessionState.DISCHARGED.value).count()
        insurance.authorization_add(
            user=clerk,
            policy=policy,
            number="PA-CWC-118204",
            approved_units=max(6, booked + given + 2),  # a series of six, or what is booked and given
            first_day=first,
            last_day=last,
        )
    depressed = _screened_patient(pain=False)
    if depressed is not None:
        insurance.policy_add(
            user=clerk,
            patient=depressed,
            payer=insurer,
            member_id="BHH-7731902",
            group_number="GRP-4410",
            coverage_percent=50,
        )
