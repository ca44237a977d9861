"""What the printable documents show: the superbill of a session or of a period (codes computed from the
record) and the itemised receipt of an account (for HSA/FSA claims)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q

from ketaclinic.billing.models import BillingProvider, LedgerEntry, PackageUse
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


def _compose(
    session: InfusionSession,
    *,
    infused: MedicationAdministration | None,
    order: InfusionOrder | None,
    provider: BillingProvider | None,
    signed: list[Screening] | None,
    paid_cents: int,
    charge_cents: int,
) -> Superbill:
    tz = ZoneInfo(session.location.timezone)
    day = (session.started_at or session.scheduled_start).astimezone(tz).date()
    lines: tuple[CodeLine, ...] = ()
    dose_mg: Decimal | None = None
    if session.started_at and session.ended_at:
        lines += infusion_cpt_lines(session.started_at, session.ended_at)
    if infused is not None:
        ndc = provider.ketamine_ndc if provider and provider.ketamine_ndc else None
        lines += drug_lines(Drug.KETAMINE, Decimal(infused.dose), day, ndc=ndc)
        dose_mg = Decimal(infused.dose)
    diagnoses, recorded, indication = diagnoses_of(session, signed)
    return Superbill(
        session=session,
        provider=provider,
        prescriber=order.signed_by if order else None,
        day=day,
        dose_mg=dose_mg,
        lines=lines,
        diagnoses=diagnoses,
        charge_cents=charge_cents,
        paid_cents=paid_cents,
        diagnosis_recorded=recorded,
        indication=indication,
    )


def superbill(session: InfusionSession, account_paid_cents: int, charge_cents: int) -> Superbill:
    return _compose(
        session,
        infused=MedicationAdministration.objects.filter(session=session, medication=INFUSED_DRUG).first(),
        order=InfusionOrder.objects.filter(session=session, signed_by__isnull=False)
        .select_related("signed_by")
        .first(),
        provider=provider_for(session.location),
        signed=None,
        paid_cents=account_paid_cents,
        charge_cents=charge_cents,
    )


def session_charge_cents(session: InfusionSession) -> int:
    """What a session costs: its own charge entry, else its share of the package it used (from the
    session's prefetched ``ledger_entries`` and ``package_uses`` when the caller read them)."""
    charge = next((e for e in session.ledger_entries.all() if e.kind == "charge"), None)
    if charge is not None:
        return charge.amount_cents
    use = next((u for u in session.package_uses.all() if u.kind == "use"), None)
    return use.sale.charge.amount_cents // use.sale.infusions if use is not None else 0


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
    def all_recorded(self) -> bool:
        return all(b.diagnosis_recorded for b in self.bills)


def period_superbill(patient: Any, account: Any, first: date, last: date) -> PeriodSuperbill:
    """The discharged infusions started from ``first`` to ``last`` (inclusive, the patient's location's
    days), each with its codes and charge, in a fixed number of queries however many there are."""
    from django.db.models import Prefetch

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
                queryset=MedicationAdministration.objects.filter(medication=INFUSED_DRUG),
                to_attr="infused",
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
    bills = tuple(
        _compose(
            s,
            infused=s.infused[0] if s.infused else None,
            order=s.signed_orders[0] if s.signed_orders else None,
            provider=provider,
            signed=signed,
            paid_cents=0,
            charge_cents=session_charge_cents(s),
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
