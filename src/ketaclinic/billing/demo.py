"""The demo clinic's back office: its billing details (legal name, NPI, tax id, the ketamine vials' NDC), the
payers its patients use, and a package sold and part-paid for the first patient with a given session."""

from __future__ import annotations

from ketaclinic.accounts.models import User
from ketaclinic.billing import services
from ketaclinic.billing.models import BillingProvider, Package, Payer
from ketaclinic.core.infusion.state import SessionState
from ketaclinic.infusions.models import InfusionSession


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
    Payer.objects.create(
        name="Commonwealth Workers' Compensation", kind=Payer.Kind.WORKERS_COMP, payer_id="CWC01"
    )
    Payer.objects.create(name="Blue Harbor Health", kind=Payer.Kind.COMMERCIAL, payer_id="BHH01")
    given = (
        InfusionSession.objects.filter(state=SessionState.DISCHARGED.value).select_related("patient").first()
    )
    if given is None:
        return
    services.package_sell(user=clerk, patient=given.patient, package=Package.objects.get(code="series-6"))
    services.payment_record(
        user=clerk, patient=given.patient, amount_cents=100_000, method="check", check_number="2041"
    )
