"""The demo clinic's esketamine (Spravato) sessions: two past nasal sessions of one TRD patient, walked
through the same services staff use, whose REMS Patient Monitoring Forms are not yet submitted: one nine
days ago, not confirmed (overdue on the prescriber's worklist, its note waiting), one six days ago,
confirmed by the prescriber (due soon). Called by ``web.demo.demo_load`` inside its one transaction, with
its replayed clock (``clock_to``) so every event is recorded at its time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ketaclinic.accounts.models import Location, User
from ketaclinic.consent.selectors import consent_on_file
from ketaclinic.consent.services import consent_sign_in_clinic
from ketaclinic.infusions import selectors
from ketaclinic.infusions import services as s
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.models import ProtocolVersion

CONFIRMED = (
    "identity_checked",
    "consent_on_file",
    "no_heavy_meal",
    "no_alcohol_drugs",
    "medications_reviewed",
    "escort_confirmed",
)
DAYS_AGO = (9, 6)  # the overdue form, then the one due soon
# (minutes after the first device, systolic, diastolic, sedation/dissociation): before, at 40, recovery
READINGS = ((-8, 132, 84, "none"), (40, 151, 93, "moderate"), (90, 134, 82, "mild"), (127, 128, 80, "none"))


def _fresh(session: InfusionSession) -> InfusionSession:
    return InfusionSession.objects.select_related("patient", "protocol_version", "location").get(
        pk=session.pk
    )


def _reading(nurse: User, session: InfusionSession, at: datetime, sys: int, dia: int, sedation: str) -> None:
    s.vitals_record(
        user=nurse,
        session=session,
        client_id=f"demo-rems-{session.external_id}-{at:%H%M%S}",
        taken_at=at,
        systolic_mmhg=sys,
        diastolic_mmhg=dia,
        heart_rate_bpm=76,
        spo2_percent=97,
        respiratory_rate_per_min=14,
        sedation=sedation,
    )


def esketamine_given(
    session: InfusionSession,
    *,
    nurse: User,
    prescriber: User,
    answers: list[dict[str, Any]],
    first: datetime,
    stop_after_min: int,
    clock_to: Callable[[datetime], object],
) -> InfusionSession:
    """A checked-in esketamine session from its checklist to the end of dosing, through the services
    staff use: the checklist ``answers``, the order created by the nurse and signed by the prescriber, the
    pre-checks completed, then two 28 mg devices 5 minutes apart from ``first`` and the dosing stopped
    ``stop_after_min`` after it (``clock_to`` moves the replayed or test clock). Shared by the demo and the
    REMS tests, so the two walk the same day."""
    for a in answers:
        s.checklist_record(user=nurse, session=_fresh(session), expected_version=_fresh(session).version, **a)
    order = s.order_create(user=nurse, session=_fresh(session), expected_version=_fresh(session).version)
    s.order_sign(user=prescriber, order=order, expected_version=_fresh(session).version)
    s.checklist_complete(user=nurse, session=_fresh(session), expected_version=_fresh(session).version)
    clock_to(first)
    s.infusion_start(user=nurse, session=_fresh(session), expected_version=_fresh(session).version, at=first)
    for n in range(2):
        clock_to(first + timedelta(minutes=5 * n))
        s.administration_record(
            user=nurse,
            session=_fresh(session),
            expected_version=_fresh(session).version,
            medication="esketamine",
            dose="28",
            unit="mg",
            route="intranasal",
            at=first + timedelta(minutes=5 * n),
            reason=f"Device {n + 1} of 2",
        )
    clock_to(first + timedelta(minutes=stop_after_min))
    s.infusion_stop(user=nurse, session=_fresh(session), expected_version=_fresh(session).version)
    return _fresh(session)


def _walk(
    session: InfusionSession, nurse: User, prescriber: User, t0: datetime, clock_to: Any, signature: str
) -> InfusionSession:
    """Check-in at ``t0`` (consent signed on the tablet), checklist, order, two devices from t0 + 20 min,
    discharge after 2 h, the note written (not signed: the REMS form waits)."""
    clock_to(t0)
    session = s.session_check_in(user=nurse, session=session, expected_version=session.version, at=t0)
    for document in consent_on_file(session.patient).missing:
        consent_sign_in_clinic(
            user=nurse,
            patient=session.patient,
            document=document,
            typed_name=f"{session.patient.given_name} {session.patient.family_name}",
            signature_data=signature,
        )
    first = t0 + timedelta(minutes=20)
    clock_to(first + timedelta(minutes=-8))
    _reading(nurse, session, first + timedelta(minutes=-8), *READINGS[0][1:])
    weight = session.patient.measurements.filter(kind="weight").first()
    answers: list[dict[str, Any]] = [{"code": c, "answer": "yes"} for c in CONFIRMED]
    answers += [
        {"code": "weight_today", "value": weight.value_si if weight else 70, "unit": "kg"},
        {"code": "phq9_today", "value": 17},
    ]
    if session.patient.sex_at_birth == "female":
        answers.append({"code": "pregnancy_status", "answer": "not_pregnant"})
    esketamine_given(
        session,
        nurse=nurse,
        prescriber=prescriber,
        answers=answers,
        first=first,
        stop_after_min=6,
        clock_to=clock_to,
    )
    for minutes, sys, dia, sedation in READINGS[1:]:
        clock_to(first + timedelta(minutes=minutes))
        _reading(nurse, session, first + timedelta(minutes=minutes), sys, dia, sedation)
    clock_to(first + timedelta(minutes=130))
    s.discharge_assess(
        user=nurse,
        session=_fresh(session),
        expected_version=_fresh(session).version,
        activity_mental_status=2,
        pain=2,
        nausea_vomiting=2,
        intake_output=2,
        escort_present=True,
        instructions_given=True,
        escort_name=session.patient.escort_name or "Family member",
    )
    s.session_discharge(user=nurse, session=_fresh(session), expected_version=_fresh(session).version)
    s.note_generate(user=nurse, session=_fresh(session), expected_version=_fresh(session).version)
    return _fresh(session)


def demo_rems_load(
    *,
    nurse: User,
    prescriber: User,
    patient: Patient,
    location: Location,
    today: date,
    clock_to: Callable[[datetime], None],
    signature: str,
) -> list[InfusionSession]:
    protocol = ProtocolVersion.objects.filter(protocol_id="esketamine-nasal").order_by("-version").first()
    if protocol is None:
        return []
    zone = ZoneInfo(location.timezone)
    done = []
    for days in DAYS_AGO:
        t0 = datetime.combine(today - timedelta(days=days), time(10, 0), tzinfo=zone)
        clock_to(t0 - timedelta(minutes=5))
        session = s.session_schedule(
            user=nurse,
            patient=patient,
            protocol_version=protocol,
            scheduled_start=t0,
            at_home=False,
            added_reason="Esketamine nasal spray (Spravato) session, booked by the prescriber",
        )
        done.append(_walk(session, nurse, prescriber, t0, clock_to, signature))
    state = selectors.rems_form_state(done[-1])
    if state is not None:
        s.rems_form_confirm(
            user=prescriber,
            session=done[-1],
            device_lots=["24KX118"],
            checks=state.form.checks,
            spo2_lowest_percent=state.form.spo2_lowest_percent,
            concomitant_medications=state.form.concomitant_medications or "none",
            serious_adverse_event=False,
        )
    return done
