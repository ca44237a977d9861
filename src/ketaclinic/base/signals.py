"""Signals by which an app tells the apps above it that something they derive must be redone, in the same
transaction: a receiver runs synchronously, inside the sender's ``transaction.atomic``, so a rolled-back
action leaves nothing stale behind and a committed one nothing out of date.

``due_inputs_changed`` — what is due for these patients may have changed (``patient_ids``), or, with
``indication_settings=True``, the protocol an indication falls back to did. Sent by the plans, screening and
protocols services (they sit below ``outcomes`` and may not call it); ``outcomes`` replaces the patients'
stored questionnaire windows (``outcomes.services.due``)."""

from __future__ import annotations

from django.dispatch import Signal

due_inputs_changed = Signal()

#: Sent by the infusions services inside their transaction, for the apps above (``billing``): a session was
#: checked in (``session``), discharged (a completed session), or cancelled. A receiver may raise the core's
#: ValidationError to refuse the action (billing refuses a check-in beyond a prior authorization).
session_checked_in = Signal()
session_completed = Signal()
session_cancelled = Signal()
#: Sent by the scheduling service before it books (``patient``, ``kind``, ``start``, ``location``); a receiver
#: may raise the core's ValidationError to refuse the booking (billing: outside a prior authorization).
booking_requested = Signal()
#: Sent by the plans services before a planned slot takes a chair (``chair``, ``start``, ``end``, ``label``,
#: ``location``, and ``exclude``: the slot being moved, or None); a receiver may raise the core's
#: ValidationError to refuse it (scheduling: the chair is booked for an appointment then).
slot_chair_requested = Signal()
#: Sent by the scheduling services inside their transaction when an appointment is moved or cancelled
#: (``appointment``, now at its new start or cancelled), for the apps above (``reminders``: a reminder queued
#: for the old time and not yet sent is withdrawn, so a patient is never told to come to a cancelled visit).
#: A cancellation also sends ``user`` and ``cancelled_by`` ("patient" or "clinic"): billing charges a late
#: cancellation by the patient the price list's fee.
appointment_changed = Signal()
#: Asked by the scheduling pages before the desk cancels (``appointment``, ``at``, ``cancelled_by``): each
#: receiver returns a sentence the desk must see first, or None (billing: "a late-cancellation fee applies").
appointment_cancel_notices = Signal()
