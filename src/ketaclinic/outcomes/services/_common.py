"""What the outcomes actions share: the instrument a response or a link is for, the answers as a list, a
link's token and how a link is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.tokens import token_sha256
from ketaclinic.core.errors import DomainError, ValidationError
from ketaclinic.core.instruments import Instrument, InstrumentDefinitionError, get_instrument
from ketaclinic.outcomes.models import PatientLink
from ketaclinic.patients.models import Patient

UNKNOWN_INSTRUMENT = "Questionnaire {value!r} is unknown."
NOT_ADMINISTRABLE = "{name} cannot be given here: {reason}"
LINK_HOURS = "A link must last between 1 and 168 hours, not {value}."


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
        token_sha256=token_sha256(token),
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
