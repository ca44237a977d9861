"""Responses: record answers (staff), correct a response; saving one raises the safety flags its answers call
for and proposes a booster when the patient relapsed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments import Instrument, get_instrument, score_instrument
from ketaclinic.core.instruments.scoring import Score
from ketaclinic.core.outcomes.relapse import protocol_relapse_check_for
from ketaclinic.outcomes import tasks
from ketaclinic.outcomes.models import (
    TIMEPOINTS,
    BoosterProposal,
    PatientLink,
    QuestionnaireResponse,
    SafetyFlag,
)
from ketaclinic.outcomes.selectors import (
    SUMMARISED_INSTRUMENTS,
    current_plan,
    current_responses,
    indication_of,
    outcomes_settings,
)
from ketaclinic.outcomes.services._common import _answers_list, _instrument
from ketaclinic.outcomes.services.due import due_refresh
from ketaclinic.outcomes.services.summaries import outcome_summaries_refresh
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import TreatmentPlan

AUTHORED_IN_FUTURE = "Answered at {value}: that is in the future."
TIMEPOINT_UNKNOWN = "Timepoint {value!r} is unknown; allowed are {allowed}."
CORRECTION_REASON = "A correction needs a reason (at least 5 characters)."
ALREADY_REPLACED = "This response was already corrected on {when}; correct the newer one."


def _save_response(
    *,
    patient: Patient,
    inst: Instrument,
    answers: list[int | None],
    result: Score,
    authored_at: datetime,
    source: str,
    user: User | None,
    timepoint: str,
    infusion_number: int | None,
    link: PatientLink | None = None,
    replaces: QuestionnaireResponse | None = None,
    replace_reason: str = "",
) -> QuestionnaireResponse:
    allowed = [t for t, _ in TIMEPOINTS]
    if timepoint not in allowed:
        raise ValidationError(
            TIMEPOINT_UNKNOWN.format(value=timepoint, allowed=", ".join(allowed)),
            field="timepoint",
            value=timepoint,
        )
    if authored_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError(
            AUTHORED_IN_FUTURE.format(value=authored_at.isoformat()), field="authored_at", value=authored_at
        )
    plan = current_plan(patient)
    response = QuestionnaireResponse(
        patient=patient,
        instrument=inst.id,
        instrument_version=inst.version,
        answers={item.code: value for item, value in zip(inst.items, answers, strict=True)},
        total=result.total,
        severity=result.severity or "",
        flags=list(result.flags),
        prorated=result.prorated,
        suicidal_ideation=_suicidal_ideation(inst, answers),
        loinc_panel=result.loinc_panel or "",
        loinc_result=result.loinc_result or "",
        authored_at=authored_at,
        source=source,
        link=link,
        timepoint=timepoint,
        infusion_number=infusion_number,
        indication=indication_of(patient, plan),
        location=patient.location,
        plan=plan,
        replaces=replaces,
        replace_reason=replace_reason,
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(response, exclude=["link", "replaces", "plan", "location", "patient"])
    response.save()
    if inst.id in SUMMARISED_INSTRUMENTS:  # the dashboard's summaries, in this transaction
        outcome_summaries_refresh(patient_ids=[patient.pk])
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Recorded {inst.name}: total {result.total}, {result.severity or 'no band'}"
        + (f" (correction: {replace_reason})" if replaces else ""),
        detail={"response": str(response.external_id), "source": source, "flags": list(result.flags)},
    )
    due_refresh(patient_ids=[patient.pk])  # an answer may complete a questionnaire, or mark an infusion
    _raise_safety_flags(response)
    _propose_booster_if_relapsed(response, plan)
    return response


def _suicidal_ideation(inst: Instrument, answers: list[int | None]) -> bool | None:
    """What the instrument's ideation item says (its declared ``ideation_item``): yes, no, or not known."""
    if inst.ideation_item is None:
        return None
    index = [i.code for i in inst.items].index(inst.ideation_item)
    answer = answers[index]
    return None if answer is None else answer > inst.items[index].min_value


