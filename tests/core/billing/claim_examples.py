"""A complete claim the claim tests start from (a TRD patient's infusion with prior authorization)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from ketaclinic.core.billing.claims import Address, BillingProvider, Claim, Payer, Person, ServiceLine
from ketaclinic.core.billing.money import Money

CLINIC_NPI = "1234567893"  # the CMS check-digit example
RENDERING_NPI = "1245319599"
SESSION_DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def example_claim(**changes: object) -> Claim:
    base: dict[str, object] = {
        "claim_id": "KC-2026-000123",
        "billing_provider": BillingProvider(
            name="Lakeside Ketamine Clinic",
            npi=CLINIC_NPI,
            tax_id="12-3456789",
            address=Address("100 Main Street", "Austin", "TX", "78701-1234"),
            phone="(512) 555-0100",
        ),
        "rendering_npi": RENDERING_NPI,
        "rendering_last_name": "Okafor",
        "rendering_first_name": "Grace",
        "subscriber": Person(
            "Rivera",
            "Sam",
            date(1984, 3, 2),
            "F",
            Address("9 Oak Lane", "Austin", "TX", "78702"),
            "XYZ123456789",
        ),
        "payer": Payer("Acme Health Plan", "60054", "CI"),
        "diagnosis_codes": ("F33.2", "F41.1"),
        "lines": (
            ServiceLine(SESSION_DAY, "96365", 1, usd("350.00"), (1, 2)),
            ServiceLine(
                SESSION_DAY,
                "J3490",
                1,
                usd("125.00"),
                (1,),
                ndc="0409-2051-05",
                drug_quantity=Decimal("35"),
                description="ketamine hydrochloride 35 mg IV",
            ),
        ),
        "prior_authorization": "PA-778812",
        "group_number": "GRP-100",
        "indication": "trd",
    }
    base.update(changes)
    return Claim(**base)  # type: ignore[arg-type]
