"""Measurement-based care actions: record answers (staff or a patient's link), correct a response, send a
link, raise and assess safety flags, propose and decide boosters. Each is one transaction and audited.

Scoring, flags, response and relapse are the pure core's (``core.instruments``); nothing is re-decided here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ketaclinic.accounts.models import Location, User
from ketaclinic.accounts.permissions import require
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_anonymous_refusal, audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.core.instruments import (
    Instrument,
    InstrumentDefinitionError,
    get_instrument,
    score_instrument,
)
from ketaclinic.core.instruments.scoring import Score
from ketaclinic.core.outcomes import DueItem
from ketaclinic.core.outcomes.relapse import protocol_relapse_check_for
from ketaclinic.outcomes import emails
from ketaclinic.outcomes.models import (
    TIMEPOINTS,
    BoosterProposal,
    LinkDispatch,
    PatientLink,
    QuestionnaireResponse,
    SafetyFlag,
)
from ketaclinic.outcomes.selectors import (
    current_plan,
    due_status_for_patient,
    indication_of,
    item_key,
    link_expiry,
    outcomes_settings,
    patients_in_treatment,
    questionnaire_worklist,
)
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlannedInfusion, TreatmentPlan

UNKNOWN_INSTRUMENT = "Questionnaire {value!r} is unknown."
NOT_ADMINISTRABLE = "{name} cannot be given here: {reason}"
AUTHORED_IN_FUTURE = "Answered at {value}: that is in the future."
TIMEPOINT_UNKNOWN = "Timepoint {value!r} is unknown; allowed are {allowed}."
CORRECTION_REASON = "A correction needs a reason (at least 5 characters)."
ALREADY_REPLACED = "This response was already corrected on {when}; correct the newer one."
LINK_UNKNOWN = "This link is not valid. Please ask the clinic for a new one."
LINK_EXPIRED = "This link expired on {when}. Please ask the clinic for a new one."
LINK_USED = "This link was already used. Each link works once; please ask the clinic for a new one."
LINK_OTHER_PATIENT = "This form belongs to another link. Please open the link the clinic sent you again."
LINK_HOURS = "A link must last between 1 and 168 hours, not {value}."
ASSESSMENT_REQUIRED = "Record the assessment: what the clinician found (at least 10 characters)."
PLAN_REQUIRED = "Record the safety plan: what happens next (at least 10 characters)."
FLAG_ALREADY_ASSESSED = "This flag was already assessed by {who} on {when}."
BOOSTER_ALREADY_DECIDED = "This proposal was already {status} by {who}."
DECLINE_REASON = "Declining a booster needs a reason (at least 5 characters)."
DECISION_UNKNOWN = "Decision {value!r} is unknown; allowed are accept, decline."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _instrument(instrument_id: str, *, for_patient: bool = False) -> Instrument:
    """A shipped instrument. Staff may record any (a clinician gives a licensed instrument from the clinic's
    own copy); a patient link only carries an instrument whose wording ships with ketaclinic."""
    try:
        inst = get_instrument(instrument_id)
    except (DomainError, InstrumentDefinitionError, KeyError):
        raise ValidationError(
            UNKNOWN_INSTRUMENT.format(value=instrument_id), field="instrument", value=instrument_id
        ) from None
    if for_patient and inst.wording != "shipped":
        raise ValidationError(
            NOT_ADMINISTRABLE.format(
                name=inst.name, reason="its wording is licensed and the clinic has not supplied it"
            ),
            field="instrument",
            value=instrument_id,
        )
    return inst


def _answers_list(
    inst: Instrument, answers: Sequence[int | None] | dict[str, int | None]
) -> list[int | None]:
    if isinstance(answers, dict):
        unknown = set(answers) - {i.code for i in inst.items}
        if unknown:
            code = sorted(unknown)[0]
            raise ValidationError(f"{code}: not an item of {inst.name}.", field=code, value=answers[code])
        return [answers.get(i.code) for i in inst.items]
    return list(answers)


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
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Recorded {inst.name}: total {result.total}, {result.severity or 'no band'}"
        + (f" (correction: {replace_reason})" if replaces else ""),
        detail={"response": str(response.external_id), "source": source, "flags": list(result.flags)},
    )
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
        emails.safety_flag_notify(sf)
    return raised


def _propose_booster_if_relapsed(response: QuestionnaireResponse, plan: TreatmentPlan | None) -> None:
    section = outcomes_settings(response.patient, plan)
    if response.instrument != section.relapse_instrument or response.total is None:
        return
    totals = [
        (pk, total)
        for pk, total in QuestionnaireResponse.objects.filter(
            patient=response.patient,
            instrument=response.instrument,
            replaced_by__isnull=True,
            total__isnull=False,
        )
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


@transaction.atomic
def link_create(
    *,
    user: User,
    patient: Patient,
    instrument: str,
    hours: int = 72,
    timepoint: str = "ad_hoc",
    infusion_number: int | None = None,
) -> tuple[PatientLink, str]:
    """A single-use link; returns the link and the token (shown once, never stored: only its SHA-256 is)."""
    patient_for(user, patient, Permission.QUESTIONNAIRE_RECORD)
    inst = _instrument(instrument, for_patient=True)
    token = secrets.token_urlsafe(32)
    return _link_store(
        actor=user,
        patient=patient,
        inst=inst,
        token=token,
        hours=hours,
        timepoint=timepoint,
        infusion_number=infusion_number,
    ), token


def _link_store(
    *,
    actor: User | None,
    patient: Patient,
    inst: Instrument,
    token: str,
    hours: int,
    timepoint: str,
    infusion_number: int | None,
    how: str = "",
    expires_at: datetime | None = None,
) -> PatientLink:
    """Store a link (its token's hash only), audited. ``actor`` None is the daily ``send_due_links`` job;
    ``expires_at`` (the emailed links: the end of the questionnaire's window) overrides ``hours``."""
    if not 1 <= hours <= 168:
        raise ValidationError(LINK_HOURS.format(value=hours), field="hours", value=hours)
    expires_at = expires_at or timezone.now() + timedelta(hours=hours)
    link = PatientLink.objects.create(
        patient=patient,
        instrument=inst.id,
        timepoint=timepoint,
        infusion_number=infusion_number,
        token_sha256=token_hash(token),
        expires_at=expires_at,
        created_by=actor,
        updated_by=actor,
    )
    audit_record(
        action=AuditEntry.Action.CREATE if actor else AuditEntry.Action.SYSTEM,
        actor=actor,
        patient=patient,
        summary=f"Sent a {inst.name} link (expires {timezone.localtime(expires_at):%b %d %H:%M}){how}",
        detail={"link": str(link.external_id)},
    )
    return link


def link_open(token: str) -> PatientLink:
    """The link a token opens, or a refusal (unknown, expired, used), audited."""
    link = PatientLink.objects.select_related("patient").filter(token_sha256=token_hash(token)).first()
    message = None
    if link is None:
        message = LINK_UNKNOWN
    elif link.used_at is not None:
        message = LINK_USED
    elif link.expires_at <= timezone.now():
        message = LINK_EXPIRED.format(when=f"{timezone.localtime(link.expires_at):%b %d, %Y %H:%M}")
    if message is not None:
        if link is None:  # nobody's record behind it: counted per address, not one entry each
            audit_anonymous_refusal("questionnaire-link-unknown", f"Questionnaire link refused: {message}")
        else:
            audit_record(
                action=AuditEntry.Action.DENIED,
                patient=link.patient,
                summary=f"Questionnaire link refused: {message}",
                detail={"link": str(link.external_id), "status": 403},
            )
        raise ValidationError(message, field="link", value=None)
    assert link is not None
    return link


def link_submit(
    *, token: str, answers: Sequence[int | None] | dict[str, int | None], form_link: str | None = None
) -> QuestionnaireResponse:
    """A patient answers through a link: single use, checked under a row lock; a refusal saves nothing."""
    try:
        with transaction.atomic():
            link = link_open(token)
            link = PatientLink.objects.select_for_update().select_related("patient").get(pk=link.pk)
            if link.used_at is not None:
                raise ValidationError(LINK_USED, field="link", value=None)
            if form_link is not None and form_link != str(link.external_id):
                raise ValidationError(LINK_OTHER_PATIENT, field="link", value=form_link)
            inst = _instrument(link.instrument, for_patient=True)
            values = _answers_list(inst, answers)
            result = score_instrument(inst, values)
            link.used_at = timezone.now()
            link.save(update_fields=["used_at", "updated_at"])
            return _save_response(
                patient=link.patient,
                inst=inst,
                answers=values,
                result=result,
                authored_at=link.used_at,
                source="patient_link",
                user=None,
                timepoint=link.timepoint,
                infusion_number=link.infusion_number,
                link=link,
            )
    except DomainError as exc:
        if exc.field != "link" or exc.message in (LINK_USED, LINK_OTHER_PATIENT):
            known = (
                PatientLink.objects.filter(token_sha256=token_hash(token)).select_related("patient").first()
            )
            audit_record(
                action=AuditEntry.Action.DENIED,
                patient=known.patient if known else None,
                summary=f"Questionnaire link answer refused: {exc.message}"[:300],
                detail={"link": str(known.external_id) if known else None, "status": 400},
            )
        raise


@transaction.atomic
def safety_flag_assess(*, user: User, flag: SafetyFlag, assessment: str, plan: str) -> SafetyFlag:
    """Close an urgent flag: only with a clinician's assessment AND a plan (the database refuses otherwise)."""
    patient_for(user, flag.patient, Permission.SAFETY_ASSESS)
    flag = SafetyFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status == SafetyFlag.Status.ASSESSED:
        raise ValidationError(
            FLAG_ALREADY_ASSESSED.format(who=flag.assessed_by, when=f"{flag.assessed_at:%Y-%m-%d %H:%M}"),
            field="flag",
            value=str(flag.external_id),
        )
    if len(assessment.strip()) < 10:
        raise ValidationError(ASSESSMENT_REQUIRED, field="assessment", value=assessment)
    if len(plan.strip()) < 10:
        raise ValidationError(PLAN_REQUIRED, field="plan", value=plan)
    flag.status, flag.assessment, flag.plan = SafetyFlag.Status.ASSESSED, assessment.strip(), plan.strip()
    flag.assessed_by, flag.assessed_at, flag.updated_by = user, timezone.now(), user
    flag.save()
    audit_record(
        action=AuditEntry.Action.REVIEW,
        actor=user,
        patient=flag.patient,
        summary=f"Safety flag assessed and plan recorded ({flag.reason})",
        detail={"flag": str(flag.external_id)},
    )
    return flag


@transaction.atomic
def booster_decide(
    *, user: User, proposal: BoosterProposal, decision: str, reason: str = ""
) -> BoosterProposal:
    """Accept (a booster PlannedInfusion is added when the patient has a plan) or decline with a reason."""
    require(user, Permission.BOOSTER_DECIDE)
    patient_for(user, proposal.patient, Permission.BOOSTER_DECIDE)
    proposal = BoosterProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != BoosterProposal.Status.PROPOSED:
        raise ValidationError(
            BOOSTER_ALREADY_DECIDED.format(
                status=proposal.get_status_display().lower(), who=proposal.decided_by
            ),
            field="proposal",
            value=None,
        )
    if decision not in ("accept", "decline"):
        raise ValidationError(DECISION_UNKNOWN.format(value=decision), field="decision", value=decision)
    if decision == "decline" and len(reason.strip()) < 5:
        raise ValidationError(DECLINE_REASON, field="reason", value=reason)
    if decision == "accept":
        plan = current_plan(proposal.patient)
        if plan is not None:
            last = plan.infusions.order_by("-sequence").first()
            start = timezone.now() + timedelta(days=7)
            proposal.planned_infusion = PlannedInfusion.objects.create(
                plan=plan,
                sequence=(last.sequence + 1) if last else 1,
                kind=PlannedInfusion.Kind.BOOSTER,
                scheduled_start=start.replace(hour=14, minute=0, second=0, microsecond=0),
                location=last.location if last else proposal.patient.location,
                created_by=user,
                updated_by=user,
            )
    proposal.status = "accepted" if decision == "accept" else "declined"
    proposal.decision_reason, proposal.decided_by, proposal.decided_at = reason.strip(), user, timezone.now()
    proposal.save()
    audit_record(
        action=AuditEntry.Action.SIGN,
        actor=user,
        patient=proposal.patient,
        summary=f"Booster {proposal.status}"
        + (f": {proposal.decision_reason}" if proposal.decision_reason else ""),
        detail={
            "proposal": str(proposal.external_id),
            "planned_infusion": str(proposal.planned_infusion.external_id)
            if proposal.planned_infusion
            else None,
        },
    )
    return proposal


# -- emailing questionnaire links (the daily job and "Send link now") ----------------------------------------

NOT_WAITING = "{label} ({instrument}) is not waiting for an answer: nothing to send."
NO_EMAIL = "{name} has no email address: hand out a link instead (or enter the answers)."
NO_BASE_URL = "Set KETACLINIC_BASE_URL to the clinic's https:// address: patients' links start with it."
DAILY_JOB = " (daily send_due_links job)"


def _dispatch_email(
    *, actor: User | None, patient: Patient, items: Sequence[DueItem], base_url: str, connection: Any = None
) -> list[LinkDispatch]:
    """Email one message with a new link per item; then, in one transaction, store the links (only when the
    message went) and one dispatch per item. A failed send stores no link: nobody can hold it."""
    if not base_url:
        raise ValidationError(NO_BASE_URL, field="base_url", value=base_url)
    now = timezone.now()
    planned = [
        (
            item,
            _instrument(item.instrument, for_patient=True),
            secrets.token_urlsafe(32),
            link_expiry(item, now),
        )
        for item in items
    ]
    urls = [
        base_url.rstrip("/") + reverse("questionnaire_answer", args=[token]) for _, _, token, _ in planned
    ]
    message = emails.questionnaire_email(patient=patient, urls=urls, expires=min(e for *_, e in planned))
    error = emails.send(message, connection=connection)
    masked = emails.email_masked(patient.email)
    error = (
        error.replace(patient.email, masked)[:300] if patient.email else error[:300]
    )  # e.g. SMTPRecipientsRefused
    how = DAILY_JOB if actor is None else ""
    out = []
    with transaction.atomic():
        for item, inst, token, expires in planned:
            q = item.questionnaire
            link = (
                None
                if error
                else _link_store(
                    actor=actor,
                    patient=patient,
                    inst=inst,
                    token=token,
                    hours=72,
                    timepoint=q.timepoint,
                    infusion_number=q.infusion_number,
                    how=f" by email to {masked}{how}",
                    expires_at=expires,
                )
            )
            dispatch = LinkDispatch.objects.create(
                patient=patient,
                link=link,
                instrument=inst.id,
                timepoint=q.timepoint,
                infusion_number=q.infusion_number,
                due_on=q.due_on,
                channel=LinkDispatch.Channel.EMAIL,
                to_masked=masked,
                sent_at=now,
                outcome=LinkDispatch.Outcome.FAILED if error else LinkDispatch.Outcome.SENT,
                error=error,
                created_by=actor,
            )
            audit_record(
                action=AuditEntry.Action.CREATE if actor else AuditEntry.Action.SYSTEM,
                actor=actor,
                patient=patient,
                summary=(
                    f"Emailing a {inst.name} link to {masked} FAILED: {error}"
                    if error
                    else f"Emailed a {inst.name} link to {masked}"
                )
                + how,
                detail={
                    "dispatch": str(dispatch.external_id),
                    "outcome": dispatch.outcome,
                    "link": str(link.external_id) if link else None,
                },
            )
            out.append(dispatch)
    return out


def _record_no_address(*, actor: User | None, patient: Patient, item: DueItem) -> LinkDispatch:
    q = item.questionnaire
    with transaction.atomic():
        dispatch = LinkDispatch.objects.create(
            patient=patient,
            instrument=item.instrument,
            timepoint=q.timepoint,
            infusion_number=q.infusion_number,
            due_on=q.due_on,
            channel=LinkDispatch.Channel.EMAIL,
            sent_at=timezone.now(),
            outcome=LinkDispatch.Outcome.NO_ADDRESS,
            created_by=actor,
        )
        audit_record(
            action=AuditEntry.Action.CREATE if actor else AuditEntry.Action.SYSTEM,
            actor=actor,
            patient=patient,
            summary=f"No email address: the {item.instrument} link for {q.label.lower()} must be handed out"
            + (DAILY_JOB if actor is None else ""),
            detail={"dispatch": str(dispatch.external_id), "outcome": dispatch.outcome},
        )
    return dispatch


RESEND_AFTER = timedelta(minutes=10)
JUST_SENT = (
    "A link for the {instrument} was made at {when} and still works: it was not sent again. "
    "It can be re-sent after 10 minutes."
)


@dataclass
class SendSummary:
    sent: int = 0
    failed: int = 0
    no_address: int = 0
    live_link: int = 0  # a live link exists already: nothing sent
    not_by_link: int = 0  # licensed wording: staff enter the answers
    not_in_treatment: int = 0  # no active or completed plan (screened out, draft, stopped): staff decide

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.failed} failed (retried next run), {self.no_address} without an email "
            f"address (hand out a link), {self.live_link} already have a live link, {self.not_by_link} not sent "
            f"by link (licensed wording), {self.not_in_treatment} not sent: no active or completed plan"
        )


