"""What the printable documents show: the superbill of a session (codes computed from the record) and the
itemised receipt of an account (for HSA/FSA claims)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q

from ketaclinic.billing.models import BillingProvider, LedgerEntry
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


def screening_of(session: InfusionSession) -> Screening | None:
    """The signed screening a session rests on: its plan's, else the patient's latest signed screening under
    the session's protocol."""
    if session.treatment_plan_id is not None:
        return session.treatment_plan.screening  # type: ignore[union-attr]
    return (
        Screening.objects.filter(
            patient_id=session.patient_id,
            status=Screening.Status.SIGNED,
            protocol_version__protocol_id=session.protocol_version.protocol_id,
        )
        .order_by("-signed_at", "-id")
        .first()
    )


def diagnoses_of(session: InfusionSession) -> tuple[tuple[tuple[str, str], ...], bool, str | None]:
    """The session's diagnosis (code, words), whether it was recorded at screening, and the screened
    indication: the screening's ICD-10-CM code, else the indication's unspecified code."""
    screening = screening_of(session)
    if screening is not None and screening.diagnosis:
        code = diagnosis_check(screening.diagnosis, screening.indication)
        return ((code, screening.diagnosis_words),), True, screening.indication
    slug = session.protocol_version.protocol_id.lower()
    fallback = tuple(
        (diagnosis_check(code), words) for key, code, words in ICD10_BY_INDICATION if key in slug
    )[:1]
    return fallback, False, None


def superbill(session: InfusionSession, account_paid_cents: int, charge_cents: int) -> Superbill:
    tz = ZoneInfo(session.location.timezone)
    infused = MedicationAdministration.objects.filter(session=session, medication=INFUSED_DRUG).first()
    day = (session.started_at or session.scheduled_start).astimezone(tz).date()
    lines: tuple[CodeLine, ...] = ()
    dose_mg: Decimal | None = None
    if session.started_at and session.ended_at:
        lines += infusion_cpt_lines(session.started_at, session.ended_at)
    if infused is not None:
        provider = provider_for(session.location)
        ndc = provider.ketamine_ndc if provider and provider.ketamine_ndc else None
        lines += drug_lines(Drug.KETAMINE, Decimal(infused.dose), day, ndc=ndc)
        dose_mg = Decimal(infused.dose)
    order = (
        InfusionOrder.objects.filter(session=session, signed_by__isnull=False)
        .select_related("signed_by")
        .first()
    )
    diagnoses, recorded, indication = diagnoses_of(session)
    return Superbill(
        session=session,
        provider=provider_for(session.location),
        prescriber=order.signed_by if order else None,
        day=day,
        dose_mg=dose_mg,
        lines=lines,
        diagnoses=diagnoses,
        charge_cents=charge_cents,
        paid_cents=account_paid_cents,
        diagnosis_recorded=recorded,
        indication=indication,
    )


def payments_of(account: Any) -> list[LedgerEntry]:
    return list(account.entries.filter(kind__in=["payment", "refund"], reversed_by__isnull=True))
