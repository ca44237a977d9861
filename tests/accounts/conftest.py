"""A small clinic for the access tests: the conftest's staff and patients plus a referral, two
screenings waiting for a signature (one for the page, one for the API), a draft treatment plan on a signed
eligible screening, and the shipped consent document, all made by the real services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import Chair, User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.consent.services import consent_documents_load_shipped
from ketaclinic.core.access import Role
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.outcomes.models import BoosterProposal, QuestionnaireResponse, SafetyFlag
from ketaclinic.outcomes.services import response_record
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan
from ketaclinic.screening.models import Referral, Screening
from ketaclinic.screening.services import referral_record, screening_record, screening_sign


class ProbeSessions:
    """Infusion sessions of ``patient`` in a given state, made on first use (most access tests need none).

    States: those of ``tests.infusions.conftest.walk``, plus ``order`` (checked in, weighed, an unsigned
    order) and ``note`` (discharged with a generated, unsigned note).
    """

    def __init__(self, staff: dict[Role, User], patient: Patient) -> None:
        self.staff, self.patient = staff, patient
        self._made: dict[str, InfusionSession] = {}

    def get(self, state: str) -> InfusionSession:
        if state not in self._made:
            self._made[state] = self._make(state)
        return self._made[state]

    def _make(self, state: str) -> InfusionSession:
        from ketaclinic.infusions import services
        from ketaclinic.protocols.selectors import protocols_current
        from tests.conftest import register
        from tests.infusions.conftest import fresh, schedule, walk

        nurse, prescriber = self.staff[Role.NURSE], self.staff[Role.PRESCRIBER]
        pv = next(p for p in protocols_current() if p.protocol_id == "depression-standard")
        # Each state is a session of its own patient at the same location: one patient is never infused twice
        # in a day, nor while the clinic's patient has an open safety flag (the pathway rules).
        probe = register(
            self.staff[Role.INTAKE],
            self.patient.location,
            given_name=f"Probe{len(self._made)}",
            family_name=state.title(),
        )
        session = schedule(nurse, probe, pv)
        if state == "order":
            session = walk(session, "checked_in", nurse=nurse, prescriber=prescriber)
            services.checklist_record(
                user=nurse,
                session=session,
                expected_version=session.version,
                code="weight_today",
                value="70",
                unit="kg",
            )
            session = fresh(session)
            services.order_create(user=nurse, session=session, expected_version=session.version)
            return fresh(session)
        if state == "alert":
            from tests.clock import advance_to
            from tests.infusions.conftest import vitals

            session = walk(session, "running", nurse=nurse, prescriber=prescriber)
            advance_to(session.started_at + timedelta(minutes=45))
            vitals(nurse, session, session.started_at + timedelta(minutes=45), systolic_mmhg=190)
            return fresh(session)
        if state == "severe_event":  # running, with a severe adverse event awaiting a prescriber's review
            session = walk(session, "running", nurse=nurse, prescriber=prescriber)
            services.adverse_event_record(
                user=nurse,
                session=session,
                expected_version=session.version,
                kind="fall",
                severity="mild",
                notes="Slipped getting up",
            )
            return fresh(session)
        if state == "note":
            session = walk(session, "discharged", nurse=nurse, prescriber=prescriber)
            services.note_generate(user=nurse, session=session, expected_version=session.version)
            return fresh(session)
        return walk(session, state, nurse=nurse, prescriber=prescriber)


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
    response: QuestionnaireResponse  # the PHQ-9 baseline
    flag: SafetyFlag  # open: PHQ-9 item 9 answered 1
    booster: BoosterProposal  # proposed: PHQ-9 20 -> 8 (response) -> 16 (relapse)
    sessions: ProbeSessions = field(default=None)


def screen(user: User, patient: Patient, referral: Referral | None = None) -> Screening:
    return screening_record(
        user=user,
        patient=patient,
        indication="trd",
        referral=referral,
        contraindications={},
        trials=[
            {"kind": "antidepressant", "name": "sertraline", "dose": "200 mg", "weeks": 8},
            {"kind": "antidepressant", "name": "venlafaxine", "dose": "225 mg", "weeks": 8},
        ],
    )


def refer(user: User, patient: Patient) -> Referral:
    return referral_record(
        user=user,
        patient=patient,
        indication="trd",
        referrer_name="Dr. Ada Referrer",
        referrer_role="psychiatrist",
        reason="Treatment-resistant depression after two trials",
        received_on=date(2026, 11, 1),
    )


@pytest.fixture
def clinic(staff, patient, other_patient, protocols, appointment_types) -> Clinic:
    from ketaclinic.plans.services import plan_draft

    intake = staff[Role.INTAKE]
    referral = refer(intake, patient)
    for_page, for_api = screen(intake, patient, referral), screen(intake, patient)
    eligible = screening_sign(
        user=staff[Role.PRESCRIBER],
        screening=screen(intake, patient, refer(intake, patient)),
        outcome="eligible",
        note="Reviewed in interview.",
    )
    chair = Chair.objects.create(location=patient.location, name="Chair 1")
    today = timezone.localdate()
    plan = plan_draft(
        user=staff[Role.PRESCRIBER],
        patient=patient,
        screening=eligible,
        start=today + timedelta(days=7 - today.weekday()),
        weekdays=(0, 3),
        at=time(9),
        location=patient.location,
        chair=chair,
    )
    consent_documents_load_shipped()
    start = timezone.now() - timedelta(days=30)
    series = [
        ("baseline", [3, 3, 3, 3, 2, 2, 2, 2, 0]),
        ("post_series", [1, 1, 1, 1, 1, 1, 1, 1, 0]),
        ("monthly", [2, 2, 2, 2, 2, 2, 2, 2, 0]),
        ("ad_hoc", [1, 1, 1, 1, 1, 1, 1, 1, 1]),
    ]
    responses = [
        response_record(
            user=intake,
            patient=patient,
            instrument="phq9",
            answers=answers,
            timepoint=tp,
            authored_at=start + timedelta(days=7 * i),
        )
        for i, (tp, answers) in enumerate(series)
    ]
    return Clinic(
        staff=staff,
        patient=patient,
        other_patient=other_patient,
        referral=referral,
        screening_for_page=for_page,
        screening_for_api=for_api,
        plan=plan,
        infusion=plan.infusions.order_by("sequence").first(),
        chair=chair,
        response=responses[0],
        flag=SafetyFlag.objects.get(patient=patient),
        booster=BoosterProposal.objects.get(patient=patient),
        sessions=ProbeSessions(staff, patient),
    )


def denials_of(user: User) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, actor=user).order_by("seq"))


@contextmanager
def rolled_back() -> Iterator[None]:
    """A savepoint undone afterwards: each role's attempt in the access sweeps meets the same clinic."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