def due_links_send(
    *,
    user: User | None,
    base_url: str,
    location: Location | None = None,
    today: date | None = None,
    connection: Any = None,
) -> SendSummary:
    """Email a link for every questionnaire due today (window open, no answer) that has no live link.

    One message per patient (all their links). Idempotent: a sent link is live, so a second run the same
    day sends nothing again; a patient without an email address is recorded once per questionnaire and
    listed on the worklist as "hand out a link"; a failed send stores no link, so the next run tries again.
    ``user`` None is the daily job (every location unless ``location`` is given)."""
    if user is not None:
        require(user, Permission.QUESTIONNAIRE_RECORD)
    if not base_url:
        raise ValidationError(NO_BASE_URL, field="base_url", value=base_url)
    summary = SendSummary()
    to_email: dict[Patient, list[DueItem]] = {}
    rows = questionnaire_worklist(user=user, location=location, today=today).due
    treated = patients_in_treatment({row.patient for row in rows})
    for row in rows:
        if row.patient.pk not in treated:
            summary.not_in_treatment += 1
        elif not row.sendable:
            summary.not_by_link += 1
        elif row.live_link is not None:
            summary.live_link += 1
        elif row.hand_out:
            if row.dispatch is None or row.dispatch.outcome != LinkDispatch.Outcome.NO_ADDRESS:
                _record_no_address(actor=user, patient=row.patient, item=row.item)
            summary.no_address += 1
        else:
            to_email.setdefault(row.patient, []).append(row.item)
    for patient, items in to_email.items():
        for d in _dispatch_email(
            actor=user, patient=patient, items=items, base_url=base_url, connection=connection
        ):
            if d.outcome == LinkDispatch.Outcome.SENT:
                summary.sent += 1
            else:
                summary.failed += 1
    return summary


