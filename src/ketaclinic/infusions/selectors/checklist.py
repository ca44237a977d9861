"""Reads behind the pre-infusion checklist: the baseline reading, the consent on file, medications and
allergies, and the checklist as it stands (evaluated by the core)."""

from __future__ import annotations

from django.utils import timezone

from ketaclinic.consent.selectors import ConsentOnFile, consent_on_file
from ketaclinic.core.infusion.checklist import ChecklistResult, ItemAnswer, checklist_evaluate
from ketaclinic.core.infusion.vitals import Sedation, VitalReading, baseline_problems
from ketaclinic.core.medications import interactions_for
from ketaclinic.core.medications import major_interactions as core_major_interactions
from ketaclinic.infusions.models import InfusionSession, VitalSigns
from ketaclinic.infusions.selectors.pathway import session_checklist, session_sections
from ketaclinic.patients.models import Patient


def reading_of(v: VitalSigns) -> VitalReading:
    return VitalReading(
        systolic_mmhg=v.systolic_mmhg,
        diastolic_mmhg=v.diastolic_mmhg,
        heart_rate_bpm=v.heart_rate_bpm,
        spo2_percent=v.spo2_percent,
        respiratory_rate_per_min=v.respiratory_rate_per_min,
        sedation=Sedation.parse(v.sedation) if v.sedation else None,
    )


def baseline_reading(session: InfusionSession) -> VitalReading | None:
    """The last reading before the infusion started (the baseline), as the core's value."""
    v = session.vitals.filter(phase=VitalSigns.Phase.BASELINE).order_by("-taken_at", "-id").first()
    return None if v is None else reading_of(v)


def session_consent(session: InfusionSession) -> ConsentOnFile:
    """The patient's consent the checklist's consent item is checked against (never the nurse's word alone):
    now until the infusion starts (the start re-checks it); once started, as it stood when the checklist was
    completed (a real clock time; ``started_at`` may be backdated by the nurse)."""
    started = session.started_at is not None and session.prechecks_done_at is not None
    return consent_on_file(session.patient, at=session.prechecks_done_at if started else timezone.now())


def consent_problem(consent: ConsentOnFile) -> str | None:
    return (
        None
        if consent.ok
        else (consent.message if consent.missing else f"{consent.label}: no consent document is loaded")
    )


def checklist_result(session: InfusionSession) -> ChecklistResult:
    """The checklist as it stands (answers, overrides, the baseline reading and the consent on file),
    evaluated by the core."""
    monitoring = session_sections(session)[0]
    checklist = session_checklist(session)
    answers = {
        r.code: ItemAnswer(r.code, r.answer, None if r.value is None else float(r.value), r.override_reason)
        for r in session.checklist_responses.all()
    }
    return checklist_evaluate(
        checklist,
        answers,
        sex=session.patient.sex_at_birth,
        baseline_problems=baseline_problems(baseline_reading(session), monitoring),
        consent_problem=consent_problem(session_consent(session)),
        major_interactions=major_interactions(session.patient),
    )


def major_interactions(patient: Patient) -> tuple[str, ...]:
    """The patient's current medications with a MAJOR interaction (they need a prescriber's sign-off)."""
    return core_major_interactions(m.name for m in patient.medications.filter(stopped_at__isnull=True))


def patient_allergies(patient: Patient) -> list[str]:
    """The substances of the patient's current (not ended) charted allergies."""
    return [a.substance for a in patient.allergies.filter(ended_at__isnull=True)]


def interacting_medications(patient: Patient) -> list[str]:
    """The patient's current medications that interact with ketamine, with the advice
    (``core.medications``)."""
    return [
        f"{m.name}: {i.advice}"
        for m in patient.medications.filter(stopped_at__isnull=True)
        for i in interactions_for(m.name)
    ]
