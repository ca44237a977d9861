"""Reads of the outbox and the opt-outs, shared by pages (a fixed number of queries each)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from ketaclinic.messaging.models import ContactPreference, OutboundMessage, address_masked
from ketaclinic.patients.models import Patient

RECENT = 5  # the last messages a patient's page shows
__all__ = [
    "address_masked",
    "contact_preference_get",
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


def messages_by_reference(references: Iterable[str]) -> dict[str, OutboundMessage]:
    """The latest message about each reference (one query)."""
    out: dict[str, OutboundMessage] = {}
    wanted = [r for r in references if r]
    if not wanted:
        return out
    for message in OutboundMessage.objects.filter(reference__in=wanted).order_by("created_at", "id"):
        out[message.reference] = message
    return out


def message_for_patient(patient: Patient, external_id: str) -> OutboundMessage | None:
    """One of the patient's messages by its public id (None for anything else)."""
    try:
        wanted = uuid.UUID(external_id)
    except ValueError:
        return None
    return (
        OutboundMessage.objects.filter(patient=patient, external_id=wanted).select_related("patient").first()
    )
