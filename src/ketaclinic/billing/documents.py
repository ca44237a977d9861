"""What the printable documents show: the superbill of a session or of a period (codes computed from the
record) and the itemised receipt of an account (for HSA/FSA claims)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q

from ketaclinic.billing.models import BillingProvider, InsurancePolicy, LedgerEntry, PackageUse, Payer
from ketaclinic.core.billing.codes import CodeLine, Drug, diagnosis_check, drug_lines, infusion_cpt_lines
from ketaclinic.core.infusion.medications import INFUSED_DRUG
from ketaclinic.infusions.models import InfusionOrder, InfusionSession, MedicationAdministration
from ketaclinic.screening.models import Screening

#: The diagnosis a protocol treats, as a billable ICD-10-CM code (FY2026, DOMAIN.md §6): the unspecified
#: code of the indication, used only when the screening recorded no diagnosis (the superbill says so).
ICD10_BY_INDICATION = (
    ("ptsd", "F43.10", "Post-traumatic stress disorder, unspecified"),
    ("anxiety", "F41.1", "Generalized anxiety disorder"),
    ("pain", "G89.29", "Other chronic pain"),
    ("depress", "F33.9", "Major depressive disorder, recurrent, unspecified"),
    ("trd", "F33.9", "Major depressive disorder, recurrent, unspecified"),
)


def provider_for(location: Any) -> BillingProvider | None:
    return (
        BillingProvider.objects.filter(Q(location=location) | Q(location__isnull=True))
        .order_by("location")
        .first()
    )


@dataclass(frozen=True)
class Superbill:
    session: InfusionSession
    provider: BillingProvider | None
    prescriber: Any
    day: date
    lines: tuple[CodeLine, ...]
    diagnoses: tuple[tuple[str, str], ...]
    charge_cents: int
    paid_cents: int
    dose_mg: Decimal | None = None
    #: True when the diagnosis is the one the prescriber recorded at screening; False when it is the
    #: indication's unspecified code (no diagnosis recorded), which the superbill page says.
    diagnosis_recorded: bool = False
    indication: str | None = None
    billed: bool = True  # False: neither charged nor on a package yet (the charge shows as not billed)


def _signed_screenings(patient_id: int) -> list[Screening]:
    """The patient's signed screenings, latest first (with their protocol)."""
    return list(
        Screening.objects.filter(patient_id=patient_id, status=Screening.Status.SIGNED)
        .select_related("protocol_version")
        .order_by("-signed_at", "-id")
    )


def screening_of(session: InfusionSession, signed: list[Screening] | None = None) -> Screening | None:
    """The signed screening a session rests on: its plan's, else the patient's latest signed screening under
    the session's protocol (from ``signed``, the patient's signed screenings, when the caller read them)."""
    if session.treatment_plan_id is not None:
        return session.treatment_plan.screening  # type: ignore[union-attr]
    protocol = session.protocol_version.protocol_id
    rows = signed if signed is not None else _signed_screenings(session.patient_id)
    return next((s for s in rows if s.protocol_version.protocol_id == protocol), None)


def diagnoses_of(
    session: InfusionSession, signed: list[Screening] | None = None
) -> tuple[tuple[tuple[str, str], ...], bool, str | None]:
    """The session's diagnosis (code, words), whether it was recorded at screening, and the screened
    indication: the screening's ICD-10-CM code, else the indication's unspecified code."""
    screening = screening_of(session, signed)
    if screening is not None and screening.diagnosis:
        code = diagnosis_check(screening.diagnosis, screening.indication)
        return ((code, screening.diagnosis_words),), True, screening.indication
    slug = session.protocol_version.protocol_id.lower()
    fallback = tuple(
        (diagnosis_check(code), words) for key, code, words in ICD10_BY_INDICATION if key in slug
    )[:1]
    return fallback, False, None


#: The nasal drug of an esketamine (Spravato) session: billed by its own HCPCS codes, never as an IV infusion.
NASAL_DRUG = "esketamine"
BILLED_DRUGS = (INFUSED_DRUG, NASAL_DRUG)


def _lines(
    session: InfusionSession,
    given: list[MedicationAdministration],
    day: date,
    provider: BillingProvider | None,
    medicare: bool,
) -> tuple[tuple[CodeLine, ...], Decimal | None]:
    """The session's codes and the dose billed. An esketamine session: its devices' total as J0013 (or, to
    Medicare, one G2082/G2083 visit line), no IV infusion code (the drug is not infused). A ketamine
    infusion: the CPT infusion codes from its real start and stop, and J3490 with the dose."""
    nasal = [a for a in given if a.medication == NASAL_DRUG]
    if nasal:
        mg = sum((Decimal(a.dose) for a in nasal), Decimal(0))
        return drug_lines(Drug.ESKETAMINE, mg, day, medicare=medicare), mg
    lines: tuple[CodeLine, ...] = ()
    if session.started_at and session.ended_at:
        lines += infusion_cpt_lines(session.started_at, session.ended_at)
    infused = next((a for a in given if a.medication == INFUSED_DRUG), None)
    if infused is None:
        return lines, None
    ndc = provider.ketamine_ndc if provider and provider.ketamine_ndc else None
    return lines + drug_lines(Drug.KETAMINE, Decimal(infused.dose), day, ndc=ndc), Decimal(infused.dose)


def billed_to_medicare(patient_id: int) -> bool:
    """Whether the patient's primary active policy is Medicare's (esketamine then bills G2082 or G2083)."""
    primary = (
        InsurancePolicy.objects.filter(patient_id=patient_id, active=True)
        .order_by("priority")
        .values_list("payer__kind", flat=True)
        .first()
    )
    return primary == Payer.Kind.MEDICARE


