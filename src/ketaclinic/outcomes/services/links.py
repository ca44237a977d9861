"""Patient links: a single-use link to answer a questionnaire at home, opened and submitted by the patient."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_anonymous_refusal, audit_record
from ketaclinic.base.tokens import token_new, token_sha256
from ketaclinic.core.access import Permission
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.core.instruments import score_instrument
from ketaclinic.outcomes.models import PatientLink, QuestionnaireResponse
from ketaclinic.outcomes.services._common import _answers_list, _instrument, _link_store
from ketaclinic.outcomes.services.responses import _save_response
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient

LINK_UNKNOWN = "This link is not valid. Please ask the clinic for a new one."
LINK_EXPIRED = "This link expired on {when}. Please ask the clinic for a new one."
LINK_USED = "This link was already used. Each link works once; please ask the clinic for a new one."
LINK_OTHER_PATIENT = "This form belongs to another link. Please open the link the clinic sent you again."


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
    token = token_new()
    return _link_store(
        actor=user,
        patient=patient,
        inst=inst,
        token=token,
        hours=hours,
        timepoint=timepoint,
        infusion_number=infusion_number,
    ), token


def link_open(token: str) -> PatientLink:
    """The link a token opens, or a refusal (unknown, expired, used), audited."""
    link = PatientLink.objects.select_related("patient").filter(token_sha256=token_sha256(token)).first()
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
                PatientLink.objects.filter(token_sha256=token_sha256(token)).select_related("patient").first()
            )
            audit_record(
                action=AuditEntry.Action.DENIED,
                patient=known.patient if known else None,
                summary=f"Questionnaire link answer refused: {exc.message}"[:300],
                detail={"link": str(known.external_id) if known else None, "status": 400},
            )
        raise
