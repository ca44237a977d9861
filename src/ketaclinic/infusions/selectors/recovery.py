"""Reads for recovery and discharge: the readings taken since the stop, severe adverse events not yet
reviewed."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ketaclinic.core.infusion.discharge import UNREVIEWED, TimedReading
from ketaclinic.infusions.models import InfusionSession
from ketaclinic.infusions.selectors.checklist import reading_of


def adverse_events_unreviewed(session: InfusionSession) -> tuple[str, ...]:
    """Severe adverse events of the session no prescriber has reviewed yet, in words (they block
    discharge)."""
    zone = ZoneInfo(session.location.timezone)
    return tuple(
        UNREVIEWED.format(kind=e.get_kind_display().lower(), time=f"{e.at.astimezone(zone):%H:%M}")
        for e in session.adverse_events.filter(needs_review=True, reviewed_at__isnull=True)
    )


def recovery_readings(session: InfusionSession) -> list[TimedReading]:
    """Every reading taken after the infusion stopped, with its time, for the core's discharge evidence."""
    if session.ended_at is None:
        return []
    return [
        TimedReading(v.taken_at, reading_of(v), v.recorded_at)
        for v in session.vitals.filter(taken_at__gt=session.ended_at).order_by("taken_at", "id")
    ]
