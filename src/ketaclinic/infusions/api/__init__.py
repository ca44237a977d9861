"""Infusion session API: thin operations over the services and selectors (same permissions as the pages).

Writes that change a session take ``expected_version`` (the ``version`` last read) and answer 400 with
the "changed meanwhile" message when someone else changed it. ``POST .../vitals`` is idempotent by
``client_id``: the first post answers 201, a retry 200 with the same reading.

The operations are in one module per half of the session, registered on one router in this order (the
order of the paths in the OpenAPI document): ``preparation`` (scheduling, the day board, a patient's
sessions and MAR, check-in, the checklist, the order and the check of the bag) and ``running`` (the pump,
titration, vital signs and alerts, adverse events, medications, discharge, the note and the session's MAR).
"""

from __future__ import annotations

from ketaclinic.infusions.api import preparation, running
from ketaclinic.infusions.api._common import router

__all__ = ["preparation", "router", "running"]
