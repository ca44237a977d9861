"""Referral and screening actions: record a referral, record a screening (the core decides), sign it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit.models import AuditEntry
from ketaclinic.audit.services import audit_record
from ketaclinic.base.models import clean_or_refuse
from ketaclinic.base.signals import due_inputs_changed
from ketaclinic.core.access import Permission
from ketaclinic.core.billing.codes import diagnosis_check
from ketaclinic.core.eligibility import (
    Answer,
    FailedTrial,
    ScreeningFacts,
    SubstanceUseStatus,
    assess_eligibility,
    sign_check,
)
from ketaclinic.core.errors import ValidationError
from ketaclinic.core.indications import indication_get
from ketaclinic.patients.access import patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.protocols.models import ProtocolVersion
from ketaclinic.protocols.selectors import protocol_for_indication
from ketaclinic.screening.models import Referral, ReferralDocument, Screening, TreatmentTrial
from ketaclinic.screening.selectors import decision_of

RECEIVED_IN_FUTURE = "Referral date {value} is in the future."
REFERRAL_OTHER_PATIENT = "That referral belongs to another patient."
ALREADY_SIGNED = "This screening was signed by {who} on {when}; a signed decision cannot be changed."
DOCUMENT_TOO_LARGE = "Document {name} is {size} MB; the limit is 10 MB."
DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png", "text/plain"}
DOCUMENT_TYPE_REFUSED = "Document {name} is of type {value}; allowed are PDF, JPEG, PNG and plain text."
SUBSTANCE_USE_UNKNOWN = "Substance use {value!r} is unknown: allowed are none, past, active."
ANSWER_UNKNOWN = "Answer {value!r} to {code} is unknown: allowed are yes, no, unknown."


@transaction.atomic
def referral_record(
    *,
    user: User,
    patient: Patient,
    indication: str,
    referrer_name: str,
    referrer_role: str,
    reason: str,
    received_on: date,
    documents: Sequence[tuple[str, UploadedFile[bytes]]] = (),
    **fields: Any,
) -> Referral:
    patient_for(user, patient, Permission.REFERRAL_RECORD)
    indication_get(indication)
    if received_on > timezone.localdate():
        raise ValidationError(
            RECEIVED_IN_FUTURE.format(value=received_on.isoformat()), field="received_on", value=received_on
        )
    checked: list[tuple[str, UploadedFile[bytes], str, int]] = []  # title, file, content type, size
    for title, f in documents:
        name, size, content_type = f.name or "", f.size or 0, f.content_type or ""
        if size > 10 * 1024 * 1024:
            raise ValidationError(
                DOCUMENT_TOO_LARGE.format(name=name, size=round(size / 2**20, 1)),
                field="documents",
                value=name,
            )
        if content_type not in DOCUMENT_TYPES:
            raise ValidationError(
                DOCUMENT_TYPE_REFUSED.format(name=name, value=content_type),
                field="documents",
                value=content_type,
            )
        checked.append((title or name, f, content_type, size))
    referral = Referral(
        patient=patient,
        indication=indication,
        referrer_name=referrer_name.strip(),
        referrer_role=referrer_role,
        reason=reason.strip(),
        received_on=received_on,
        created_by=user,
        updated_by=user,
        **fields,
    )
    clean_or_refuse(referral)
    referral.save()
    for title, f, content_type, size in checked:
        ReferralDocument.objects.create(
            referral=referral,
            title=title,
            file=f,
            content_type=content_type,
            size_bytes=size,
            uploaded_by=user,
        )
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Recorded referral from {referral.referrer_name} for {referral.get_indication_display()}",
        detail={"referral": str(referral.external_id), "documents": len(documents)},
    )
    due_inputs_changed.send(sender=Referral, patient_ids=[patient.pk])  # its indication's settings may apply
    return referral


def _facts(
    *,
    patient: Patient,
    indication: str,
    referral: Referral | None,
    screening_date: date,
    substance_use: str,
    contraindications: dict[str, str],
    trials: list[dict[str, Any]],
) -> ScreeningFacts:
    try:
        su = SubstanceUseStatus(substance_use)
    except ValueError:
        raise ValidationError(
            SUBSTANCE_USE_UNKNOWN.format(value=substance_use), field="substance_use", value=substance_use
        ) from None
    answers = {}
    for code, value in contraindications.items():
        try:
            answers[code] = Answer(value)
        except ValueError:
            raise ValidationError(
                ANSWER_UNKNOWN.format(value=value, code=code), field=code, value=value
            ) from None
    has_referral = referral is not None and (
        referral.from_mental_health_professional or indication_get(indication).category.value == "pain"
    )
    return ScreeningFacts(
        birth_date=patient.birth_date,
        decision_date=screening_date,
        indication=indication,
        has_referral=has_referral,
        failed_trials=tuple(
            FailedTrial(
                kind=t["kind"],
                name=t["name"],
                weeks=int(t["weeks"]),
                adequate_dose=bool(t.get("adequate_dose", True)),
            )
            for t in trials
        ),
        substance_use=su,
        contraindications=answers,
    )


@transaction.atomic
def screening_record(
    *,
    user: User,
    patient: Patient,
    indication: str,
    referral: Referral | None = None,
    substance_use: str = "none",
    substance_use_notes: str = "",
    contraindications: dict[str, str] | None = None,
    trials: list[dict[str, Any]] | None = None,
    failed_pain_treatments_notes: str = "",
    screening_date: date | None = None,
    protocol_version: ProtocolVersion | None = None,
) -> Screening:
    """Record the screening answers; the core computes the decision from the current protocol."""
    patient_for(user, patient, Permission.SCREENING_RECORD)
    indication_get(indication)
    if referral is not None and referral.patient_id != patient.id:
        raise ValidationError(REFERRAL_OTHER_PATIENT, field="referral", value=str(referral.external_id))
    pv = protocol_version or protocol_for_indication(indication)
    screening_date = screening_date or timezone.localdate()
    trials = trials or []
    facts = _facts(
        patient=patient,
        indication=indication,
        referral=referral,
        screening_date=screening_date,
        substance_use=substance_use,
        contraindications=contraindications or {},
        trials=trials,
    )
    decision = assess_eligibility(facts, pv.parsed)
    screening = Screening(
        patient=patient,
        referral=referral,
        indication=indication,
        protocol_version=pv,
        screening_date=screening_date,
        substance_use=substance_use,
        substance_use_notes=substance_use_notes,
        failed_pain_treatments_notes=failed_pain_treatments_notes,
        contraindication_answers={k: v.value for k, v in facts.contraindications.items()},
        computed_outcome=decision.outcome.value,
        computed_reasons=[{**asdict(r), "outcome": r.outcome.value} for r in decision.reasons],
        created_by=user,
        updated_by=user,
    )
    clean_or_refuse(screening)
    screening.save()
    for t in trials:
        TreatmentTrial.objects.create(
            screening=screening,
            kind=t["kind"],
            name=t["name"],
            dose=t.get("dose", ""),
            weeks=int(t["weeks"]),
            adequate_dose=bool(t.get("adequate_dose", True)),
            outcome_note=t.get("outcome_note", ""),
        )
    if referral is not None and referral.status == Referral.Status.RECEIVED:
        referral.status = Referral.Status.SCREENING
        referral.save(update_fields=["status", "updated_at"])
    audit_record(
        action=AuditEntry.Action.CREATE,
        actor=user,
        patient=patient,
        summary=f"Screened for {screening.get_indication_display()}: {decision.outcome.value} "
        f"({pv.protocol_id} v{pv.version})",
        detail={"screening": str(screening.external_id), "reasons": [r.code for r in decision.reasons]},
    )
    return screening


@transaction.atomic
def screening_sign(
    *, user: User, screening: Screening, outcome: str, note: str = "", diagnosis: str = ""
) -> Screening:
    """A prescriber signs the final decision, with the ICD-10-CM diagnosis when they record one (checked by
    the core against the tabular and the screened indication); afterwards the screening cannot change."""
    # signed_by is read after the lock, never joined: a request that waited for the lock would get the
    # winner's row but PostgreSQL re-checks a joined row against the old version (signed_by NULL).
    screening = (
        Screening.objects.select_for_update(of=("self",))
        .select_related("protocol_version", "patient")
        .get(pk=screening.pk)
    )
    patient_for(user, screening.patient, Permission.SCREENING_SIGN)
    if screening.status == Screening.Status.SIGNED:
        raise ValidationError(
            ALREADY_SIGNED.format(who=screening.signed_by, when=f"{screening.signed_at:%Y-%m-%d %H:%M}"),
            field="status",
            value=screening.status,
        )
    signed = sign_check(decision_of(screening), outcome, note)
    if diagnosis.strip():
        screening.diagnosis = diagnosis_check(diagnosis, screening.indication)
    screening.status, screening.signed_outcome = Screening.Status.SIGNED, signed.value
    screening.signed_by, screening.signed_at, screening.signed_note = user, timezone.now(), note.strip()
    screening.updated_by = user
    screening.save()
    if screening.referral_id:
        Referral.objects.filter(pk=screening.referral_id).update(status=Referral.Status.CLOSED)
    audit_record(
        action=AuditEntry.Action.SIGN,
        actor=user,
        patient=screening.patient,
        summary=f"Signed eligibility: {signed.value} (computed {screening.computed_outcome}, "
        f"{screening.protocol_version})",
        detail={
            "screening": str(screening.external_id),
            "note": screening.signed_note,
            "diagnosis": screening.diagnosis,
        },
    )
    return screening