def _compose(
    session: InfusionSession,
    *,
    given: list[MedicationAdministration],
    order: InfusionOrder | None,
    provider: BillingProvider | None,
    signed: list[Screening] | None,
    paid_cents: int,
    charge_cents: int | None,
    medicare: bool = False,
) -> Superbill:
    tz = ZoneInfo(session.location.timezone)
    day = (session.started_at or session.scheduled_start).astimezone(tz).date()
    lines, dose_mg = _lines(session, given, day, provider, medicare)
    diagnoses, recorded, indication = diagnoses_of(session, signed)
    return Superbill(
        session=session,
        provider=provider,
        prescriber=order.signed_by if order else None,
        day=day,
        dose_mg=dose_mg,
        lines=lines,
        diagnoses=diagnoses,
        charge_cents=charge_cents or 0,
        billed=charge_cents is not None,
        paid_cents=paid_cents,
        diagnosis_recorded=recorded,
        indication=indication,
    )


def superbill(session: InfusionSession, account_paid_cents: int, charge_cents: int | None) -> Superbill:
    return _compose(
        session,
        given=list(MedicationAdministration.objects.filter(session=session, medication__in=BILLED_DRUGS)),
        medicare=billed_to_medicare(session.patient_id),
        order=InfusionOrder.objects.filter(session=session, signed_by__isnull=False)
        .select_related("signed_by")
        .first(),
        provider=provider_for(session.location),
        signed=None,
        paid_cents=account_paid_cents,
        charge_cents=charge_cents,
    )


def session_charge(session: InfusionSession) -> int | None:
    """What a session costs: its own charge entry, else its share of the package it used, else None (not
    billed yet); from the session's prefetched ``ledger_entries`` and ``package_uses`` when the caller read
    them."""
    charge = next((e for e in session.ledger_entries.all() if e.kind == "charge"), None)
    if charge is not None:
        return charge.amount_cents
    use = next((u for u in session.package_uses.all() if u.kind == "use"), None)
    return use.sale.charge.amount_cents // use.sale.infusions if use is not None else None


def session_charge_cents(session: InfusionSession) -> int:
    """``session_charge``, 0 when the session is not billed yet."""
    return session_charge(session) or 0


@dataclass(frozen=True)
class PeriodSuperbill:
    """The superbill of every infusion a patient had from ``first`` to ``last`` (the location's days): one
    document for a month or a course, as patients send their insurer."""

    patient: Any
    provider: BillingProvider | None
    first: date
    last: date
    bills: tuple[Superbill, ...]
    paid_cents: int  # payments less refunds recorded in the period

    @property
    def charge_cents(self) -> int:
        return sum(b.charge_cents for b in self.bills)

    @property
    def diagnoses(self) -> tuple[tuple[str, str], ...]:
        return tuple(dict.fromkeys(d for b in self.bills for d in b.diagnoses))

    @property
    def prescribers(self) -> tuple[Any, ...]:
        return tuple(dict.fromkeys(b.prescriber for b in self.bills if b.prescriber is not None))

    @property
    def unbilled(self) -> int:
        return sum(1 for b in self.bills if not b.billed)

    @property
    def all_recorded(self) -> bool:
        return all(b.diagnosis_recorded for b in self.bills)


def period_superbill(patient: Any, account: Any, first: date, last: date) -> PeriodSuperbill:
    """The discharged infusions started from ``first`` to ``last`` (inclusive, the patient's location's
    days), each with its codes and charge, in a fixed number of queries however many there are."""
    tz = ZoneInfo(patient.location.timezone)
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    sessions = list(
        InfusionSession.objects.filter(
            patient=patient, state="discharged", started_at__gte=start, started_at__lt=end
        )
        .select_related("location", "protocol_version", "treatment_plan__screening__protocol_version")
        .prefetch_related(
            "ledger_entries",
            Prefetch("package_uses", queryset=PackageUse.objects.select_related("sale__charge")),
            Prefetch(
                "administrations",
                queryset=MedicationAdministration.objects.filter(medication__in=BILLED_DRUGS),
                to_attr="billed_drugs",
            ),
            Prefetch(
                "orders",
                queryset=InfusionOrder.objects.filter(signed_by__isnull=False).select_related("signed_by"),
                to_attr="signed_orders",
            ),
        )
        .order_by("started_at")
    )
    provider = provider_for(patient.location)
    signed = _signed_screenings(patient.pk) if any(s.treatment_plan_id is None for s in sessions) else []
    medicare = billed_to_medicare(patient.pk) if sessions else False
    bills = tuple(
        _compose(
            s,
            given=s.billed_drugs,
            medicare=medicare,
            order=s.signed_orders[0] if s.signed_orders else None,
            provider=provider,
            signed=signed,
            paid_cents=0,
            charge_cents=session_charge(s),
        )
        for s in sessions
    )
    paid = sum(
        e.amount_cents if e.kind == "payment" else -e.amount_cents
        for e in account.entries.filter(
            kind__in=["payment", "refund"],
            reversed_by__isnull=True,
            recorded_at__gte=start,
            recorded_at__lt=end,
        )
    )
    return PeriodSuperbill(patient, provider, first, last, bills, paid)


def payments_of(account: Any) -> list[LedgerEntry]:
    return list(account.entries.filter(kind__in=["payment", "refund"], reversed_by__isnull=True))
