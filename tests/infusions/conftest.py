"""Sessions for the infusion tests, made by the real services; ``walk`` takes one to any state.

The checklist's consent item is checked against the consent on file, so ``schedule`` has the patient sign
the current consent documents first (``consent=False`` to leave it unsigned) and ``walk`` makes sure of it
before the checklist."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import Chair, User
from ketaclinic.consent.selectors import consent_on_file
from ketaclinic.consent.services import consent_documents_load_shipped, consent_sign_in_clinic
from ketaclinic.core.access import Role
from ketaclinic.core.infusion.home_safety import HOME_SAFETY_CODES
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession, VialCheck
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.protocols.models import ProtocolVersion
from tests.clock import advance, advance_to

CONFIRM = (
    "identity_checked",
    "consent_on_file",
    "no_heavy_meal",
    "no_alcohol_drugs",
    "medications_reviewed",
    "escort_confirmed",
)
STATES = ("scheduled", "checked_in", "prechecks_done", "running", "recovering", "discharged", "signed")


def fresh(session: InfusionSession) -> InfusionSession:
    return InfusionSession.objects.select_related("patient", "protocol_version", "location").get(
        pk=session.pk
    )


def consent_sign(user: User, patient: Patient) -> None:
    """The patient signs every current consent document on the clinic's tablet (``user`` witnesses), if
    needed."""
    from tests.consent.conftest import SIGNATURE

    consent_documents_load_shipped()
    for document in consent_on_file(patient).missing:
        consent_sign_in_clinic(
            user=user,
            patient=patient,
            document=document,
            typed_name=f"{patient.given_name} {patient.family_name}",
            signature_data=SIGNATURE,
        )


def vitals(nurse: User, session: InfusionSession, taken_at: datetime, **values: Any) -> s.VitalsPosted:
    reading: dict[str, Any] = {
        "systolic_mmhg": 124,
        "diastolic_mmhg": 78,
        "heart_rate_bpm": 72,
        "spo2_percent": 98,
        "respiratory_rate_per_min": 14,
        "sedation": "none",
        **values,
    }
    return s.vitals_record(
        user=nurse, session=session, client_id=str(uuid.uuid4()), taken_at=taken_at, **reading
    )


def vial_check(checker: User, session: InfusionSession, **typed: Any) -> VialCheck:
    """A second clinician checks the bag: by default types exactly the order's vial strength and volume
    drawn."""
    session = fresh(session)
    order = selectors.signed_order(session)
    assert order is not None
    values: dict[str, Any] = {
        "vial_mg_per_ml": order.vial_mg_per_ml,
        "drawn_ml": round(order.drug_volume_ml or 0, 2),
        **typed,
    }
    return s.vial_check_record(user=checker, session=session, expected_version=session.version, **values)


def start_infusion(session: InfusionSession, *, nurse: User, prescriber: User) -> datetime:
    """From pre-checks done: the prescriber checks the bag, the nurse starts the pump a minute later (the test
    clock moves); returns the start time. Move the clock on (``tests.clock.advance_to``) before later
    events."""
    vial_check(prescriber, session)
    advance(1)
    session = fresh(session)
    return s.infusion_start(user=nurse, session=session, expected_version=session.version).at


def recovery_vitals(
    nurse: User, session: InfusionSession, minutes_ago: float = 1, **values: object
) -> s.VitalsPosted:
    """A complete set of vital signs taken ``minutes_ago`` (after the stop): the evidence discharge rests
    on."""
    return vitals(nurse, session, timezone.now() - timedelta(minutes=minutes_ago), **values)


def walk(
    session: InfusionSession,
    to: str,
    *,
    nurse: User,
    prescriber: User,
    start: datetime | None = None,
    home_safety: bool = True,
) -> InfusionSession:
    """Take ``session`` through the day up to state ``to`` (one of STATES).

    The check-in is backdated to ``start`` (150 min ago by default); the checklist, order and the independent
    check of the bag happen now; the pump events and readings happen as the test clock moves forward
    (``tests.clock``): the infusion starts now, runs 40 min, recovery readings at 75 min, discharge then. A
    session at home also answers "yes" to the home-safety items unless ``home_safety`` is False.
    """
    t0 = start or timezone.now() - timedelta(minutes=150)
    if to == "scheduled":
        return session
    session = s.session_check_in(user=nurse, session=session, expected_version=session.version, at=t0)
    if to == "checked_in":
        return session
    consent_sign(nurse, session.patient)
    vitals(nurse, session, timezone.now())
    for code in CONFIRM:
        session = fresh(session)
        s.checklist_record(
            user=nurse, session=session, expected_version=session.version, code=code, answer="yes"
        )
    session = fresh(session)
    s.checklist_record(
        user=nurse,
        session=session,
        expected_version=session.version,
        code="weight_today",
        value="70",
        unit="kg",
    )
    session = fresh(session)
    s.checklist_record(
        user=nurse, session=session, expected_version=session.version, code="phq9_today", value=18
    )
    session = fresh(session)
    if session.patient.sex_at_birth == "female":
        s.checklist_record(
            user=nurse,
            session=session,
            expected_version=session.version,
            code="pregnancy_status",
            answer="not_pregnant",
        )
        session = fresh(session)
    for code in HOME_SAFETY_CODES if session.at_home and home_safety else ():
        s.checklist_record(
            user=nurse, session=session, expected_version=session.version, code=code, answer="yes"
        )
        session = fresh(session)
    order = s.order_create(user=nurse, session=session, expected_version=session.version)
    session = fresh(session)
    s.order_sign(user=prescriber, order=order, expected_version=session.version)
    session = fresh(session)
    session = s.checklist_complete(user=nurse, session=session, expected_version=session.version)
    if to == "prechecks_done":
        return session
    vial_check(prescriber, session)
    session = fresh(session)
    advance(1)
    started = s.infusion_start(user=nurse, session=session, expected_version=session.version).at
    for minute in (10, 20, 30, 40):
        advance_to(started + timedelta(minutes=minute))
        vitals(nurse, session, started + timedelta(minutes=minute))
    if to == "running":
        return fresh(session)
    session = fresh(session)
    s.infusion_stop(user=nurse, session=session, expected_version=session.version)
    if to == "recovering":
        return fresh(session)
    advance_to(started + timedelta(minutes=75))
    vitals(nurse, session, started + timedelta(minutes=75))
    session = fresh(session)
    s.discharge_assess(
        user=nurse,
        session=session,
        expected_version=session.version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=1,
        escort_present=True,
        instructions_given=True,
        escort_name="Ana Garcia (sister)",
    )
    session = fresh(session)
    session = s.session_discharge(user=nurse, session=session, expected_version=session.version)
    if to == "discharged":
        return session
    s.note_generate(user=nurse, session=session, expected_version=session.version)
    session = fresh(session)
    s.note_sign(user=prescriber, session=session, expected_version=session.version)
    return fresh(session)


@pytest.fixture
def nurse(staff) -> User:
    return staff[Role.NURSE]


@pytest.fixture
def chair(downtown) -> Chair:
    return Chair.objects.create(location=downtown, name="Chair 1")


@pytest.fixture
def depression(protocols) -> ProtocolVersion:
    return protocols["depression-standard"]


PLAN_HOURS = (7, 11, 13, 15, 17)  # never 09:00


def ensure_plan(patient: Patient) -> TreatmentPlan:
    """The patient's active signed plan, made on a signed eligible TRD screening when there is none (no
    infusion outside the pathway). Its dated series starts in two weeks, so it puts nothing on today's
    board."""
    from ketaclinic.plans.services import plan_draft, plan_sign
    from tests.conftest import make_staff
    from tests.plans.conftest import eligible_screening

    plan = selectors.active_plan(patient)
    if plan is not None:
        return plan
    loc = patient.location

    def someone(role: Role) -> User:
        return User.objects.filter(role=role.value, locations=loc, is_active=True).order_by(
            "id"
        ).first() or make_staff(role, loc, f"plan-{role.value}.{loc.code}")

    staff = {Role.INTAKE: someone(Role.INTAKE), Role.PRESCRIBER: someone(Role.PRESCRIBER)}
    # each test plan gets its own chair times, so plans never collide with each other nor with the 09:00
    # Monday and Thursday plan other fixtures make (tests.accounts.conftest): whatever weekday the suite runs
    # on
    n = TreatmentPlan.objects.count()
    start = timezone.now().astimezone(ZoneInfo(loc.timezone)).date() + timedelta(
        days=14 + 28 * (n // len(PLAN_HOURS))
    )
    seat = Chair.objects.filter(location=loc).order_by("id").first() or Chair.objects.create(
        location=loc, name="Chair 1"
    )
    plan = plan_draft(
        user=staff[Role.PRESCRIBER],
        patient=patient,
        screening=eligible_screening(staff, patient),
        start=start,
        weekdays=(start.weekday(), (start.weekday() + 3) % 7),
        at=time(PLAN_HOURS[n % len(PLAN_HOURS)]),
        location=loc,
        chair=seat,
    )
    return plan_sign(user=staff[Role.PRESCRIBER], plan=plan)


def schedule(
    user: User,
    patient: Patient,
    protocol: ProtocolVersion,
    chair: Chair | None = None,
    when: datetime | None = None,
    *,
    consent: bool = True,
    plan: bool = True,
) -> InfusionSession:
    if consent:
        consent_sign(user, patient)
    if plan:
        ensure_plan(patient)
    return s.session_schedule(
        user=user,
        patient=patient,
        protocol_version=protocol,
        chair=chair,
        scheduled_start=when or timezone.now() - timedelta(minutes=160),
        added_reason="Infusion booked on the day, outside the plan's dated series",
    )


@pytest.fixture
def session(nurse, patient, depression, chair) -> InfusionSession:
    return schedule(nurse, patient, depression, chair)


def todays_plan(staff, patient, chair: Chair | None = None, *, sign: bool = True, **kw) -> TreatmentPlan:
    """A plan whose series starts today at noon (the location's day) in ``chair``."""
    from ketaclinic.plans.services import plan_draft, plan_sign
    from tests.plans.conftest import eligible_screening

    today = timezone.now().astimezone(ZoneInfo(patient.location.timezone)).date()
    args = dict(
        user=staff[Role.PRESCRIBER],
        patient=patient,
        screening=eligible_screening(staff, patient),
        start=today,
        weekdays=(today.weekday(), (today.weekday() + 3) % 7),
        at=time(12),
        location=patient.location,
        chair=chair,
    )
    args.update(kw)
    plan = plan_draft(**args)
    return plan_sign(user=staff[Role.PRESCRIBER], plan=plan) if sign else plan
