"""An insurance claim for one given session, from the records (``ketaclinic.core.billing.claims`` checks it,
writes the X12 837P and maps the CMS-1500 boxes): the billing provider, the rendering prescriber, the
patient's primary policy and its payer, the diagnosis and the session's computed codes, the prior
authorization that covers the day. A claim missing a required field is refused with every field named."""

from __future__ import annotations

from datetime import datetime

from ketaclinic.billing.documents import Superbill
from ketaclinic.billing.models import InsurancePolicy, Payer, PriorAuthorization
from ketaclinic.core.billing import claims as core
from ketaclinic.core.billing.money import Money
from ketaclinic.core.errors import ValidationError

NO_POLICY = (
    "The patient has no active insurance policy: a claim needs a payer (self-pay patients get a superbill)."
)
NOT_BILLED = (
    "The session is not billed yet (no charge and no package unit): bill it first, so the claim carries "
    "its charge."
)
FILING: dict[str, str] = {
    Payer.Kind.WORKERS_COMP: "WC",
    Payer.Kind.MEDICARE: "MB",
    Payer.Kind.MEDICAID: "MC",
    Payer.Kind.COMMERCIAL: "CI",
    Payer.Kind.OTHER: "ZZ",
}
SEX = {"female": "F", "male": "M"}


def _address(line1: str, city: str, state: str, postal_code: str) -> core.Address:
    return core.Address(line1=line1, city=city, state=state, postal_code=postal_code)


def claim_for(bill: Superbill) -> core.Claim:
    session, patient = bill.session, bill.session.patient
    if not bill.billed:
        raise ValidationError(NOT_BILLED, field="charge", value=None)
    policy = (
        InsurancePolicy.objects.filter(patient=patient, active=True)
        .select_related("payer")
        .order_by("priority")
        .first()
    )
    if policy is None:
        raise ValidationError(NO_POLICY, field="policy", value=None)
    auth = (
        PriorAuthorization.objects.filter(
            policy=policy, status="approved", first_day__lte=bill.day, last_day__gte=bill.day
        )
        .order_by("last_day")
        .first()
    )
    p = bill.provider
    provider = core.BillingProvider(
        name=p.name if p else "",
        npi=p.npi if p else "",
        tax_id=p.tax_id if p else "",
        address=_address(p.address, p.city, p.state, p.postal_code) if p else _address("", "", "", ""),
        phone=p.phone if p else "",
    )
    person = core.Person(
        last_name=patient.family_name,
        first_name=patient.given_name,
        birth_date=patient.birth_date,
        sex=SEX.get(patient.sex_at_birth, "U"),
        address=_address(patient.address, patient.city, patient.state, patient.postal_code),
        member_id=policy.member_id,
    )
    # the session's charge spread over its lines (each line must carry a charge), the odd cents on the first
    share, odd = divmod(bill.charge_cents, max(len(bill.lines), 1))
    lines = tuple(
        core.ServiceLine(
            service_date=bill.day,
            code=line.code,
            units=line.units,
            charge=Money.from_cents(share + (odd if i == 0 else 0), "USD"),
            description=line.description,
            ndc=line.ndc,
            drug_quantity=bill.dose_mg if line.ndc else None,
        )
        for i, line in enumerate(bill.lines)
    )
    prescriber = bill.prescriber
    return core.Claim(
        claim_id=str(session.external_id).replace("-", "")[:20],
        billing_provider=provider,
        rendering_npi=getattr(prescriber, "npi", "") or "",
        rendering_last_name=getattr(prescriber, "last_name", "") or "",
        rendering_first_name=getattr(prescriber, "first_name", "") or "",
        subscriber=person,
        payer=core.Payer(
            name=policy.payer.name, payer_id=policy.payer.payer_id, filing_indicator=FILING[policy.payer.kind]
        ),
        diagnosis_codes=tuple(code for code, _ in bill.diagnoses),
        lines=lines,
        prior_authorization=auth.number if auth else "",
        group_number=policy.group_number,
        indication=bill.indication,
    )


def claim_file(claim: core.Claim, now: datetime) -> str:
    control = int(now.timestamp()) % 999_999_999 or 1
    return core.claim_837p(
        claim, control, sender_id="KETACLINIC", receiver_id=claim.payer.payer_id or "PAYER", now=now
    )
