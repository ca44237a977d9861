"""Infusion sessions: the day's encounter in a chair or at home, from check-in to a signed note.

Names follow FHIR where one fits (Encounter → ``InfusionSession``, Observation → ``VitalSigns``,
MedicationRequest → ``InfusionOrder``, MedicationAdministration, AdverseEvent). Clinical facts are
append-only (vitals, pump events, administrations) or frozen once signed (orders, notes), by the
services and by database triggers (migration 0002). ``InfusionSession.version`` increases with every
change so two nurses never overwrite each other (optimistic concurrency).

The models live in one module per stage of the session (``session``, ``orders``, ``vitals``,
``medications``, ``discharge``, ``notes``, ``rems``); every model is imported here, so Django finds them and
``ketaclinic.infusions.models`` names them all.
"""

from __future__ import annotations

from ketaclinic.infusions.models.discharge import DischargeAssessment
from ketaclinic.infusions.models.medications import AdverseEvent, MedicationAdministration
from ketaclinic.infusions.models.notes import NoteAddendum, SessionNote
from ketaclinic.infusions.models.orders import InfusionOrder, RateEvent, VialCheck
from ketaclinic.infusions.models.rems import RemsMonitoringForm
from ketaclinic.infusions.models.session import ChecklistItemResponse, InfusionSession
from ketaclinic.infusions.models.vitals import VitalAlert, VitalSigns

__all__ = [
    "AdverseEvent",
    "ChecklistItemResponse",
    "DischargeAssessment",
    "InfusionOrder",
    "InfusionSession",
    "MedicationAdministration",
    "NoteAddendum",
    "RateEvent",
    "RemsMonitoringForm",
    "SessionNote",
    "VialCheck",
    "VitalAlert",
    "VitalSigns",
]
