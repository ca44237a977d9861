"""A small clinic for the access tests: the conftest's staff and patients plus a referral, two
screenings waiting for a signature (one for the page, one for the API), a draft treatment plan on a signed
eligible screening, and the shipped consent document, all made by the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import Chair, User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.consent.services import consent_documents_load_shipped
from ketaclinic.core.access import Role
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.screening.models import Referral, Screening
from ketaclinic.screening.services import referral_record, screening_record, screening_sign


@dataclass(frozen=True)
class Clinic:
    staff: dict[Role, User]
    patient: Patient  # Downtown, where every ``staff`` user works
    other_patient: Patient  # Northside
    referral: Referral
    screening_for_page: Screening
    screening_for_api: Screening
    plan: TreatmentPlan  # a draft plan (signed eligible screening), its series in Downtown's chair 1
    infusion: PlannedInfusion
    chair: Chair


def screen(user: User, patient: Patient, referral: Referral | None = None) -> Screening:
    return screening_record(
        user=user, patient=patient, indication="trd", referral=referral,
        contraindications={}, trials=[
            {"kind": "antidepressant", "name": "sertraline", "dose": "200 mg", "weeks": 8},
            {"kind": "antidepressant", "name": "venlafaxine", "dose": "225 mg", "weeks": 8},
        ],
    )


def refer(user: User, patient: Patient) -> Referral:
    return referral_record(
        user=user, patient=patient, indication="trd", referrer_name="Dr. Ada Referrer", referrer_role="psychiatrist",
        reason="Treatment-resistant depression after two trials", received_on=date(2026, 11, 1),
    )


@pytest.fixture
def clinic(staff, patient, other_patient, protocols) -> Clinic:  # type: ignore[no-untyped-def]
    from ketaclinic.plans.services import plan_draft

    intake = staff[Role.INTAKE]
    referral = refer(intake, patient)
    for_page, for_api = screen(intake, patient, referral), screen(intake, patient)
    eligible = screening_sign(user=staff[Role.PRESCRIBER], screening=screen(intake, patient, refer(intake, patient)),
                              outcome="eligible", note="Reviewed in interview.")
    chair = Chair.objects.create(location=patient.location, name="Chair 1")
    today = timezone.localdate()
    plan = plan_draft(user=staff[Role.PRESCRIBER], patient=patient, screening=eligible,
                      start=today + timedelta(days=7 - today.weekday()), weekdays=(0, 3), at=time(9),
                      location=patient.location, chair=chair)
    consent_documents_load_shipped()
    return Clinic(staff=staff, patient=patient, other_patient=other_patient, referral=referral,
                  screening_for_page=for_page, screening_for_api=for_api, plan=plan,
                  infusion=plan.infusions.order_by("sequence").first(), chair=chair)


def denials_of(user: User) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, actor=user).order_by("seq"))
