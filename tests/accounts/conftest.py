"""A small clinic for the access tests: the conftest's staff and patients plus a referral and two
screenings waiting for a signature (one for the page, one for the API), all made by the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.core.access import Role
from ketaclinic.outcomes.models import BoosterProposal, QuestionnaireResponse, SafetyFlag
from ketaclinic.outcomes.services import response_record
from ketaclinic.patients.models import Patient
from ketaclinic.screening.models import Referral, Screening
from ketaclinic.screening.services import referral_record, screening_record


@dataclass(frozen=True)
class Clinic:
    staff: dict[Role, User]
    patient: Patient  # Downtown, where every ``staff`` user works
    other_patient: Patient  # Northside
    referral: Referral
    screening_for_page: Screening
    screening_for_api: Screening
    response: QuestionnaireResponse  # the PHQ-9 baseline
    flag: SafetyFlag  # open: PHQ-9 item 9 answered 1
    booster: BoosterProposal  # proposed: PHQ-9 20 -> 8 (response) -> 16 (relapse)


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
    intake = staff[Role.INTAKE]
    referral = refer(intake, patient)
    start = timezone.now() - timedelta(days=30)
    series = [("baseline", [3, 3, 3, 3, 2, 2, 2, 2, 0]), ("post_series", [1, 1, 1, 1, 1, 1, 1, 1, 0]),
              ("monthly", [2, 2, 2, 2, 2, 2, 2, 2, 0]), ("ad_hoc", [1, 1, 1, 1, 1, 1, 1, 1, 1])]
    responses = [response_record(user=intake, patient=patient, instrument="phq9", answers=answers, timepoint=tp,
                                 authored_at=start + timedelta(days=7 * i)) for i, (tp, answers) in enumerate(series)]
    return Clinic(staff=staff, patient=patient, other_patient=other_patient, referral=referral,
                  screening_for_page=screen(intake, patient, referral), screening_for_api=screen(intake, patient),
                  response=responses[0], flag=SafetyFlag.objects.get(patient=patient),
                  booster=BoosterProposal.objects.get(patient=patient))


def denials_of(user: User) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, actor=user).order_by("seq"))
