"""Reads of the outbox and the opt-outs, shared by pages (a fixed number of queries each)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from ketaclinic.messaging.models import ContactPreference, OutboundMessage, address_masked
from ketaclinic.patients.models import Patient

RECENT = 5  # the last messages a patient's page shows
__all__ = [
    "address_masked",
    "contact_preference_get",
    "email_opted_out",
    "message_for_patient",
    "messages_by_reference",
    "messages_for_patient",
]


def contact_preference_get(patient: Patient) -> ContactPreference:
    """The patient's opt-outs (none recorded: none; the unsaved default is returned)."""
    found = ContactPreference.objects.filter(patient=patient).first()
    return found or ContactPreference(patient=patient)


def messages_for_patient(
    patient: Patient, *, purpose: str | None = None, limit: int = RECENT
) -> list[OutboundMessage]:
    """The patient's latest messages, newest first (one query)."""
    rows = OutboundMessage.objects.filter(patient=patient)
    if purpose:
        rows = rows.filter(purpose=purpose)
    return list(rows.order_by("-created_at", "-id")[:limit])


def messages_by_reference(
    patient_ids: Iterable[int], references: Iterable[str], since: datetime
) -> dict[str, OutboundMessage]:
    """The latest message about each reference (a message may carry several, space-separated), among these
    patients' questionnaire-link messages queued since ``since`` (one query)."""
    wanted = {r for r in references if r}
    out: dict[str, OutboundMessage] = {}
    if not wanted:
        return out
    for message in OutboundMessage.objects.filter(
        patient_id__in=list(patient_ids),
        purpose=OutboundMessage.Purpose.QUESTIONNAIRE_LINK,
        created_at__gte=since,
    ).order_by("created_at", "id"):
        for reference in message.reference.split():
            if reference in wanted:
                out[reference] = message  # the latest wins
    return out


def email_opted_out(patient_ids: Iterable[int]) -> set[int]:
    """Which of these patients opted out of email (one query)."""
    return set(
        ContactPreference.objects.filter(patient_id__in=list(patient_ids), email_opted_out=True).values_list(
            "patient_id", flat=True
        )
    )


def message_for_patient(patient: Patient, external_id: str) -> OutboundMessage | None:
    """One of the patient's messages by its public id (None for anything else)."""
    try:
        wanted = uuid.UUID(external_id)
    except ValueError:
        return None
    return (
        OutboundMessage.objects.filter(patient=patient, external_id=wanted).select_related("patient").first()
    )