def _raise_safety_flags(response: QuestionnaireResponse) -> list[SafetyFlag]:
    """One safety flag per urgent flag the instrument declares and the answers raised."""
    raised = []
    urgent: dict[str, str] = {}
    for declared in get_instrument(response.instrument).flags:
        if declared.urgent:
            assert declared.summary is not None  # the instrument schema requires an urgent flag's summary
            urgent[declared.id] = declared.summary
    for flag in response.flags:
        if flag not in urgent:
            continue
        sf = SafetyFlag.objects.create(
            patient=response.patient,
            response=response,
            reason=flag,
            summary=urgent[flag],
            raised_at=response.authored_at,
        )
        audit_record(
            action=AuditEntry.Action.CREATE,
            patient=response.patient,
            summary=f"URGENT safety flag raised: {urgent[flag]}",
            detail={"flag": str(sf.external_id), "response": str(response.external_id)},
        )
        raised.append(sf)
        tasks.safety_flag_notify(sf)  # enqueued in this transaction: a rolled-back answer tells nobody
    return raised


def _propose_booster_if_relapsed(response: QuestionnaireResponse, plan: TreatmentPlan | None) -> None:
    section = outcomes_settings(response.patient, plan)
    if response.instrument != section.relapse_instrument or response.total is None:
        return
    totals = [
        (pk, total)
        for pk, total in current_responses()
        .filter(patient=response.patient, instrument=response.instrument, total__isnull=False)
        .order_by("authored_at", "id")
        .values_list("id", "total")
        if total is not None  # always (the filter): the check is for the type checker
    ]
    if len(totals) < 3 or totals[-1][0] != response.id:
        return
    inst = get_instrument(response.instrument)
    check = protocol_relapse_check_for(
        inst, totals[0][1], [t for _, t in totals[1:]], section.relapse_fraction
    )
    if (
        not check.relapsed
        or BoosterProposal.objects.filter(patient=response.patient, status="proposed").exists()
    ):
        return
    proposal = BoosterProposal.objects.create(
        patient=response.patient,
        response=response,
        instrument=inst.id,
        reason=check.reason[:300],
        relapse_fraction=section.relapse_fraction,
    )
    audit_record(
        action=AuditEntry.Action.CREATE,
        patient=response.patient,
        summary=f"Booster proposed after relapse on {inst.name}: {check.reason}"[:300],
        detail={"proposal": str(proposal.external_id)},
    )


@transaction.atomic
def response_record(
    *,
    user: User,
    patient: Patient,
    instrument: str,
    answers: Sequence[int | None] | dict[str, int | None],
    authored_at: datetime | None = None,
    timepoint: str = "ad_hoc",
    infusion_number: int | None = None,
) -> QuestionnaireResponse:
    """Staff enter a patient's answers from the chart; the core scores them; flags and relapse follow."""
    patient_for(user, patient, Permission.QUESTIONNAIRE_RECORD)
    inst = _instrument(instrument)
    values = _answers_list(inst, answers)
    result = score_instrument(inst, values)
    return _save_response(
        patient=patient,
        inst=inst,
        answers=values,
        result=result,
        authored_at=authored_at or timezone.now(),
        source="staff",
        user=user,
        timepoint=timepoint,
        infusion_number=infusion_number,
    )


@transaction.atomic
def response_correct(
    *,
    user: User,
    response: QuestionnaireResponse,
    answers: Sequence[int | None] | dict[str, int | None],
    reason: str,
) -> QuestionnaireResponse:
    """A correction is a new response that replaces the old one (which stays, unchanged)."""
    patient_for(user, response.patient, Permission.QUESTIONNAIRE_RECORD)
    if len(reason.strip()) < 5:
        raise ValidationError(CORRECTION_REASON, field="reason", value=reason)
    previous = QuestionnaireResponse.objects.select_for_update().get(pk=response.pk)
    newer = QuestionnaireResponse.objects.filter(replaces=previous).first()
    if newer is not None:
        raise ValidationError(
            ALREADY_REPLACED.format(when=f"{newer.created_at:%Y-%m-%d %H:%M}"),
            field="response",
            value=str(previous.external_id),
        )
    inst = _instrument(previous.instrument)
    values = _answers_list(inst, answers)
    result = score_instrument(inst, values)
    return _save_response(
        patient=previous.patient,
        inst=inst,
        answers=values,
        result=result,
        authored_at=previous.authored_at,
        source="staff",
        user=user,
        timepoint=previous.timepoint,
        infusion_number=previous.infusion_number,
        replaces=previous,
        replace_reason=reason.strip(),
    )