def due_link_email(
    *,
    user: User,
    patient: Patient,
    instrument: str,
    timepoint: str,
    infusion_number: int | None,
    due_on: date,
    base_url: str,
    today: date | None = None,
    connection: Any = None,
) -> LinkDispatch:
    """ "Send link now" on the worklist: email a link for one questionnaire that is still waiting for an answer."""
    patient_for(user, patient, Permission.QUESTIONNAIRE_RECORD)
    inst = _instrument(instrument, for_patient=True)
    item = next(
        (
            i
            for i in due_status_for_patient(patient, today)
            if item_key(i) == (instrument, timepoint, infusion_number)
            and i.questionnaire.due_on == due_on
            and i.can_still_answer
        ),
        None,
    )
    if item is None:
        raise ValidationError(
            NOT_WAITING.format(label=f"{timepoint} {due_on}", instrument=inst.name),
            field="questionnaire",
            value=instrument,
        )
    if not patient.email:
        raise ValidationError(NO_EMAIL.format(name=patient.display_name), field="email", value="")
    with transaction.atomic():
        # One sender at a time per patient (a double click, or the daily job running meanwhile): a link for
        # this questionnaire made in the last few minutes is not sent again. An older live link may be
        # re-sent on purpose (the patient lost the email).
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        recent = PatientLink.objects.filter(
            patient=patient,
            instrument=instrument,
            timepoint=timepoint,
            infusion_number=infusion_number,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            created_at__gt=timezone.now() - RESEND_AFTER,
        ).first()
        if recent is not None:
            raise ValidationError(
                JUST_SENT.format(instrument=inst.name, when=f"{timezone.localtime(recent.created_at):%H:%M}"),
                field="questionnaire",
                value=instrument,
            )
        return _dispatch_email(
            actor=user, patient=patient, items=[item], base_url=base_url, connection=connection
        )[0]
