"""Sessions for the infusion tests, made by the real services; ``walk`` takes one to any state.

The checklist's consent item is checked against the consent on file, so ``schedule`` has the patient sign
the current consent documents first (``consent=False`` to leave it unsigned) and ``walk`` makes sure of it
before the checklist."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import Chair, User
from ketaclinic.consent.selectors import consent_on_file
from ketaclinic.consent.services import consent_documents_load_shipped, consent_sign_in_clinic
from ketaclinic.core.access import Role
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion

CONFIRM = ("identity_checked", "consent_on_file", "no_heavy_meal", "no_alcohol_drugs", "medications_reviewed",
           "escort_confirmed")
STATES = ("scheduled", "checked_in", "prechecks_done", "running", "recovering", "discharged", "signed")


def fresh(session: InfusionSession) -> InfusionSession:
    return InfusionSession.objects.select_related("patient", "protocol_version", "location").get(pk=session.pk)


def consent_sign(user: User, patient: Patient) -> None:
    """The patient signs every current consent document on the clinic's tablet (``user`` witnesses), if needed."""
    from tests.consent.conftest import SIGNATURE

    consent_documents_load_shipped()
    for document in consent_on_file(patient).missing:
        consent_sign_in_clinic(user=user, patient=patient, document=document,
                               typed_name=f"{patient.given_name} {patient.family_name}", signature_data=SIGNATURE)


def vitals(nurse: User, session: InfusionSession, taken_at: datetime, **values: object) -> s.VitalsPosted:
    reading = {"systolic_mmhg": 124, "diastolic_mmhg": 78, "heart_rate_bpm": 72, "spo2_percent": 98,
               "respiratory_rate_per_min": 14, "sedation": "none", **values}
    return s.vitals_record(user=nurse, session=session, client_id=str(uuid.uuid4()), taken_at=taken_at, **reading)  # type: ignore[arg-type]


def walk(session: InfusionSession, to: str, *, nurse: User, prescriber: User, start: datetime | None = None) -> InfusionSession:
    """Take ``session`` through the day up to state ``to`` (one of STATES), backdating from ``start``."""
    t0 = start or timezone.now() - timedelta(minutes=150)
    if to == "scheduled":
        return session
    session = s.session_check_in(user=nurse, session=session, expected_version=session.version, at=t0)
    if to == "checked_in":
        return session
    consent_sign(nurse, session.patient)
    vitals(nurse, session, t0 + timedelta(minutes=5))
    for code in CONFIRM:
        session = fresh(session)
        s.checklist_record(user=nurse, session=session, expected_version=session.version, code=code, answer="yes")
    session = fresh(session)
    s.checklist_record(user=nurse, session=session, expected_version=session.version, code="weight_today", value="70", unit="kg")
    session = fresh(session)
    s.checklist_record(user=nurse, session=session, expected_version=session.version, code="phq9_today", value=18)
    session = fresh(session)
    if session.patient.sex_at_birth == "female":
        s.checklist_record(user=nurse, session=session, expected_version=session.version, code="pregnancy_status",
                           answer="not_pregnant")
        session = fresh(session)
    order = s.order_create(user=nurse, session=session, expected_version=session.version)
    session = fresh(session)
    s.order_sign(user=prescriber, order=order, expected_version=session.version)
    session = fresh(session)
    session = s.checklist_complete(user=nurse, session=session, expected_version=session.version)
    if to == "prechecks_done":
        return session
    started = t0 + timedelta(minutes=15)
    s.infusion_start(user=nurse, session=session, expected_version=session.version, at=started)
    for minute in (10, 20, 30, 40):
        vitals(nurse, session, started + timedelta(minutes=minute))
    if to == "running":
        return fresh(session)
    session = fresh(session)
    s.infusion_stop(user=nurse, session=session, expected_version=session.version, at=started + timedelta(minutes=40))
    if to == "recovering":
        return fresh(session)
    vitals(nurse, session, started + timedelta(minutes=75))
    session = fresh(session)
    s.discharge_assess(user=nurse, session=session, expected_version=session.version, activity_mental_status=2, pain=2,
                       nausea_vomiting=2, intake_output=1, escort_present=True, instructions_given=True,
                       escort_name="Ana Garcia (sister)")
    session = fresh(session)
    session = s.session_discharge(user=nurse, session=session, expected_version=session.version)
    if to == "discharged":
        return session
    s.note_generate(user=nurse, session=session, expected_version=session.version)
    session = fresh(session)
    s.note_sign(user=prescriber, session=session, expected_version=session.version)
    return fresh(session)


@pytest.fixture
def nurse(staff) -> User:  # type: ignore[no-untyped-def]
    return staff[Role.NURSE]


@pytest.fixture
def chair(downtown) -> Chair:  # type: ignore[no-untyped-def]
    return Chair.objects.create(location=downtown, name="Chair 1")


@pytest.fixture
def depression(protocols) -> ProtocolVersion:  # type: ignore[no-untyped-def]
    return protocols["depression-standard"]


def schedule(user: User, patient: Patient, protocol: ProtocolVersion, chair: Chair | None = None,
             when: datetime | None = None, *, consent: bool = True) -> InfusionSession:
    if consent:
        consent_sign(user, patient)
    return s.session_schedule(user=user, patient=patient, protocol_version=protocol, chair=chair,
                              scheduled_start=when or timezone.now() - timedelta(minutes=160))


@pytest.fixture
def session(nurse, patient, depression, chair) -> InfusionSession:  # type: ignore[no-untyped-def]
    return schedule(nurse, patient, depression, chair)


def todays_plan(staff, patient, chair: Chair | None = None, *, sign: bool = True, **kw) -> TreatmentPlan:  # type: ignore[no-untyped-def]
    """A plan whose series starts today at noon (the location's day) in ``chair``."""
    from ketaclinic.plans.services import plan_draft, plan_sign
    from tests.plans.conftest import eligible_screening

    today = timezone.now().astimezone(ZoneInfo(patient.location.timezone)).date()
    args = dict(user=staff[Role.PRESCRIBER], patient=patient, screening=eligible_screening(staff, patient), start=today,
                weekdays=(today.weekday(), (today.weekday() + 3) % 7), at=time(12), location=patient.location,
                chair=chair)
    args.update(kw)
    plan = plan_draft(**args)
    return plan_sign(user=staff[Role.PRESCRIBER], plan=plan) if sign else plan
